/**
 * Replays what a fuzz report names: one case from (seed, index), or a raw
 * input (the shrunk hex of a report) through the oracle of a named target
 * with the frame limit, stop and cut points given. Owns replay; the
 * oracles decide.
 */
import { type CaseFailure, FRAMES, type FuzzCase, frameVocabulary, generateCase, runCase } from "./cases.ts";
import { checkCodecInput } from "./codec-oracle.ts";
import { codecTargets } from "./codec-targets.ts";
import { checkFrameCase } from "./frame-oracle.ts";
import type { Finding } from "./finding.ts";

export interface RawReplay {
  target: string;
  bytes: Uint8Array;
  /** Frames only. */
  limit: number;
  stopAfter: number;
  splits: number[];
}

export function replayCase(seed: number, index: number): { c: FuzzCase; failure: CaseFailure | null } {
  const c = generateCase(seed, index);
  return { c, failure: runCase(c) };
}

export function replayRaw(r: RawReplay): Finding | null {
  if (r.target === FRAMES) {
    const splits = r.splits.filter((x) => x > 0 && x < r.bytes.length).sort((a, b) => a - b);
    return checkFrameCase({ bytes: r.bytes, splits, limit: r.limit, stopAfter: r.stopAfter }, frameVocabulary());
  }
  const t = codecTargets().find((x) => x.name === r.target);
  if (t === undefined) throw new Error(`unknown target ${r.target}: use ${FRAMES} or one of ${codecTargets().map((x) => x.name).join(", ")}`);
  return checkCodecInput(t, r.bytes);
}
