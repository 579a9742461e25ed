/**
 * Reads one frame body field by field as docs/PROTOCOL.md section 3 lays it
 * out, with the library's own readers: readFrameHead, readOptionalInt/Str,
 * readMetadata, MethodPathCache (the server's REQUEST path check),
 * decodeInput (the server's decode-and-validate of an inline request) and
 * the generated ErrorTypes (typed STATUS fields). It returns what it read or
 * the typed reason it stopped; whatever else one of those readers throws
 * propagates, for the oracle to report. Owns the frame layouts as the fuzz
 * oracle sees them; it decides nothing about connections.
 */
import { DecodeError } from "../../src/codec/errors.ts";
import type { MsgReader } from "../../src/codec/reader.ts";
import type { ErrorType, MethodDescriptor } from "../../src/rpc/descriptor.ts";
import { type FrameHead, readFrameHead, readOptionalInt, readOptionalStr, skipRest } from "../../src/rpc/frames.ts";
import { MetadataError, readMetadata } from "../../src/rpc/metadata.ts";
import { MethodPathCache } from "../../src/rpc/method-path-cache.ts";
import { DEFAULT_LIMITS, FrameType } from "../../src/rpc/protocol.ts";
import { decodeInput, InvalidInput } from "../../src/rpc/server-call.ts";

export interface FrameReading {
  type: number;
  id: number;
  count: number;
  /** "ok", or why the frame (or its call) is refused: a typed outcome, never a crash. */
  outcome: string;
  /** REQUEST: the decoded inline message; STATUS: the decoded typed error. */
  value?: unknown;
  /** A non-DecodeError that a DecodeError wrapped on its way out (DecodeError.at keeps it as `cause`). */
  foreign?: unknown;
}

export interface FrameVocabulary {
  methods: ReadonlyMap<string, MethodDescriptor>;
  errors: ReadonlyMap<string, ErrorType>;
}

/** Minimum element counts of the known frame types (PROTOCOL.md sections 2-3). */
const MIN_COUNT: Record<number, number> = {
  [FrameType.HELLO]: 7,
  [FrameType.REQUEST]: 6,
  [FrameType.MESSAGE]: 4,
  [FrameType.HALF_CLOSE]: 2,
  [FrameType.RESPONSE]: 3,
  [FrameType.HEADERS]: 3,
  [FrameType.STATUS]: 4,
  [FrameType.CANCEL]: 2,
  [FrameType.WINDOW]: 3,
  [FrameType.PING]: 3,
  [FrameType.PONG]: 3,
  [FrameType.GOAWAY]: 5,
};

/** True for the errors a frame reader may throw on bad input. */
export function isTypedReadError(e: unknown): e is DecodeError | MetadataError {
  return (e instanceof DecodeError && e.name === "DecodeError" && e.code === "DECODE_ERROR") || (e instanceof MetadataError && e.name === "MetadataError");
}

/** Reads the fields after the head; returns how many elements it read (head included), or a refusal. */
function readFields(r: MsgReader, h: FrameHead, end: number, vocab: FrameVocabulary, out: FrameReading, paths: MethodPathCache<MethodDescriptor>): number | string {
  switch (h.type) {
    case FrameType.HELLO:
      for (let i = 0; i < 5; i++) r.int();
      return 7;
    case FrameType.REQUEST: {
      const pathStart = r.strSpan();
      if (!paths.resolve(r, pathStart, r.pos, { lookup: (p) => vocab.methods.get(p) })) return "REQUEST path is not valid UTF-8";
      readOptionalInt(r);
      let mdProblem = "";
      try {
        readMetadata(r, DEFAULT_LIMITS.maxMetadataBytes);
      } catch (e) {
        if (!(e instanceof MetadataError)) throw e;
        mdProblem = `metadata refused (${e.kind})`;
      }
      r.int();
      if (mdProblem !== "") return mdProblem;
      if (h.count < 7) return 6;
      const m = paths.value;
      if (m === undefined) {
        r.skip();
        return 7;
      }
      const v = decodeInput(m, r, h.count === 7 ? end : -1, true);
      if (v instanceof InvalidInput) return `INVALID_ARGUMENT ${v.message}`;
      out.value = v;
      return 7;
    }
    case FrameType.MESSAGE:
      r.int();
      r.skip();
      return 4;
    case FrameType.RESPONSE:
      r.skip();
      return 3;
    case FrameType.HEADERS:
      readMetadata(r, Number.MAX_SAFE_INTEGER);
      return 3;
    case FrameType.STATUS: {
      r.int();
      r.str();
      if (h.count > 4) readMetadata(r, Number.MAX_SAFE_INTEGER);
      const code = h.count > 5 ? readOptionalStr(r) : undefined;
      if (h.count <= 6) return h.count;
      const et = code === undefined ? undefined : vocab.errors.get(code);
      if (et === undefined) r.skip();
      else out.value = et.decode(r, "status");
      return 7;
    }
    case FrameType.WINDOW:
    case FrameType.PING:
    case FrameType.PONG:
      r.int();
      return 3;
    case FrameType.GOAWAY:
      r.int();
      r.int();
      r.str();
      return 5;
    default:
      return 2;
  }
}

/**
 * Reads buf[start, end) as one frame body. Returns the reading (outcome "ok"
 * or a typed refusal); throws only what the library's readers throw that is
 * not a DecodeError or MetadataError.
 */
export function readFrameBody(r: MsgReader, buf: Uint8Array, start: number, end: number, vocab: FrameVocabulary): FrameReading {
  r.reset(buf, start, end);
  const head: FrameHead = { count: 0, type: 0, id: 0 };
  const out: FrameReading = { type: -1, id: -1, count: -1, outcome: "ok" };
  try {
    readFrameHead(r, head);
    out.type = head.type;
    out.id = head.id;
    out.count = head.count;
    const min = MIN_COUNT[head.type];
    if (min !== undefined && head.count < min) {
      out.outcome = `${head.count} elements, needs ${min}`;
      return out;
    }
    const read = readFields(r, head, end, vocab, out, new MethodPathCache());
    if (typeof read === "string") {
      out.outcome = read;
      return out;
    }
    skipRest(r, head.count, read);
    if (r.pos !== end) out.outcome = `${end - r.pos} bytes after the frame array`;
  } catch (e) {
    if (!isTypedReadError(e)) throw e;
    out.outcome = `${e.name}: ${e.message}`;
    if (e.cause !== undefined && !(e.cause instanceof DecodeError)) out.foreign = e.cause;
  }
  return out;
}
