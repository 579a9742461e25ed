/**
 * A failing case as plain data (it crosses the Worker boundary) and as the
 * text a developer reads: seed, case index, target, the broken property,
 * the mutations, the input and its shrunk form as hex dumps, and the two
 * commands that replay it. Owns the report's shape and its text.
 */
import { type CaseFailure, FRAMES, type FuzzCase, targetName } from "./cases.ts";
import { describeCuts } from "./frame-oracle.ts";
import { hexDump, hexLine } from "./hexdump.ts";

export interface FailureReport {
  seed: number;
  index: number;
  target: string;
  stage: CaseFailure["stage"];
  property: string;
  detail: string;
  ops: string[];
  /** The input that failed (for a valid-input failure: the valid stream or the value's encoding), as hex. */
  input: string;
  /** Codec valid-input failures: the generated value that broke, printed. */
  value?: string;
  /** The shrunk input that still fails the same way, as hex. */
  minimised: string;
  /** Frames only: the feed's cut points (within the shrunk input), the limit and the stop. */
  splits: number[];
  limit: number;
  stopAfter: number;
}

/** Groups failures in a long run: the same property of the same target is one distinct failure. */
export function failureKey(r: Pick<FailureReport, "target" | "stage" | "property">): string {
  return `${r.target} | ${r.stage} | ${r.property}`;
}

/** A printable form of a decoded IDL value (bigints, bytes, Maps and Dates included). */
export function printValue(v: unknown): string {
  return JSON.stringify(v, (_, x: unknown) => {
    if (typeof x === "bigint") return `${x}n`;
    if (x instanceof Uint8Array) return `bytes ${Buffer.from(x).toString("hex")}`;
    if (x instanceof Map) return { Map: [...x.entries()] };
    if (typeof x === "number" && !Number.isFinite(x)) return String(x);
    return x;
  });
}

export function toReport(c: FuzzCase, f: CaseFailure, input: Uint8Array, minimised: Uint8Array, splits: number[]): FailureReport {
  return {
    ...(c.kind === "codec" && f.stage === "valid input" ? { value: printValue(c.value) } : {}),
    seed: c.seed,
    index: c.index,
    target: targetName(c),
    stage: f.stage,
    property: f.property,
    detail: f.detail,
    ops: c.ops,
    input: hexLine(input),
    minimised: hexLine(minimised),
    splits,
    limit: c.kind === "frames" ? c.limit : 0,
    stopAfter: c.kind === "frames" ? c.stopAfter : -1,
  };
}

/** The command that re-runs exactly this input through its oracle. */
export function replayCommand(r: FailureReport): string {
  const frames = r.target === FRAMES ? ` --limit ${r.limit} --stop ${r.stopAfter}${r.splits.length > 0 ? ` --splits ${r.splits.join(",")}` : ""}` : "";
  return `npm run fuzz -- --target ${r.target} --hex ${r.minimised}${frames}`;
}

export function formatReport(r: FailureReport): string {
  const bytes = (h: string) => Uint8Array.from(Buffer.from(h, "hex"));
  return [
    `FAIL ${r.target}: ${r.property} (${r.stage})`,
    `  ${r.detail}`,
    `  seed ${r.seed}, case ${r.index}; mutations: ${r.ops.join(", ") || "none"}`,
    ...(r.target === FRAMES ? [`  frame limit ${r.limit}, stop after ${r.stopAfter}, cuts ${describeCuts(r.splits, r.minimised.length / 2)} (in the minimised input)`] : []),
    ...(r.value === undefined ? [] : [`  value: ${r.value}`]),
    `  input (${r.input.length / 2} bytes):`,
    hexDump(bytes(r.input), "    "),
    `  minimised (${r.minimised.length / 2} bytes):`,
    hexDump(bytes(r.minimised), "    "),
    `  replay the case:  npm run fuzz -- --seed ${r.seed} --case ${r.index}`,
    `  replay the input: ${replayCommand(r)}`,
  ].join("\n");
}
