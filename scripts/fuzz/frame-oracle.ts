/**
 * The properties every frame-stream case must keep (the fuzz oracle of the
 * frame layer). Feeding the bytes to a FrameDecoder (src/rpc/frame-decoder.ts)
 * in one chunk and split at the case's cut points must:
 * - never throw, and end in the same frames and the same result ("ok",
 *   "too_large", "empty" or "stopped") as a plain reference splitter;
 * - never hold more than the frame limit, nor a buffer larger than the
 *   documented 16 KiB piece (or twice the bytes received) for a length
 *   that has not arrived;
 * and reading every frame it yields (frame-fields.ts) must end in a reading
 * or a typed refusal, never another exception. A valid stream must read
 * back exactly what was written. Owns these checks.
 */
import { FrameDecoder } from "../../src/rpc/frame-decoder.ts";
import { CheckingReader } from "./checking-reader.ts";
import type { ExpectedFrame } from "./frame-corpus.ts";
import { type FrameReading, type FrameVocabulary, readFrameBody } from "./frame-fields.ts";
import { describeThrown, type Finding, thrownKind } from "./finding.ts";
import { firstDifference } from "./same-value.ts";

/** FrameDecoder's smallest piece for a split frame: what it may hold ahead of the bytes received. */
const PIECE_BYTES = 16 * 1024;

export interface FrameCase {
  bytes: Uint8Array;
  /** Cut points (ascending offsets) for the split feed. */
  splits: readonly number[];
  limit: number;
  /** The frame handler stops the decoder after this many frames; -1 never. */
  stopAfter: number;
}

interface Outcome {
  frames: string[];
  bodies: Uint8Array[];
  result: string;
  rejectedLength: number;
  buffered: number;
}

const hex = (b: Uint8Array) => Buffer.from(b).toString("hex");

/** Cut points for a message: "none", "every byte", or the list (long ones shortened). */
export function describeCuts(splits: readonly number[], length: number): string {
  if (splits.length === 0) return "none";
  if (length > 2 && splits.length === length - 1 && splits.every((x, i) => x === i + 1)) return "every byte";
  return splits.length <= 12 ? splits.join(",") : `${splits.slice(0, 12).join(",")},... (${splits.length} cuts)`;
}

/** The framing of docs/PROTOCOL.md section 1, written plainly: the reference the decoder is compared with. */
function referenceSplit(bytes: Uint8Array, limit: number, stopAfter: number): Outcome {
  const out: Outcome = { frames: [], bodies: [], result: "ok", rejectedLength: 0, buffered: 0 };
  let off = 0;
  while (off < bytes.length) {
    const left = bytes.length - off;
    if (left < 4) {
      out.buffered = left;
      return out;
    }
    const len = new DataView(bytes.buffer, bytes.byteOffset + off, 4).getUint32(0);
    if (len === 0) return { ...out, result: "empty" };
    if (len > limit) return { ...out, result: "too_large", rejectedLength: len };
    if (left - 4 < len) {
      out.buffered = left - 4;
      return out;
    }
    out.frames.push(hex(bytes.subarray(off + 4, off + 4 + len)));
    off += 4 + len;
    if (out.frames.length === stopAfter) return { ...out, result: "stopped" };
  }
  return out;
}

function chunksOf(bytes: Uint8Array, splits: readonly number[]): Uint8Array[] {
  const chunks: Uint8Array[] = [];
  let from = 0;
  for (const cut of [...splits, bytes.length]) {
    chunks.push(bytes.subarray(from, cut));
    from = cut;
  }
  return chunks;
}

/** Feeds `chunks` to a fresh decoder; returns what came out, or the broken property. */
function feed(chunks: Uint8Array[], limit: number, stopAfter: number): Outcome | Finding {
  const d = new FrameDecoder(limit);
  const out: Outcome = { frames: [], bodies: [], result: "ok", rejectedLength: 0, buffered: 0 };
  let bad: Finding | null = null;
  let received = 0;
  for (const chunk of chunks) {
    received += chunk.length;
    let res: string;
    try {
      res = d.push(chunk, (buf, start, end) => {
        if (!(start >= 0 && start < end && end <= buf.length && end - start <= limit)) bad ??= { property: "frame handler range", detail: `frame [${start}, ${end}) of a ${buf.length}-byte buffer, limit ${limit}` };
        out.frames.push(hex(buf.subarray(start, end)));
        out.bodies.push(buf.slice(start, end));
        if (out.frames.length === stopAfter) d.stop();
      });
    } catch (e) {
      return { property: `FrameDecoder.push threw ${thrownKind(e)}`, detail: describeThrown(e) };
    }
    if (bad !== null) return bad;
    if (out.result === "ok" && res !== "ok") {
      out.result = res;
      out.rejectedLength = res === "too_large" ? d.rejectedLength : 0;
    } else if (out.result !== "ok" && res !== "stopped") {
      return { property: "push after a failure", detail: `push returned ${res} after ${out.result}` };
    }
    // Up to 3 bytes of a length prefix are held whatever the limit; a body never more than the limit.
    if (d.buffered > Math.max(limit, 3)) return { property: "holds more than the limit", detail: `buffered ${d.buffered} bytes, limit ${limit}` };
    // What the decoder has allocated for what it holds (FrameDecoder.heldMemory): never past the
    // frame's limit, never far ahead of the bytes received (a peer that announces 4 MiB and
    // sends 10 bytes must not cost 4 MiB).
    const held = d.heldMemory;
    if (held > Math.max(limit, 3)) return { property: "buffer beyond the frame", detail: `holds ${held} bytes, limit ${limit}` };
    if (held > Math.max(PIECE_BYTES, 2 * d.buffered))
      return { property: "allocates for bytes not received", detail: `holds ${held} bytes for ${d.buffered} buffered (of ${received} received)` };
  }
  out.buffered = out.result === "ok" ? d.buffered : 0;
  return out;
}

function sameOutcome(a: Outcome, b: Outcome): string | null {
  if (a.result !== b.result) return `result ${a.result} vs ${b.result}`;
  if (a.rejectedLength !== b.rejectedLength) return `rejected length ${a.rejectedLength} vs ${b.rejectedLength}`;
  if (a.frames.length !== b.frames.length) return `${a.frames.length} vs ${b.frames.length} frames`;
  for (let i = 0; i < a.frames.length; i++) if (a.frames[i] !== b.frames[i]) return `frame ${i} differs: ${a.frames[i]!.slice(0, 64)} vs ${b.frames[i]!.slice(0, 64)}`;
  if (a.buffered !== b.buffered) return `buffered ${a.buffered} vs ${b.buffered}`;
  return null;
}

/** Reads each body; returns the readings or the broken property. */
function readAll(bodies: Uint8Array[], vocab: FrameVocabulary): FrameReading[] | Finding {
  const r = new CheckingReader();
  const readings: FrameReading[] = [];
  for (let i = 0; i < bodies.length; i++) {
    const body = bodies[i]!;
    let reading: FrameReading;
    try {
      reading = readFrameBody(r, body, 0, body.length, vocab);
    } catch (e) {
      if (r.violation !== null) return { property: "header length past the input", detail: `frame ${i}: ${r.violation.message}` };
      return { property: `frame reader threw ${thrownKind(e)}`, detail: `frame ${i}: ${describeThrown(e)}` };
    }
    if (r.violation !== null) return { property: "header length past the input", detail: `frame ${i}: ${r.violation.message}` };
    if (reading.foreign !== undefined) return { property: `frame reader threw ${thrownKind(reading.foreign)} (wrapped in a DecodeError)`, detail: `frame ${i}: ${describeThrown(reading.foreign)}` };
    readings.push(reading);
  }
  return readings;
}

/** Checks one frame-stream case; null when every property holds. `tally` hears the decoder's result and each frame's reading. */
export function checkFrameCase(c: FrameCase, vocab: FrameVocabulary, tally?: (outcome: string) => void): Finding | null {
  const reference = referenceSplit(c.bytes, c.limit, c.stopAfter);
  const whole = feed([c.bytes], c.limit, c.stopAfter);
  if (!("frames" in whole)) return whole;
  const wrong = sameOutcome(reference, whole);
  if (wrong !== null) return { property: "decoder disagrees with the reference framing", detail: `one chunk: ${wrong}` };
  const split = feed(chunksOf(c.bytes, c.splits), c.limit, c.stopAfter);
  if (!("frames" in split)) return split;
  const differs = sameOutcome(whole, split);
  if (differs !== null) return { property: "split feed differs from one chunk", detail: `cuts at ${describeCuts(c.splits, c.bytes.length)}: ${differs}` };
  const readings = readAll(whole.bodies, vocab);
  if ("property" in readings) return readings;
  tally?.(`frames: decoder ${whole.result}`);
  for (const r of readings) tally?.(r.outcome === "ok" ? "frames: frame read" : "frames: frame refused");
  return null;
}

/** A valid stream (no limit hit, nothing stopped) must frame and read back exactly as written. */
export function checkValidStream(bytes: Uint8Array, expected: readonly ExpectedFrame[], vocab: FrameVocabulary): Finding | null {
  const run = feed([bytes], 64 * 1024 * 1024, -1);
  if (!("frames" in run)) return run;
  if (run.result !== "ok" || run.buffered !== 0 || run.frames.length !== expected.length)
    return { property: "valid stream does not frame", detail: `result ${run.result}, ${run.frames.length} of ${expected.length} frames, ${run.buffered} bytes left over` };
  const readings = readAll(run.bodies, vocab);
  if ("property" in readings) return readings;
  for (let i = 0; i < expected.length; i++) {
    const want = expected[i]!;
    const got = readings[i]!;
    if (got.outcome !== "ok" || got.type !== want.type || got.id !== want.id || got.count !== want.count)
      return { property: "valid frame does not read back", detail: `frame ${i}: wrote type ${want.type} id ${want.id} count ${want.count}, read type ${got.type} id ${got.id} count ${got.count}: ${got.outcome}` };
    if (want.value === undefined) continue;
    const gotValue = want.errorFields === undefined ? got.value : Object.fromEntries(want.errorFields.map((k) => [k, (got.value as Record<string, unknown> | undefined)?.[k]]));
    const diff = firstDifference(want.value, gotValue);
    if (diff !== null) return { property: "valid frame's message does not round-trip", detail: `frame ${i} (type ${want.type}): ${diff}` };
  }
  return null;
}
