/**
 * PeerConnection: one accepted connection of the Bun.listen peer. Splits the
 * byte stream into u32-BE-prefixed frames (a partial frame is copied and
 * kept; whole frames are decoded in place), enforces the preface, call ids
 * and limits of docs/PROTOCOL.md, answers unary calls with RESPONSE, streams
 * `ticks` as MESSAGE frames within the client's WINDOW credit, and writes
 * everything one callback produced with one socket.write. The unwritten tail
 * of a short write is kept and finished on drain; past a high-water mark the
 * connection stops reading. Owns one connection's state; no listener logic.
 */
import type { Socket } from "bun";
import { fillTickPayload, InvalidArgument, parseTickRequest, TICKS_PATH, UNARY_METHODS } from "./bench-methods.ts";
import { output } from "./peer-output.ts";
import {
  DECLARED_KINDS, DEFAULT_PEER_MAX_FRAME_BYTES, DEFAULT_PEER_WINDOW, END_STREAM, FIRST_FRAME_TIMEOUT_MS, FRAME_CANCEL, FRAME_GOAWAY, FRAME_HALF_CLOSE,
  FRAME_HEADERS, FRAME_HELLO, FRAME_MESSAGE, FRAME_PING, FRAME_PONG, FRAME_REQUEST, FRAME_RESPONSE, FRAME_STATUS, FRAME_WINDOW,
  GOAWAY_FRAME_TOO_LARGE, GOAWAY_HANDSHAKE_TIMEOUT, GOAWAY_MALFORMED_FRAME, GOAWAY_PROTOCOL_ERROR, GOAWAY_UNKNOWN_FRAME_TYPE,
  GOAWAY_UNSUPPORTED_VERSION, INITIAL_WINDOW, MAX_CONCURRENT_CALLS, MAX_FRAME_BYTES, MAX_METADATA_BYTES, PROTOCOL_VERSION,
  STATUS_INTERNAL, STATUS_INVALID_ARGUMENT, STATUS_OK, STATUS_RESOURCE_EXHAUSTED, STATUS_UNIMPLEMENTED, unpackr,
} from "./wire.ts";

/** Unwritten bytes past which the connection stops reading (and stops producing stream messages). */
const WRITE_HIGH_WATER_BYTES = 1024 * 1024;
/** Output produced per pass over the streams before it is handed to the socket. */
const STREAM_BATCH_BYTES = 256 * 1024;
/** Passes over the streams per callback; more work waits for a macrotask so other sockets run. */
const STREAM_PASSES_PER_TURN = 8;
/** Room a tick needs for its frame array and headers besides the payload. */
const TICK_FRAME_OVERHEAD = 32;
const METADATA_KEY = /^[a-z0-9._-]{1,255}$/;

/** One `ticks` call in progress. */
interface TickStream {
  readonly id: number;
  readonly count: number;
  readonly payload: Uint8Array;
  next: number;
  credit: number;
}

/** A connection error: GOAWAY with `reason`, then close. */
class ConnectionError extends Error {
  override readonly name = "ConnectionError";
  constructor(
    readonly reason: number,
    message: string,
  ) {
    super(message);
  }
}

/**
 * PROTOCOL.md section 10, rules 5 and 18: the REQUEST's shape and declared
 * kind against the method's. Every Bench method takes an inline message, so
 * only a declared kind tells a server_stream client of `echo` from a unary
 * one. Returns the UNIMPLEMENTED message or null; throws for a REQUEST no
 * kind can send.
 */
function kindMismatch(id: number, path: string, kind: string, inline: boolean, flags: number): string | null {
  if (inline && (flags & END_STREAM) === 0) throw new ConnectionError(GOAWAY_PROTOCOL_ERROR, `REQUEST ${id} carries an inline message without END_STREAM`);
  const declared = DECLARED_KINDS[(flags >> 1) & 7]!;
  const declaredStreamsRequests = declared === "client_stream" || declared === "bidi";
  if (declared !== null && declaredStreamsRequests === inline) {
    throw new ConnectionError(GOAWAY_PROTOCOL_ERROR, `REQUEST ${id} declares kind ${declared} but ${inline ? "carries an" : "has no"} inline message`);
  }
  const client = declared ?? (inline ? kind : "client_stream or bidi (its REQUEST has no inline message)");
  if (client === kind) return null;
  return `method kind mismatch on ${path}: client ${client}, server ${kind}; client and server were built from different IDLs`;
}

// Frame arrays reused for every frame of their kind: packed at once, never kept.
const helloFrame = [FRAME_HELLO, 0, PROTOCOL_VERSION, MAX_FRAME_BYTES, MAX_CONCURRENT_CALLS, INITIAL_WINDOW, MAX_METADATA_BYTES];
const responseFrame: unknown[] = [FRAME_RESPONSE, 0, null];
const statusFrame: unknown[] = [FRAME_STATUS, 0, STATUS_OK, "", null, null, null];
const messageFrame: unknown[] = [FRAME_MESSAGE, 0, 0, null];
const tickMessage = new Map<number, unknown>([[1, 0], [2, null]]);
const pongFrame: unknown[] = [FRAME_PONG, 0, 0];
const goAwayFrame: unknown[] = [FRAME_GOAWAY, 0, 0, 0, ""];

const payloads = new Map<number, Uint8Array>();
/** One zero-filled payload per tick size, shared by every stream of that size. */
function payloadOfSize(size: number): Uint8Array {
  let p = payloads.get(size);
  if (p === undefined) {
    p = new Uint8Array(size);
    if (payloads.size < 64) payloads.set(size, p);
  }
  return p;
}

function isU32(v: unknown): v is number {
  return typeof v === "number" && Number.isInteger(v) && v >= 0 && v <= 0xffffffff;
}

/** Reads a msgpack int (any encoding, non-negative) at `pos`; returns [value, next pos] or null. */
function readUint(buf: Uint8Array, pos: number, end: number): [number, number] | null {
  if (pos >= end) return null;
  const b = buf[pos]!;
  if (b <= 0x7f) return [b, pos + 1];
  const width = b === 0xcc ? 1 : b === 0xcd ? 2 : b === 0xce ? 4 : 0;
  if (width === 0 || pos + 1 + width > end) return null;
  let v = 0;
  for (let i = 1; i <= width; i++) v = v * 256 + buf[pos + i]!;
  return [v, pos + 1 + width];
}

export class PeerConnection {
  readonly socket: Socket<PeerConnection>;
  /** An incomplete frame from earlier callbacks (a copy, sized for the whole frame once its prefix is known), or null. */
  partial: Buffer | null;
  /** Bytes of `partial` filled so far. */
  partialLength: number;
  /** Bytes the kernel did not take yet (a copy), or null. */
  pending: Uint8Array | null;
  paused: boolean;
  helloReceived: boolean;
  closing: boolean;
  lastRequestId: number;
  peerWindow: number;
  peerMaxFrameBytes: number;
  readonly streams: Map<number, TickStream>;
  /** Streams that have credit and messages left to send. */
  readonly ready: Set<TickStream>;
  streamTurnScheduled: boolean;
  helloTimer: ReturnType<typeof setTimeout> | null;

  constructor(socket: Socket<PeerConnection>) {
    this.socket = socket;
    this.partial = null;
    this.partialLength = 0;
    this.pending = null;
    this.paused = false;
    this.helloReceived = false;
    this.closing = false;
    this.lastRequestId = 0;
    this.peerWindow = DEFAULT_PEER_WINDOW;
    this.peerMaxFrameBytes = DEFAULT_PEER_MAX_FRAME_BYTES;
    this.streams = new Map();
    this.ready = new Set();
    this.streamTurnScheduled = false;
    this.helloTimer = null;
  }

  /** Sends HELLO at once (both sides send it without waiting) and arms the handshake timeout. */
  opened(): void {
    output.frame(helloFrame);
    this.flush();
    this.helloTimer = setTimeout(() => {
      this.helloTimer = null;
      if (!this.helloReceived && !this.closing) {
        this.goAway(GOAWAY_HANDSHAKE_TIMEOUT, `no HELLO within ${FIRST_FRAME_TIMEOUT_MS} ms`);
        this.flush();
      }
    }, FIRST_FRAME_TIMEOUT_MS);
  }

  /** Handles one data callback: every whole frame in it, then one write. */
  received(chunk: Buffer): void {
    if (this.closing) return;
    try {
      const pos = this.partial === null ? 0 : this.fillPartial(chunk);
      if (this.partial === null && !this.closing) this.wholeFrames(chunk, pos);
    } catch (err) {
      if (!(err instanceof ConnectionError)) throw err;
      this.goAway(err.reason, err.message);
    }
    this.pumpStreams();
    this.flush();
  }

  /** Checks a length prefix before anything of the body is buffered. */
  private static checkLength(len: number): void {
    if (len > MAX_FRAME_BYTES) throw new ConnectionError(GOAWAY_FRAME_TOO_LARGE, `frame length ${len} exceeds maxFrameBytes ${MAX_FRAME_BYTES}`);
    if (len === 0) throw new ConnectionError(GOAWAY_MALFORMED_FRAME, "frame length 0");
  }

  /** Decodes every whole frame of chunk from pos on; copies an incomplete tail into `partial`. */
  private wholeFrames(chunk: Buffer, start: number): void {
    const end = chunk.length;
    let pos = start;
    while (end - pos >= 4) {
      const len = ((chunk[pos]! << 24) | (chunk[pos + 1]! << 16) | (chunk[pos + 2]! << 8) | chunk[pos + 3]!) >>> 0;
      PeerConnection.checkLength(len);
      if (end - pos - 4 < len) break;
      this.frame(chunk, pos + 4, pos + 4 + len);
      pos += 4 + len;
      if (this.closing) return;
    }
    if (pos === end) return;
    // Copied: Bun may reuse the chunk's memory after this callback. Once the
    // prefix is known the buffer is sized for the whole frame, so later chunks
    // are appended without reallocating.
    const have = end - pos;
    const frameBytes = have >= 4 ? 4 + (((chunk[pos]! << 24) | (chunk[pos + 1]! << 16) | (chunk[pos + 2]! << 8) | chunk[pos + 3]!) >>> 0) : 4;
    this.partial = Buffer.allocUnsafe(frameBytes);
    this.partial.set(chunk.subarray(pos, end), 0);
    this.partialLength = have;
  }

  /** Appends chunk bytes to the buffered frame; decodes it when complete. Returns how much of chunk it took. */
  private fillPartial(chunk: Buffer): number {
    let partial = this.partial!;
    let used = 0;
    if (this.partialLength < 4) {
      used = Math.min(4 - this.partialLength, chunk.length);
      partial.set(chunk.subarray(0, used), this.partialLength);
      this.partialLength += used;
      if (this.partialLength < 4) return used;
      const len = ((partial[0]! << 24) | (partial[1]! << 16) | (partial[2]! << 8) | partial[3]!) >>> 0;
      PeerConnection.checkLength(len);
      const whole = Buffer.allocUnsafe(4 + len);
      whole.set(partial, 0);
      this.partial = partial = whole;
    }
    const take = Math.min(partial.length - this.partialLength, chunk.length - used);
    partial.set(chunk.subarray(used, used + take), this.partialLength);
    this.partialLength += take;
    used += take;
    if (this.partialLength === partial.length) {
      this.partial = null;
      this.partialLength = 0;
      this.frame(partial, 4, partial.length);
    }
    return used;
  }

  /** The kernel has room again: finish the kept tail, then resume reading and streaming. */
  drained(): void {
    if (this.pending === null) return;
    const tail = this.pending;
    this.pending = null;
    this.writeOrKeep(tail, true);
    if (this.pending !== null) return;
    if (this.closing) {
      this.socket.end();
      return;
    }
    if (this.paused) {
      this.paused = false;
      this.socket.resume();
    }
    this.pumpStreams();
    this.flush();
  }

  closed(): void {
    this.closing = true;
    this.streams.clear();
    this.ready.clear();
    this.pending = null;
    this.partial = null;
    if (this.helloTimer !== null) clearTimeout(this.helloTimer);
    this.helloTimer = null;
  }

  // ------------------------------------------------------------ frames

  private frame(buf: Buffer, start: number, end: number): void {
    let f: unknown;
    try {
      f = unpackr.unpack(buf, { start, end });
    } catch (err) {
      this.undecodable(buf, start, end, err);
      return;
    }
    if (!Array.isArray(f) || f.length < 2) throw new ConnectionError(GOAWAY_MALFORMED_FRAME, "frame body is not an array [type, id, ...]");
    const type: unknown = f[0];
    const id: unknown = f[1];
    if (!isU32(type) || !isU32(id)) throw new ConnectionError(GOAWAY_MALFORMED_FRAME, "frame type and id must be non-negative ints");
    if (!this.helloReceived) {
      if (type !== FRAME_HELLO) throw new ConnectionError(GOAWAY_PROTOCOL_ERROR, `first frame must be HELLO (1), got type ${type}`);
      this.hello(f);
      return;
    }
    switch (type) {
      case FRAME_REQUEST:
        this.request(f, id);
        return;
      case FRAME_WINDOW: {
        const credit: unknown = f[2];
        if (!isU32(credit) || credit === 0) throw new ConnectionError(GOAWAY_MALFORMED_FRAME, "WINDOW credit must be an int > 0");
        const s = this.streams.get(id);
        if (s === undefined) return;
        s.credit += credit;
        if (s.next < s.count) this.ready.add(s);
        return;
      }
      case FRAME_CANCEL: {
        const s = this.streams.get(id);
        if (s !== undefined) this.endStream(s);
        return;
      }
      case FRAME_PING:
        pongFrame[2] = f[2];
        output.frame(pongFrame);
        return;
      case FRAME_MESSAGE:
      case FRAME_HALF_CLOSE:
      case FRAME_PONG:
        // No method of this service reads client stream messages; frames for
        // unknown or finished calls are dropped (PROTOCOL.md section 4).
        return;
      case FRAME_GOAWAY:
        this.closing = true;
        this.streams.clear();
        this.ready.clear();
        return;
      case FRAME_HELLO:
        throw new ConnectionError(GOAWAY_PROTOCOL_ERROR, "second HELLO");
      case FRAME_RESPONSE:
      case FRAME_HEADERS:
      case FRAME_STATUS:
        throw new ConnectionError(GOAWAY_PROTOCOL_ERROR, `frame type ${type} is server-to-client only`);
      default:
        throw new ConnectionError(GOAWAY_UNKNOWN_FRAME_TYPE, `unknown frame type ${type}`);
    }
  }

  private hello(f: unknown[]): void {
    const version: unknown = f[2];
    const maxFrameBytes: unknown = f[3];
    const window: unknown = f[5];
    if (f.length < 7 || !isU32(version) || !isU32(maxFrameBytes) || !isU32(f[4]) || !isU32(window) || !isU32(f[6])) {
      throw new ConnectionError(GOAWAY_PROTOCOL_ERROR, "malformed HELLO: expected [1, 0, version, maxFrameBytes, maxConcurrentCalls, initialWindow, maxMetadataBytes]");
    }
    if (version !== PROTOCOL_VERSION) throw new ConnectionError(GOAWAY_UNSUPPORTED_VERSION, `protocol version ${version} is not spoken; this peer speaks version ${PROTOCOL_VERSION}`);
    this.helloReceived = true;
    this.peerMaxFrameBytes = maxFrameBytes;
    this.peerWindow = window;
    if (this.helloTimer !== null) clearTimeout(this.helloTimer);
    this.helloTimer = null;
  }

  /** A body msgpackr cannot decode: a REQUEST with a readable head fails alone, anything else ends the connection. */
  private undecodable(buf: Uint8Array, start: number, end: number, err: unknown): void {
    const detail = err instanceof Error ? err.message : String(err);
    const b = buf[start]!;
    let pos = b >= 0x92 && b <= 0x9f ? start + 1 : b === 0xdc ? start + 3 : b === 0xdd ? start + 5 : -1;
    const type = pos < 0 ? null : readUint(buf, pos, end);
    const id = type === null ? null : readUint(buf, type[1], end);
    if (type === null || id === null) throw new ConnectionError(GOAWAY_MALFORMED_FRAME, `frame body is not a msgpack array [type, id, ...]: ${detail}`);
    if (type[0] < FRAME_HELLO || type[0] > FRAME_GOAWAY) throw new ConnectionError(GOAWAY_UNKNOWN_FRAME_TYPE, `unknown frame type ${type[0]}`);
    if (type[0] !== FRAME_REQUEST || !this.helloReceived) throw new ConnectionError(GOAWAY_MALFORMED_FRAME, `frame type ${type[0]} does not decode: ${detail}`);
    this.acceptRequestId(id[0]);
    this.status(id[0], STATUS_INVALID_ARGUMENT, `request does not decode: ${detail}`);
  }

  private acceptRequestId(id: number): void {
    if (id === 0 || id <= this.lastRequestId) throw new ConnectionError(GOAWAY_PROTOCOL_ERROR, `REQUEST id ${id} is not greater than earlier id ${this.lastRequestId}`);
    this.lastRequestId = id;
  }

  private request(f: unknown[], id: number): void {
    this.acceptRequestId(id);
    const path: unknown = f[2];
    const timeoutMs: unknown = f[3];
    const metadata: unknown = f[4];
    const flags: unknown = f[5];
    if (typeof path !== "string" || (timeoutMs !== null && typeof timeoutMs !== "number") || (metadata !== null && !(metadata instanceof Map)) || typeof flags !== "number") {
      throw new ConnectionError(GOAWAY_MALFORMED_FRAME, "REQUEST must be [2, id, path: str, timeoutMs: int|nil, metadata: map|nil, flags: int, message?]");
    }
    if (metadata !== null) {
      const problem = checkMetadata(metadata);
      if (problem !== null) {
        this.status(id, problem[0], problem[1]);
        return;
      }
    }
    const unary = UNARY_METHODS.get(path);
    if (unary === undefined && path !== TICKS_PATH) {
      this.status(id, STATUS_UNIMPLEMENTED, `unknown method ${path}`);
      return;
    }
    const mismatch = kindMismatch(id, path, unary !== undefined ? "unary" : "server_stream", f.length >= 7, flags);
    if (mismatch !== null) {
      this.status(id, STATUS_UNIMPLEMENTED, mismatch);
      return;
    }
    const before = output.pos;
    try {
      if (unary !== undefined) {
        responseFrame[1] = id;
        responseFrame[2] = unary(f[6]);
        output.frame(responseFrame);
        responseFrame[2] = null;
        const bodyBytes = output.pos - before - 4;
        if (bodyBytes > this.peerMaxFrameBytes) {
          output.pos = before;
          this.status(id, STATUS_RESOURCE_EXHAUSTED, `response of ${bodyBytes} bytes exceeds the client's maxFrameBytes ${this.peerMaxFrameBytes}`);
        }
      } else {
        this.startTicks(id, f[6]);
      }
    } catch (err) {
      output.pos = before; // drop a half-written frame
      if (err instanceof InvalidArgument) this.status(id, STATUS_INVALID_ARGUMENT, err.message);
      else this.status(id, STATUS_INTERNAL, err instanceof Error ? err.message : String(err));
    }
  }

  private startTicks(id: number, msg: unknown): void {
    const req = parseTickRequest(msg);
    if (this.streams.size >= MAX_CONCURRENT_CALLS) {
      this.status(id, STATUS_RESOURCE_EXHAUSTED, `more than ${MAX_CONCURRENT_CALLS} open calls on this connection`);
      return;
    }
    if (req.size + TICK_FRAME_OVERHEAD > this.peerMaxFrameBytes) {
      this.status(id, STATUS_RESOURCE_EXHAUSTED, `a tick of ${req.size} bytes exceeds the client's maxFrameBytes ${this.peerMaxFrameBytes}`);
      return;
    }
    const s: TickStream = { id, count: req.count, payload: payloadOfSize(req.size), next: 0, credit: this.peerWindow };
    this.streams.set(id, s);
    this.ready.add(s);
  }

  // ------------------------------------------------------------ streams

  /** Sends stream messages within credit until the batch is full or the socket is backed up. */
  private pumpStreams(): void {
    if (this.ready.size === 0 || this.closing || this.pending !== null) return;
    for (const s of this.ready) {
      messageFrame[1] = s.id;
      messageFrame[3] = tickMessage;
      tickMessage.set(2, s.payload);
      while (s.credit > 0 && s.next < s.count && output.pos < STREAM_BATCH_BYTES) {
        tickMessage.set(1, s.next);
        fillTickPayload(s.payload, s.next); // safe to refill: each frame is packed at once
        output.frame(messageFrame);
        s.next++;
        s.credit--;
      }
      if (s.next === s.count) {
        this.status(s.id, STATUS_OK, "");
        this.endStream(s);
      } else if (s.credit === 0) this.ready.delete(s);
      if (output.pos >= STREAM_BATCH_BYTES) break;
    }
    tickMessage.set(2, null);
    messageFrame[3] = null;
  }

  private endStream(s: TickStream): void {
    this.streams.delete(s.id);
    this.ready.delete(s);
  }

  /** More stream work than one callback should do: continue after other sockets had a turn. */
  private scheduleStreamTurn(): void {
    if (this.streamTurnScheduled) return;
    this.streamTurnScheduled = true;
    setImmediate(() => {
      this.streamTurnScheduled = false;
      this.pumpStreams();
      this.flush();
    });
  }

  // ------------------------------------------------------------ output

  private status(id: number, code: number, message: string): void {
    statusFrame[1] = id;
    statusFrame[2] = code;
    statusFrame[3] = message;
    output.frame(statusFrame);
  }

  private goAway(reason: number, message: string): void {
    goAwayFrame[2] = this.lastRequestId;
    goAwayFrame[3] = reason;
    goAwayFrame[4] = message;
    output.frame(goAwayFrame);
    this.closing = true;
    this.partial = null;
    this.streams.clear();
    this.ready.clear();
  }

  /** Hands the shared output to the socket (one write), repeating while streams have credit and the kernel keeps up. */
  private flush(): void {
    for (let pass = 0; ; pass++) {
      if (output.pos > 0) {
        const bytes = output.bytes();
        output.reset();
        this.writeOrKeep(bytes, false);
      }
      if (this.pending !== null || this.closing || this.ready.size === 0) break;
      if (pass + 1 >= STREAM_PASSES_PER_TURN) {
        this.scheduleStreamTurn();
        break;
      }
      this.pumpStreams();
    }
    if (this.closing && this.pending === null) this.socket.end();
  }

  /** Writes bytes; keeps a copy of what the kernel did not take (`owned`: bytes is already a private copy). */
  private writeOrKeep(bytes: Uint8Array, owned: boolean): void {
    if (this.pending !== null) {
      const joined = new Uint8Array(this.pending.length + bytes.length);
      joined.set(this.pending, 0);
      joined.set(bytes, this.pending.length);
      this.pending = joined;
    } else {
      const written = this.socket.write(bytes);
      if (written === bytes.length) return;
      if (written < 0) {
        // Closed or shutting down: nothing more will be sent.
        this.closing = true;
        return;
      }
      this.pending = owned ? bytes.subarray(written) : bytes.slice(written);
    }
    if (!this.paused && this.pending.length > WRITE_HIGH_WATER_BYTES) {
      this.paused = true;
      this.socket.pause();
    }
  }
}

/** Checks request metadata (PROTOCOL.md section 5); returns [status, message] or null. */
function checkMetadata(m: Map<unknown, unknown>): [number, string] | null {
  let size = 0;
  for (const [k, v] of m) {
    if (typeof k !== "string" || !METADATA_KEY.test(k)) return [STATUS_INVALID_ARGUMENT, `metadata key ${JSON.stringify(k)} must be 1-255 chars of [a-z0-9._-]`];
    if (typeof v === "string") size += k.length + Buffer.byteLength(v);
    else if (v instanceof Uint8Array) size += k.length + v.length;
    else return [STATUS_INVALID_ARGUMENT, `metadata value of ${k} must be str or bin`];
  }
  if (size > MAX_METADATA_BYTES) return [STATUS_RESOURCE_EXHAUSTED, `metadata of ${size} bytes exceeds maxMetadataBytes ${MAX_METADATA_BYTES}`];
  return null;
}
