/**
 * Runs a range of cases of one seed and collects the outcome: cases run per
 * target, and each distinct failure (target, stage, property) once, with
 * its input shrunk; a case slower than SLOW_CASE_MS is a failure too.
 * Reports progress through a callback (the watchdog's heartbeat). Owns the
 * loop over cases; no I/O.
 */
import { type CaseFailure, checkInput, encodeOrEmpty, type FuzzCase, generateCase, runCase, targetName } from "./cases.ts";
import { minimise } from "./minimise.ts";
import { type FailureReport, failureKey, toReport } from "./report.ts";

/** A case slower than this is a finding (nothing here should take more than milliseconds). */
const SLOW_CASE_MS = 2000;

export interface BatchResult {
  cases: number;
  perTarget: Record<string, number>;
  /** How the mutated inputs went ("codec: decoded", "frames: decoder too_large", ...): proof both paths run. */
  outcomes: Record<string, number>;
  failures: FailureReport[];
}

/** Shrinks the input of a failing case, keeping the same broken property. */
function shrink(c: FuzzCase, f: CaseFailure): { input: Uint8Array; minimised: Uint8Array; splits: number[] } {
  if (f.stage === "whole case") return { input: c.input, minimised: c.input, splits: c.kind === "frames" ? c.splits : [] };
  if (f.stage === "valid input") {
    const valid = c.kind === "frames" ? c.stream.bytes : encodeOrEmpty(c.target, c.value);
    return { input: valid, minimised: valid, splits: [] };
  }
  const splits = c.kind === "frames" ? c.splits : [];
  const minimised = minimise(c.input, (candidate) => {
    try {
      return checkInput(c, candidate)?.property === f.property;
    } catch {
      // An oracle that itself throws on a candidate is not the same failure: keep the larger input.
      return false;
    }
  });
  return { input: c.input, minimised, splits: splits.filter((x) => x > 0 && x < minimised.length) };
}

/**
 * Runs cases [from, from + count) of `seed`. `known` holds the failure keys
 * already reported (by earlier batches); a failure seen again is counted but
 * not shrunk or reported twice.
 */
export function runBatch(seed: number, from: number, count: number, known: Set<string>, onCase?: (index: number) => void): BatchResult {
  const out: BatchResult = { cases: 0, perTarget: {}, outcomes: {}, failures: [] };
  const tally = (o: string) => {
    out.outcomes[o] = (out.outcomes[o] ?? 0) + 1;
  };
  for (let index = from; index < from + count; index++) {
    onCase?.(index);
    const c = generateCase(seed, index);
    const name = targetName(c);
    out.perTarget[name] = (out.perTarget[name] ?? 0) + 1;
    out.cases++;
    const t0 = performance.now();
    let f = runCase(c, tally);
    const ms = performance.now() - t0;
    // A case takes well under 10 ms; one that takes seconds decodes something it should refuse at once.
    if (f === null && ms > SLOW_CASE_MS) f = { property: `slow case (over ${SLOW_CASE_MS} ms)`, detail: `took ${Math.round(ms)} ms`, stage: "whole case" };
    if (f === null) continue;
    const key = failureKey({ target: name, stage: f.stage, property: f.property });
    if (known.has(key)) continue;
    known.add(key);
    const s = shrink(c, f);
    out.failures.push(toReport(c, f, s.input, s.minimised, s.splits));
  }
  return out;
}
