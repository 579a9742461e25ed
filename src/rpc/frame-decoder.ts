/**
 * FrameDecoder: splits a byte stream into length-prefixed frames
 * (u32 big-endian body length, then the body). Complete frames inside a chunk
 * are handed out as views of that chunk (no copy); only a frame split across
 * chunks is copied: each piece as it arrives, joined once the frame is whole,
 * so an unfinished frame holds exactly the bytes received (a peer announcing
 * 4 MiB and sending 10 bytes costs 10 bytes, not 4 MiB) and leaves no
 * outgrown buffers behind for the collector. A length over the limit is rejected from the prefix alone, before
 * any of the body is buffered. The owner can hold frame delivery between
 * two frames (hold()): the rest of the chunk, and chunks that arrive while
 * held, are kept (copied once, as received, in a list: never joined, so a
 * long hold costs what it keeps, not its square) until release() hands them on.
 * A server holds while its output is over the high-water mark, so frames
 * already read cannot queue answers without bound. Knows nothing about what
 * a body contains.
 */

/** Receives one frame body: buf[start, end). Valid only during the call. */
export type FrameHandler = (buf: Uint8Array, start: number, end: number) => void;

export type DecodeResult = "ok" | "too_large" | "empty" | "stopped";

import { PIECE_BYTES, type PiecePool } from "./piece-pool.ts";


export class FrameDecoder {
  /** The body length of the rejected frame, after push() returned "too_large". */
  rejectedLength: number;
  /** Frames whose first bytes were kept for a later chunk, counted: a change tells a new partial frame from an old one (FrameDeadline). */
  framesBegun: number;
  private readonly maxFrameBytes: number;
  private readonly header: Uint8Array;
  private headerLen: number;
  /** Pieces received of the frame being assembled (null: none begun). */
  private partial: Uint8Array[] | null;
  private partialLen: number;
  /** Bytes allocated for the pieces (at most one piece's spare room over partialLen). */
  private partialCap: number;
  /** Bytes filled in the last piece. */
  private lastFill: number;
  /** Body length of the frame being assembled in `partial`. */
  private partialNeed: number;
  private stopped: boolean;
  /** hold() was called: no frame is delivered until release(). */
  private holding: boolean;
  /** Bytes received while delivery is held, not yet split into frames, in order (each a copy, or a view of one). */
  private held: Uint8Array[] | null;
  /** Bytes in `held`, and the memory behind them (a view keeps its whole copy alive). */
  private heldBytes: number;
  private heldMemoryBytes: number;
  /** release() is pushing kept chunks: what it holds again is ours already (kept as a view, not copied). */
  private releasing: boolean;

  /** With a pool, pieces are PIECE_BYTES each, taken from it and given back when done (a server's connections share one). */
  private readonly pool: PiecePool | null;

  constructor(maxFrameBytes: number, pool: PiecePool | null = null) {
    this.pool = pool;
    this.maxFrameBytes = maxFrameBytes;
    this.rejectedLength = 0;
    this.framesBegun = 0;
    this.header = new Uint8Array(4);
    this.headerLen = 0;
    this.partial = null;
    this.partialLen = 0;
    this.partialCap = 0;
    this.lastFill = 0;
    this.partialNeed = 0;
    this.stopped = false;
    this.holding = false;
    this.held = null;
    this.heldBytes = 0;
    this.heldMemoryBytes = 0;
    this.releasing = false;
  }

  /** Stops delivering frames after the current one; bytes pushed meanwhile are kept. */
  hold(): void {
    this.holding = true;
  }

  get isHeld(): boolean {
    return this.holding;
  }

  /** Delivers what was kept while held (it may hold again part-way). */
  release(onFrame: FrameHandler): DecodeResult {
    this.holding = false;
    const kept = this.held;
    if (kept === null) return this.stopped ? "stopped" : "ok";
    this.dropHeld();
    this.releasing = true;
    try {
      for (let i = 0; i < kept.length; i++) {
        const res = this.push(kept[i]!, onFrame);
        if (res !== "ok") return res;
        if (this.holding) {
          // Held again part-way: keep() took the rest of this chunk; the chunks after it follow.
          for (let j = i + 1; j < kept.length; j++) this.keep(kept[j]!, 0, kept[j]!.length);
          return "ok";
        }
      }
      return "ok";
    } finally {
      this.releasing = false;
    }
  }

  private dropHeld(): void {
    this.held = null;
    this.heldBytes = 0;
    this.heldMemoryBytes = 0;
  }

  /** Stops delivering frames (after a connection error); later pushes return "stopped". */
  stop(): void {
    this.stopped = true;
    this.givePieces(this.partial);
    this.partial = null;
    this.partialLen = 0;
    this.partialCap = 0;
    this.partialNeed = 0;
    this.dropHeld();
  }

  /** Bytes held for an incomplete frame (prefix or body) and bytes kept while held. */
  get buffered(): number {
    return this.headerLen + this.partialLen + this.heldBytes;
  }

  /** Bytes received of the frame being assembled (prefix or body), not counting what is kept while held. */
  get partialBytes(): number {
    return this.headerLen + this.partialLen;
  }

  /** Memory this decoder holds: like `buffered`, but what is kept while held counts whole (what a memory budget must see). */
  get heldMemory(): number {
    return this.headerLen + this.partialCap + this.heldMemoryBytes;
  }

  /** Splits chunk[from..to) into frames; `chunk` is only read during the call (what must outlive it is copied). */
  push(chunk: Uint8Array, onFrame: FrameHandler, from = 0, to = chunk.length): DecodeResult {
    if (this.stopped) return "stopped";
    const n = to;
    let off = from;
    if (this.holding) return this.keep(chunk, off, n);
    if (this.headerLen > 0 || this.partial !== null) {
      off = this.continuePartial(chunk, onFrame, off, n);
      if (off < 0) return this.failure(off);
    }
    while (off < n) {
      if (this.stopped) return "stopped";
      if (this.holding) return this.keep(chunk, off, n);
      if (n - off < 4) {
        this.header.set(chunk.subarray(off, n));
        this.headerLen = n - off;
        this.framesBegun++;
        return "ok";
      }
      const len = ((chunk[off]! << 24) | (chunk[off + 1]! << 16) | (chunk[off + 2]! << 8) | chunk[off + 3]!) >>> 0;
      const bad = this.check(len);
      if (bad < 0) return this.failure(bad);
      const start = off + 4;
      const end = start + len;
      if (end <= n) {
        onFrame(chunk, start, end);
        off = end;
      } else {
        this.beginPartial(len);
        this.append(chunk.subarray(start, n));
        this.framesBegun++;
        return "ok";
      }
    }
    if (this.stopped) return "stopped";
    return this.holding ? this.keep(chunk, off, n) : "ok";
  }

  /** Completes a frame begun in an earlier chunk; returns the offset consumed or a negative failure. */
  private continuePartial(chunk: Uint8Array, onFrame: FrameHandler, from: number, end: number): number {
    let off = from;
    if (this.partial === null) {
      const take = Math.min(4 - this.headerLen, end - off);
      this.header.set(chunk.subarray(off, off + take), this.headerLen);
      this.headerLen += take;
      off += take;
      if (this.headerLen < 4) return off;
      const h = this.header;
      const len = ((h[0]! << 24) | (h[1]! << 16) | (h[2]! << 8) | h[3]!) >>> 0;
      this.headerLen = 0;
      const bad = this.check(len);
      if (bad < 0) return bad;
      this.beginPartial(len);
    }
    const take = Math.min(this.partialNeed - this.partialLen, end - off);
    this.append(chunk.subarray(off, off + take));
    off += take;
    if (this.partialLen === this.partialNeed) {
      const pieces = this.partial!;
      const len = this.partialNeed;
      this.partial = null;
      this.partialLen = 0;
      this.partialCap = 0;
      this.partialNeed = 0;
      if (pieces.length === 1) {
        onFrame(pieces[0]!, 0, len);
        this.givePieces(pieces);
      } else {
        const joined = joinPieces(pieces, len);
        this.givePieces(pieces);
        onFrame(joined, 0, len);
      }
    }
    return off;
  }

  /** Keeps chunk[off..end) while held: a chunk being released is ours and kept as a view, anything else is copied. */
  private keep(chunk: Uint8Array, off: number, end: number): DecodeResult {
    if (off >= end) return "ok";
    const piece = this.releasing ? chunk.subarray(off, end) : chunk.slice(off, end);
    (this.held ??= []).push(piece);
    this.heldBytes += piece.length;
    this.heldMemoryBytes += piece.buffer.byteLength;
    return "ok";
  }

  private beginPartial(len: number): void {
    this.partial = [];
    this.partialLen = 0;
    this.partialCap = 0;
    this.lastFill = 0;
    this.partialNeed = len;
  }

  /**
   * Copies bytes of the frame being assembled into its pieces: the last piece
   * is filled first, a new one is at least PIECE_BYTES (never more than the
   * frame still needs), so a peer trickling single bytes costs no more than
   * the bytes themselves plus one piece.
   */
  private append(bytes: Uint8Array): void {
    const pieces = this.partial!;
    let src = 0;
    while (src < bytes.length) {
      let last = pieces.length > 0 ? pieces[pieces.length - 1]! : null;
      if (last === null || this.lastFill === last.length) {
        const pool = this.pool;
        const size = pool !== null ? PIECE_BYTES : Math.min(Math.max(PIECE_BYTES, bytes.length - src), this.partialNeed - this.partialLen);
        last = pool !== null ? pool.take() : new Uint8Array(size);
        pieces.push(last);
        this.lastFill = 0;
        this.partialCap += size;
      }
      const n = Math.min(last.length - this.lastFill, bytes.length - src);
      last.set(bytes.subarray(src, src + n), this.lastFill);
      this.lastFill += n;
      src += n;
      this.partialLen += n;
    }
  }

  /** Hands pooled pieces back (a decoder without a pool leaves them to the collector). */
  private givePieces(pieces: Uint8Array[] | null): void {
    const pool = this.pool;
    if (pool === null || pieces === null) return;
    for (const p of pieces) pool.give(p);
  }

  private check(len: number): number {
    if (len === 0) return -2;
    if (len > this.maxFrameBytes) {
      this.rejectedLength = len;
      return -1;
    }
    return 0;
  }

  private failure(code: number): DecodeResult {
    this.stop();
    return code === -1 ? "too_large" : "empty";
  }
}

/** The pieces of a frame as one new buffer of `len` bytes (a pooled last piece may be longer than what it holds). */
function joinPieces(pieces: Uint8Array[], len: number): Uint8Array {
  const out = new Uint8Array(len);
  let at = 0;
  for (const p of pieces) {
    const n = Math.min(p.length, len - at);
    out.set(n === p.length ? p : p.subarray(0, n), at);
    at += n;
  }
  return out;
}
