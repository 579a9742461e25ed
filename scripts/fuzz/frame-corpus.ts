/**
 * Valid frame streams to start mutating from: one to four frames of random
 * types (every frame type of docs/PROTOCOL.md section 1), written by the
 * library's own frame writers (src/rpc/frames.ts) around random values of
 * the three IDLs' messages and errors. Each stream comes with where its
 * length prefixes are and what reading each frame must give back. Owns
 * building valid streams; it never mutates them.
 */
import { MsgWriter } from "../../src/codec/writer.ts";
import type { Metadata } from "../../src/rpc/descriptor.ts";
import { writeGoAway, writeHeaders, writeHello, writeIdOnly, writeMessage, writePing, writeRequest, writeResponse, writeStatus, writeWindow } from "../../src/rpc/frames.ts";
import { requestKindFlags, streamsRequests } from "../../src/rpc/method-kind.ts";
import { END_STREAM, FrameType } from "../../src/rpc/protocol.ts";
import { RpcError, Status } from "../../src/rpc/status.ts";
import { errorTargets, fuzzMethods } from "./codec-targets.ts";
import type { Rand } from "./prng.ts";

/** What reading one frame of a valid stream must give. */
export interface ExpectedFrame {
  type: number;
  id: number;
  count: number;
  /** REQUEST: the inline message; STATUS: the typed error's fields (compared through the target's view). */
  value?: unknown;
  /** Names the field names of `value` when it is a typed error (the reading is an error object). */
  errorFields?: readonly string[];
}

export interface FrameStream {
  bytes: Uint8Array;
  /** Offsets of the u32 length prefixes. */
  lengthFields: number[];
  expected: ExpectedFrame[];
}

/** Big enough for any frame the corpus writes. */
const NO_LIMIT = 64 * 1024 * 1024;
const KEY_CHARS = "abcdefghijklmnopqrstuvwxyz0123456789._-";

function metadata(rand: Rand): Metadata | undefined {
  if (rand.chance(0.5)) return undefined;
  const md: Metadata = {};
  const n = rand.int(1, 3);
  for (let i = 0; i < n; i++) {
    let key = "";
    for (let k = rand.int(1, 12); k > 0; k--) key += KEY_CHARS[rand.below(KEY_CHARS.length)];
    md[key] = rand.chance(0.7) ? "v".repeat(rand.int(0, 20)) : rand.bytes(rand.int(0, 8));
  }
  return md;
}

function callId(rand: Rand): number {
  return rand.pick([1, 2, 127, 128, 65535, 65536, 0xffffffff, rand.int(1, 0xffffffff)]);
}

/** Writes one random frame into `w` and says what reading it must give. */
function writeRandomFrame(rand: Rand, w: MsgWriter): ExpectedFrame {
  const type = rand.int(FrameType.HELLO, FrameType.GOAWAY);
  const id = type === FrameType.HELLO || type >= FrameType.PING ? 0 : callId(rand);
  switch (type) {
    case FrameType.HELLO:
      writeHello(w, { maxFrameBytes: rand.int(1024, 0x7fffffff), maxConcurrentCalls: rand.int(1, 100000), initialWindow: rand.int(1, 1 << 20), maxMetadataBytes: rand.int(0, 1 << 20) });
      return { type, id, count: 7 };
    case FrameType.REQUEST: {
      const m = rand.pick(fuzzMethods());
      const timeout = rand.chance(0.5) ? undefined : rand.int(0, 0x7fffffff);
      const kind = requestKindFlags(m.method.kind);
      if (streamsRequests(m.method.kind)) {
        writeRequest(w, id, m.method.path, timeout, metadata(rand), kind, null, undefined, NO_LIMIT);
        return { type, id, count: 6 };
      }
      const req = m.request(rand);
      writeRequest(w, id, m.method.path, timeout, metadata(rand), kind | END_STREAM, m.method.input, req, NO_LIMIT);
      return { type, id, count: 7, value: req };
    }
    case FrameType.MESSAGE: {
      const m = rand.pick(fuzzMethods());
      writeMessage(w, id, rand.int(0, 1), m.method.input, m.request(rand), NO_LIMIT);
      return { type, id, count: 4 };
    }
    case FrameType.RESPONSE: {
      const m = rand.pick(fuzzMethods());
      writeResponse(w, id, m.method.output, m.response(rand), NO_LIMIT);
      return { type, id, count: 3 };
    }
    case FrameType.HEADERS:
      writeHeaders(w, id, metadata(rand) ?? { "x-a": "b" });
      return { type, id, count: 3 };
    case FrameType.STATUS: {
      if (rand.chance(0.5)) {
        writeStatus(w, id, rand.int(0, 16), rand.pick(["", "no such key", "é".repeat(40)]), metadata(rand), null, null);
        return { type, id, count: 7 };
      }
      const t = rand.pick(errorTargets());
      const fields = t.random(rand) as Record<string, unknown>;
      const err = Object.assign(new RpcError(Status.NOT_FOUND, "typed"), fields);
      writeStatus(w, id, Status.NOT_FOUND, "typed", metadata(rand), t.errorType, err);
      return { type, id, count: 7, value: fields, errorFields: Object.keys(fields) };
    }
    case FrameType.WINDOW:
      writeWindow(w, id, rand.pick([1, 32, 64, 0x7fffffff, rand.int(1, 1000)]));
      return { type, id, count: 3 };
    case FrameType.PING:
    case FrameType.PONG:
      writePing(w, type, rand.pick([0, 7, -1, 2 ** 53 - 1, rand.int(0, 0xffffffff)]));
      return { type, id, count: 3 };
    case FrameType.GOAWAY:
      writeGoAway(w, rand.int(0, 0xffffffff), rand.int(0, 9), rand.pick(["", "server shutting down", "x".repeat(250)]));
      return { type, id, count: 5 };
    default:
      // HALF_CLOSE and CANCEL.
      writeIdOnly(w, type, id);
      return { type, id, count: 2 };
  }
}

/** A valid stream of 1-4 random frames. */
export function randomFrameStream(rand: Rand): FrameStream {
  const w = new MsgWriter(256);
  const lengthFields: number[] = [];
  const expected: ExpectedFrame[] = [];
  const n = rand.pick([1, 1, 2, 3, 4]);
  for (let i = 0; i < n; i++) {
    lengthFields.push(w.pos);
    expected.push(writeRandomFrame(rand, w));
  }
  return { bytes: w.bytes().slice(), lengthFields, expected };
}
