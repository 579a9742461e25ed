/**
 * PeerOutput: the one growable output buffer of the process (the peer is
 * single-threaded). Everything a connection produces while handling one
 * socket callback is appended here as length-prefixed frames, then taken with
 * one socket.write (cork-style coalescing) and reset. A frame body is packed
 * by the shared msgpackr Packr (the default), or, with `--encoder direct`, by
 * a small hand-written generic msgpack writer straight into this buffer (no
 * intermediate copy, no msgpackr extension path for bin). Owns bytes only;
 * it knows nothing about sockets or calls.
 */
import { packr } from "./wire.ts";

const INITIAL_BYTES = 64 * 1024;
const TWO_32 = 4294967296;

export type EncoderName = "msgpackr" | "direct";

const utf8 = new TextEncoder();

export class PeerOutput {
  buf: Uint8Array;
  pos: number;
  encoder: EncoderName;
  private view: DataView;

  constructor(initialBytes = INITIAL_BYTES) {
    this.buf = new Uint8Array(initialBytes);
    this.view = new DataView(this.buf.buffer);
    this.pos = 0;
    this.encoder = "msgpackr";
  }

  /** Appends one frame array (values: int, float, str, bin, nil, bool, arrays, Maps) with its u32 BE length prefix. */
  frame(frame: readonly unknown[]): void {
    if (this.encoder === "direct") {
      this.ensure(4);
      const start = this.pos;
      this.pos += 4;
      this.value(frame);
      this.view.setUint32(start, this.pos - start - 4);
      return;
    }
    const body: Uint8Array = packr.pack(frame);
    const n = body.length;
    this.ensure(4 + n);
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

  private ensure(n: number): void {
    if (this.pos + n <= this.buf.length) return;
    let size = this.buf.length * 2;
    while (size < this.pos + n) size *= 2;
    const next = new Uint8Array(size);
    next.set(this.buf.subarray(0, this.pos));
    this.buf = next;
    this.view = new DataView(next.buffer);
  }

  // ------------------------------------------------------------ direct encoder

  private value(v: unknown): void {
    if (typeof v === "number") return Number.isInteger(v) ? this.int(v) : this.f64(v);
    if (typeof v === "string") return this.str(v);
    if (v === null || v === undefined) return this.byte(0xc0);
    if (v instanceof Uint8Array) return this.bin(v);
    if (Array.isArray(v)) {
      this.header(v.length, 0x90, 0xdc);
      for (let i = 0; i < v.length; i++) this.value(v[i]);
      return;
    }
    if (v instanceof Map) {
      this.header(v.size, 0x80, 0xde);
      for (const [k, val] of v) {
        this.value(k);
        this.value(val);
      }
      return;
    }
    if (typeof v === "boolean") return this.byte(v ? 0xc3 : 0xc2);
    if (typeof v === "bigint") return this.int(Number(v)); // i64 replies: safe integers only here
    throw new TypeError(`PeerOutput: cannot encode a ${typeof v}`);
  }

  private byte(b: number): void {
    this.ensure(1);
    this.buf[this.pos++] = b;
  }

  /** fix (< 16) or 16/32-bit header of an array (0x90, 0xdc) or map (0x80, 0xde). */
  private header(n: number, fix: number, wide16: number): void {
    this.ensure(5);
    if (n < 16) this.buf[this.pos++] = fix | n;
    else if (n < 0x10000) {
      this.buf[this.pos] = wide16;
      this.view.setUint16(this.pos + 1, n);
      this.pos += 3;
    } else {
      this.buf[this.pos] = wide16 + 1;
      this.view.setUint32(this.pos + 1, n);
      this.pos += 5;
    }
  }

  /** An integer in its shortest msgpack form (unsafe integers go out as float64). */
  private int(v: number): void {
    this.ensure(9);
    const b = this.buf;
    const p = this.pos;
    if (v >= 0) {
      if (v < 0x80) {
        b[p] = v;
        this.pos = p + 1;
      } else if (v < 0x100) {
        b[p] = 0xcc;
        b[p + 1] = v;
        this.pos = p + 2;
      } else if (v < 0x10000) {
        b[p] = 0xcd;
        this.view.setUint16(p + 1, v);
        this.pos = p + 3;
      } else if (v < TWO_32) {
        b[p] = 0xce;
        this.view.setUint32(p + 1, v);
        this.pos = p + 5;
      } else if (Number.isSafeInteger(v)) {
        b[p] = 0xcf;
        this.view.setUint32(p + 1, Math.floor(v / TWO_32));
        this.view.setUint32(p + 5, v >>> 0);
        this.pos = p + 9;
      } else this.f64(v);
    } else if (v >= -32) {
      b[p] = v & 0xff;
      this.pos = p + 1;
    } else if (v >= -0x80) {
      b[p] = 0xd0;
      this.view.setInt8(p + 1, v);
      this.pos = p + 2;
    } else if (v >= -0x8000) {
      b[p] = 0xd1;
      this.view.setInt16(p + 1, v);
      this.pos = p + 3;
    } else if (v >= -0x80000000) {
      b[p] = 0xd2;
      this.view.setInt32(p + 1, v);
      this.pos = p + 5;
    } else if (Number.isSafeInteger(v)) {
      b[p] = 0xd3;
      this.view.setBigInt64(p + 1, BigInt(v));
      this.pos = p + 9;
    } else this.f64(v);
  }

  private f64(v: number): void {
    this.ensure(9);
    this.buf[this.pos] = 0xcb;
    this.view.setFloat64(this.pos + 1, v);
    this.pos += 9;
  }

  private str(v: string): void {
    // Worst case 3 bytes per UTF-16 unit; the header size is fixed by that bound, then shrunk if needed.
    const max = v.length * 3;
    const header = max < 32 ? 1 : max < 0x100 ? 2 : max < 0x10000 ? 3 : 5;
    this.ensure(header + max);
    const start = this.pos;
    const n = utf8.encodeInto(v, this.buf.subarray(start + header)).written;
    const need = n < 32 ? 1 : n < 0x100 ? 2 : n < 0x10000 ? 3 : 5;
    if (need < header) this.buf.copyWithin(start + need, start + header, start + header + n);
    if (need === 1) this.buf[start] = 0xa0 | n;
    else if (need === 2) {
      this.buf[start] = 0xd9;
      this.buf[start + 1] = n;
    } else if (need === 3) {
      this.buf[start] = 0xda;
      this.view.setUint16(start + 1, n);
    } else {
      this.buf[start] = 0xdb;
      this.view.setUint32(start + 1, n);
    }
    this.pos = start + need + n;
  }

  private bin(v: Uint8Array): void {
    const n = v.length;
    this.ensure(5 + n);
    if (n < 0x100) {
      this.buf[this.pos] = 0xc4;
      this.buf[this.pos + 1] = n;
      this.pos += 2;
    } else if (n < 0x10000) {
      this.buf[this.pos] = 0xc5;
      this.view.setUint16(this.pos + 1, n);
      this.pos += 3;
    } else {
      this.buf[this.pos] = 0xc6;
      this.view.setUint32(this.pos + 1, n);
      this.pos += 5;
    }
    this.buf.set(v, this.pos);
    this.pos += n;
  }
}

/** The process-wide instance every connection appends to. */
export const output = new PeerOutput();
