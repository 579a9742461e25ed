/**
 * Encoders for every frame of docs/PROTOCOL.md, writing the u32 length prefix
 * and the msgpack body into a connection's MsgWriter, plus the shared reader
 * for a frame's head. A frame whose encoding throws or outgrows the peer's
 * limit is rolled back (the writer is left as it was) before the error
 * propagates, so one bad message never corrupts the output stream. The limit
 * is enforced while the body is encoded (MsgWriter.limit), so a message far
 * over it fails before it is copied, not after.
 */
import { DecodeError, EncodeLimitError } from "../codec/errors.ts";
import { peerText } from "../codec/peer-text.ts";
import type { MsgReader } from "../codec/reader.ts";
import type { MsgWriter } from "../codec/writer.ts";
import type { ErrorType, Metadata, MessageType } from "./descriptor.ts";
import { type Compression, COMPRESSION_SHIFT, type MessageCompressor } from "./compression.ts";
import { hasExtensions, writeHelloExtensions } from "./hello-extensions.ts";
import { compressedBody, compressInPlace } from "./message-compression.ts";
import { writeMetadata } from "./metadata.ts";
import type { MetadataMap } from "./metadata-map.ts";
import { FrameType, PROTOCOL_VERSION, type PeerLimits } from "./protocol.ts";
import { RpcError, Status } from "./status.ts";

/** A GOAWAY message is cut to this many characters (and made printable) before it is sent. */
const GOAWAY_MESSAGE_MAX_CHARS = 200;

/** The frame's length prefix (reserved: its offset is returned) and [type, id, ...] head; ids are u32, types and field counts small. */
function begin(w: MsgWriter, fields: number, type: number, id: number): number {
  return w.frameStart(fields, type, id);
}

/** MsgWriter asks for up to this many bytes more than a value takes (an int reserves 9): the limit's slack, so a body that fits never trips it. */
const LIMIT_SLACK = 16;

/** Bounds the writer for a body that starts after the prefix at `off` (lifted again by finish or bodyFailed). */
function limitBody(w: MsgWriter, off: number, maxBody: number): void {
  w.limit = off + 4 + maxBody + LIMIT_SLACK;
}

/** Rolls the writer back to `off` and returns the error to throw: an encoding over the limit becomes RESOURCE_EXHAUSTED. */
function bodyFailed(w: MsgWriter, off: number, maxBody: number, e: unknown): unknown {
  w.pos = off;
  w.limit = Infinity;
  if (!(e instanceof EncodeLimitError)) return e;
  return new RpcError(Status.RESOURCE_EXHAUSTED, `frame of more than ${e.wanted - off - 4 - LIMIT_SLACK} bytes is over the peer's limit of ${maxBody} bytes`);
}

function finish(w: MsgWriter, off: number, maxBody: number): void {
  w.limit = Infinity;
  const len = w.pos - off - 4;
  if (len > maxBody) {
    w.pos = off;
    throw new RpcError(Status.RESOURCE_EXHAUSTED, `frame of ${len} bytes is over the peer's limit of ${maxBody} bytes`);
  }
  w.setU32BE(off, len);
}

function end(w: MsgWriter, off: number): void {
  w.setU32BE(off, w.pos - off - 4);
}

/**
 * HELLO: version 1's 7 elements, and the extensions map (hello-extensions.ts)
 * only when there is something to announce: compression, or that this side
 * reads several values per metadata key.
 */
export function writeHello(w: MsgWriter, limits: PeerLimits, compression: Compression | null = null, multiValuedMetadata = false): void {
  const offer = { compression, multiValuedMetadata };
  const extended = hasExtensions(offer);
  const off = begin(w, extended ? 8 : 7, FrameType.HELLO, 0);
  w.int(PROTOCOL_VERSION);
  w.int(limits.maxFrameBytes);
  w.int(limits.maxConcurrentCalls);
  w.int(limits.initialWindow);
  w.int(limits.maxMetadataBytes);
  if (extended) writeHelloExtensions(w, offer);
  end(w, off);
}

export function writeRequest<I>(
  w: MsgWriter,
  id: number,
  path: string,
  timeoutMs: number | undefined,
  md: Metadata | undefined,
  flags: number,
  type: MessageType<I> | null,
  msg: I | undefined,
  maxBody: number,
  /** Compresses the inline message when it is large enough (null: never). */
  comp: MessageCompressor | null = null,
): void {
  const off = begin(w, type === null ? 6 : 7, FrameType.REQUEST, id);
  limitBody(w, off, maxBody);
  try {
    w.str(path);
    if (timeoutMs === undefined) w.nil();
    else w.int(timeoutMs);
    writeMetadata(w, md);
    const flagsAt = w.pos;
    w.int(flags);
    if (type !== null) {
      const msgStart = w.pos;
      type.encode(w, msg as I);
      if (comp !== null && w.pos - msgStart >= comp.minBytes) compressInPlace(w, flagsAt, msgStart, comp);
    }
  } catch (e) {
    throw bodyFailed(w, off, maxBody, e);
  }
  finish(w, off, maxBody);
}

export function writeMessage<T>(w: MsgWriter, id: number, flags: number, type: MessageType<T>, msg: T, maxBody: number, comp: MessageCompressor | null = null): void {
  const off = begin(w, 4, FrameType.MESSAGE, id);
  limitBody(w, off, maxBody);
  try {
    const flagsAt = w.pos;
    w.int(flags);
    const msgStart = w.pos;
    type.encode(w, msg);
    if (comp !== null && w.pos - msgStart >= comp.minBytes) compressInPlace(w, flagsAt, msgStart, comp);
  } catch (e) {
    throw bodyFailed(w, off, maxBody, e);
  }
  finish(w, off, maxBody);
}

/**
 * RESPONSE; with a compressor, a response of at least its minBytes that
 * compresses well goes as MESSAGE (compressed) + STATUS OK instead, since
 * RESPONSE has no flags (docs/PROTOCOL.md, "Compressed messages").
 */
export function writeResponse<T>(w: MsgWriter, id: number, type: MessageType<T>, msg: T, maxBody: number, comp: MessageCompressor | null = null): void {
  const off = begin(w, 3, FrameType.RESPONSE, id);
  limitBody(w, off, maxBody);
  const msgStart = w.pos;
  try {
    type.encode(w, msg);
  } catch (e) {
    throw bodyFailed(w, off, maxBody, e);
  }
  if (comp !== null && w.pos - msgStart >= comp.minBytes && compressedResponse(w, off, msgStart, id, comp, maxBody)) return;
  finish(w, off, maxBody);
}

/** Rewrites the RESPONSE at `off` as a compressed MESSAGE + STATUS OK when compression pays; false (nothing changed) otherwise. */
function compressedResponse(w: MsgWriter, off: number, msgStart: number, id: number, comp: MessageCompressor, maxBody: number): boolean {
  const packed = compressedBody(w, msgStart, comp);
  if (packed === null) return false;
  w.limit = Infinity;
  w.pos = off;
  const o = begin(w, 4, FrameType.MESSAGE, id);
  w.int(comp.id << COMPRESSION_SHIFT);
  w.bin(packed);
  finish(w, o, maxBody);
  writeStatus(w, id, Status.OK, "", undefined, null, null);
  return true;
}

/** HALF_CLOSE and CANCEL: [type, id]. */
export function writeIdOnly(w: MsgWriter, type: number, id: number): void {
  const off = begin(w, 2, type, id);
  end(w, off);
}

export function writeHeaders(w: MsgWriter, id: number, md: Metadata | MetadataMap): void {
  const off = begin(w, 3, FrameType.HEADERS, id);
  writeMetadata(w, md);
  end(w, off);
}

/** STATUS; errorType/err describe a typed IDL error. An error body that fails to encode degrades to INTERNAL. */
export function writeStatus(
  w: MsgWriter,
  id: number,
  code: number,
  message: string,
  trailers: Metadata | MetadataMap | undefined,
  errorType: ErrorType | null,
  err: RpcError | null,
): void {
  const off = begin(w, 7, FrameType.STATUS, id);
  if (errorType !== null && err !== null) {
    try {
      w.int(code);
      w.str(message);
      writeMetadata(w, trailers);
      w.str(errorType.code);
      errorType.encode(w, err);
      end(w, off);
      return;
    } catch (e) {
      w.pos = off;
      begin(w, 7, FrameType.STATUS, id);
      code = Status.INTERNAL;
      message = `could not encode error ${errorType.code}: ${e instanceof Error ? e.message : String(e)}`;
    }
  }
  w.int(code);
  w.str(message);
  writeMetadata(w, trailers);
  w.nil();
  w.nil();
  end(w, off);
}

export function writeWindow(w: MsgWriter, id: number, credit: number): void {
  const off = begin(w, 3, FrameType.WINDOW, id);
  w.int(credit);
  end(w, off);
}

/** PING or PONG. */
export function writePing(w: MsgWriter, type: number, opaque: number): void {
  const off = begin(w, 3, type, 0);
  w.int(opaque);
  end(w, off);
}

export function writeGoAway(w: MsgWriter, lastId: number, reason: number, message: string): void {
  const off = begin(w, 5, FrameType.GOAWAY, 0);
  w.int(lastId);
  w.int(reason);
  w.str(peerText(message, { maxChars: GOAWAY_MESSAGE_MAX_CHARS }));
  end(w, off);
}

/** The head every frame starts with. Reused per connection; fields overwritten by readFrameHead. */
export interface FrameHead {
  /** Elements in the body array, type and id included. */
  count: number;
  type: number;
  id: number;
}

/**
 * Reads [type, id] at the start of a body; throws DecodeError when the body
 * is not an array of at least two elements, `type` is not an int or `id` is
 * not a u32 (docs/PROTOCOL.md section 10, rule 3: MALFORMED_FRAME).
 */
export function readFrameHead(r: MsgReader, head: FrameHead): void {
  const count = r.arrayHeader();
  if (count < 2) throw new DecodeError(`frame array has ${count} elements, needs at least type and id`);
  head.count = count;
  head.type = r.int();
  head.id = r.int();
  if (head.id < 0 || head.id > 0xffffffff) throw new DecodeError(`call id ${head.id} is not a u32`);
}

/** Reads an int or nil. */
export function readOptionalInt(r: MsgReader): number | undefined {
  if (r.peekNil()) {
    r.nil();
    return undefined;
  }
  return r.int();
}

/** Reads a str or nil. */
export function readOptionalStr(r: MsgReader): string | undefined {
  if (r.peekNil()) {
    r.nil();
    return undefined;
  }
  return r.str();
}

/** Skips the elements after `read` of a frame with `count` elements (forward-compatible extras). */
export function skipRest(r: MsgReader, count: number, read: number): void {
  for (let i = read; i < count; i++) r.skip();
}
