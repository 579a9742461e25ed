/**
 * One fuzz case, from (seed, index) alone: which target it hits (the frame
 * layer or one generated codec), the valid input it starts from, the
 * mutations applied, and for frames the limit, the cut points and when the
 * handler stops the decoder. runCase checks the valid input first (it must
 * round-trip: this catches a broken generator) and then the mutated one.
 * Owns case generation and dispatch to the oracles.
 */
import { MsgWriter } from "../../src/codec/writer.ts";
import type { ErrorType, MethodDescriptor } from "../../src/rpc/descriptor.ts";
import { DEFAULT_LIMITS } from "../../src/rpc/protocol.ts";
import { checkCodecInput, checkCodecValue } from "./codec-oracle.ts";
import { type CodecTarget, codecTargets, errorTargets, fuzzMethods } from "./codec-targets.ts";
import { randomFrameStream, type FrameStream } from "./frame-corpus.ts";
import type { FrameVocabulary } from "./frame-fields.ts";
import { checkFrameCase, checkValidStream } from "./frame-oracle.ts";
import type { Finding } from "./finding.ts";
import { mutate, splitPoints } from "./mutators.ts";
import { caseSeed, Rand } from "./prng.ts";

/** The name of the frame-layer target (codec targets are named by their IDL type). */
export const FRAMES = "frames";

export interface CodecCase {
  kind: "codec";
  seed: number;
  index: number;
  target: CodecTarget;
  value: unknown;
  input: Uint8Array;
  ops: string[];
}

export interface FramesCase {
  kind: "frames";
  seed: number;
  index: number;
  stream: FrameStream;
  input: Uint8Array;
  ops: string[];
  splits: number[];
  limit: number;
  stopAfter: number;
}

export type FuzzCase = CodecCase | FramesCase;

/**
 * What went wrong in a case: the finding, and where: the valid input
 * (before mutation: a broken generator or encoder), the mutated input, or
 * the case as a whole (it hung or crashed the fuzzer, so which half is not known).
 */
export interface CaseFailure extends Finding {
  stage: "valid input" | "mutated input" | "whole case";
}

let vocab: FrameVocabulary | null = null;

/** Every method path and typed error the frame reader knows (the three IDLs'). */
export function frameVocabulary(): FrameVocabulary {
  if (vocab === null) {
    const methods = new Map<string, MethodDescriptor>(fuzzMethods().map((m) => [m.method.path, m.method]));
    const errors = new Map<string, ErrorType>();
    for (const t of errorTargets()) if (t.errorType !== null) errors.set(t.errorType.code, t.errorType);
    vocab = { methods, errors };
  }
  return vocab;
}

/** The target name of case `index` of run `seed` (for counting cases per target). */
export function targetName(c: FuzzCase): string {
  return c.kind === "frames" ? FRAMES : c.target.name;
}

function framesCase(rand: Rand, seed: number, index: number): FramesCase {
  const stream = randomFrameStream(rand);
  const other = randomFrameStream(rand).bytes;
  let longest = 0;
  for (let i = 0; i < stream.lengthFields.length; i++) {
    const at = stream.lengthFields[i]!;
    const end = i + 1 < stream.lengthFields.length ? stream.lengthFields[i + 1]! : stream.bytes.length;
    longest = Math.max(longest, end - at - 4);
  }
  const limit = rand.pick([DEFAULT_LIMITS.maxFrameBytes, 70_000, 1024, 64, longest, Math.max(1, longest - 1)]);
  const { bytes, ops } = mutate(rand, stream.bytes, { lengthFields: stream.lengthFields, other, limit });
  return { kind: "frames", seed, index, stream, input: bytes, ops, splits: splitPoints(rand, bytes.length), limit, stopAfter: rand.chance(0.2) ? rand.int(1, 3) : -1 };
}

/** The encoding of a valid value, or an empty input when the encoder throws (runCase then reports it). */
export function encodeOrEmpty(target: CodecTarget, v: unknown): Uint8Array {
  const w = new MsgWriter(256);
  try {
    target.encode(w, v);
  } catch {
    // checkCodecValue reports this value when the case runs; there is nothing to mutate.
    return new Uint8Array(0);
  }
  return w.bytes().slice();
}

function codecCase(rand: Rand, seed: number, index: number, target: CodecTarget): CodecCase {
  const value = target.random(rand);
  const valid = encodeOrEmpty(target, value);
  const other = encodeOrEmpty(target, target.random(rand));
  const { bytes, ops } = mutate(rand, valid, { lengthFields: [], other, limit: 0 });
  return { kind: "codec", seed, index, target, value, input: bytes, ops };
}

/** Case `index` of run `seed`: the same case every time. */
export function generateCase(seed: number, index: number): FuzzCase {
  const rand = new Rand(caseSeed(seed, index));
  if (index % 4 === 0) return framesCase(rand, seed, index);
  return codecCase(rand, seed, index, rand.pick(codecTargets()));
}

/** Runs the oracle of `c` on `input` (the case's own input, or a shrunk one; frame cuts past its end are dropped). */
export function checkInput(c: FuzzCase, input: Uint8Array, tally?: (outcome: string) => void): Finding | null {
  if (c.kind === "codec") return checkCodecInput(c.target, input, tally);
  const cuts = c.splits.filter((x) => x > 0 && x < input.length);
  return checkFrameCase({ bytes: input, splits: cuts, limit: c.limit, stopAfter: c.stopAfter }, frameVocabulary(), tally);
}

/** Checks the valid input of `c` (frames: framed and read back exactly), then its mutated input. */
export function runCase(c: FuzzCase, tally?: (outcome: string) => void): CaseFailure | null {
  const valid = c.kind === "frames" ? checkValidStream(c.stream.bytes, c.stream.expected, frameVocabulary()) : checkCodecValue(c.target, c.value);
  if (valid !== null && "property" in valid) return { ...valid, stage: "valid input" };
  const f = checkInput(c, c.input, tally);
  return f === null ? null : { ...f, stage: "mutated input" };
}
