/**
 * FrameOutput: the one growable output buffer of the process (the peer is
 * single-threaded). Everything a connection produces while handling one
 * socket callback is appended here as length-prefixed frames, then taken with
 * one socket.write (cork-style coalescing) and reset. Owns bytes only; it
 * knows nothing about sockets or calls.
 */
import { packr } from "./wire.ts";

const INITIAL_BYTES = 64 * 1024;

export class FrameOutput {
  buf: Uint8Array;
  pos: number;
  private view: DataView;

  constructor(initialBytes = INITIAL_BYTES) {
    this.buf = new Uint8Array(initialBytes);
    this.view = new DataView(this.buf.buffer);
    this.pos = 0;
  }

  /** Packs one frame array with the shared Packr and appends it with its u32 BE length prefix. */
  frame(frame: readonly unknown[]): void {
    const body: Uint8Array = packr.pack(frame);
    const n = body.length;
    if (this.pos + 4 + n > this.buf.length) this.grow(4 + n);
    this.view.setUint32(this.pos, n);
    this.buf.set(body, this.pos + 4);
    this.pos += 4 + n;
  }

  /** The bytes appended since the last reset (a view: valid until the next append). */
  bytes(): Uint8Array {
    return this.buf.subarray(0, this.pos);
  }

  reset(): void {
    this.pos = 0;
  }

  private grow(need: number): void {
    let size = this.buf.length * 2;
    while (size < this.pos + need) size *= 2;
    const next = new Uint8Array(size);
    next.set(this.buf.subarray(0, this.pos));
    this.buf = next;
    this.view = new DataView(next.buffer);
  }
}

/** The process-wide instance every connection appends to. */
export const output = new FrameOutput();
