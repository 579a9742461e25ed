/**
 * MsgReader: reads msgpack values from [pos, end) of a Uint8Array.
 * Safety first, then speed: every read is bounds-checked against `end`; a
 * header that declares more elements or bytes than remain fails before
 * anything is allocated; extensions other than the timestamp (-1) are
 * rejected, never turned into objects; nesting depth is capped.
 * Owns decoding primitives only: no knowledge of messages or frames.
 */
import { DecodeError } from "./errors.ts";

const TWO_32 = 4294967296;
const MAX_SAFE_HI = 0x1fffff; // high 32 bits of Number.MAX_SAFE_INTEGER
const DEFAULT_MAX_DEPTH = 64;
/** Below this length a string is built char by char; above, sliced natively (measured crossover ~12). */
/** Node's Buffer has latin1Slice (a fast ASCII/latin1 decode); @types/node does not declare it. */
type Latin1Buffer = Buffer & { latin1Slice(start: number, end: number): string };

const EMPTY = new Uint8Array(0);
const utf8 = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });

/** What a msgpack lead byte is, for error messages. */
export function describeByte(b: number | undefined): string {
  if (b === undefined) return "end of input";
  if (b <= 0x7f || b >= 0xe0) return "int";
  if (b <= 0x8f) return "map";
  if (b <= 0x9f) return "array";
  if (b <= 0xbf) return "string";
  switch (b) {
    case 0xc0: return "nil";
    case 0xc1: return "reserved byte 0xc1";
    case 0xc2: case 0xc3: return "bool";
    case 0xc4: case 0xc5: case 0xc6: return "bin";
    case 0xc7: case 0xc8: case 0xc9: case 0xd4: case 0xd5: case 0xd6: case 0xd7: case 0xd8: return "ext";
    case 0xca: case 0xcb: return "float";
    case 0xcc: case 0xcd: case 0xce: case 0xcf: case 0xd0: case 0xd1: case 0xd2: case 0xd3: return "int";
    case 0xd9: case 0xda: case 0xdb: return "string";
    case 0xdc: case 0xdd: return "array";
    default: return "map"; // 0xde, 0xdf
  }
}

export class MsgReader {
  buf: Uint8Array;
  pos: number;
  end: number;
  /** Current struct nesting, maintained by generated decoders via enter()/leave(). */
  depth: number;
  /** Deepest nesting accepted by skip() and by generated decoders. */
  maxDepth: number;
  private view: DataView;
  /** A Buffer over the same bytes, made on first need per input buffer (native latin1 slicing). */
  private nodeBuf: Latin1Buffer | null;

  constructor(buf: Uint8Array = EMPTY, pos = 0, end = buf.length) {
    this.buf = buf;
    this.pos = pos;
    this.end = end;
    this.depth = 0;
    this.maxDepth = DEFAULT_MAX_DEPTH;
    this.view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
    this.nodeBuf = null;
  }

  private asNodeBuffer(): Latin1Buffer {
    if (this.nodeBuf === null) this.nodeBuf = Buffer.from(this.buf.buffer, this.buf.byteOffset, this.buf.byteLength) as Latin1Buffer;
    return this.nodeBuf;
  }

  /** Points the reader at new input; the DataView is rebuilt only for a new buffer. */
  reset(buf: Uint8Array, pos = 0, end = buf.length): void {
    if (buf !== this.buf) {
      this.buf = buf;
      this.view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
      this.nodeBuf = null;
    }
    this.pos = pos;
    this.end = end;
    this.depth = 0;
  }

  /** The 4 bytes at buf[pos] as a big-endian i32, to compare byte runs a word at a time; no cursor move (a RangeError past the buffer's end). */
  wordAt(pos: number): number {
    return this.view.getInt32(pos);
  }

  atEnd(): boolean {
    return this.pos >= this.end;
  }

  /** Enters one level of nesting; throws past maxDepth. */
  enter(): void {
    if (++this.depth > this.maxDepth) throw new DecodeError(`nesting deeper than ${this.maxDepth} levels`);
  }

  leave(): void {
    this.depth--;
  }

  private need(n: number): void {
    if (this.pos + n > this.end) throw this.truncated(n);
  }

  private truncated(n: number): DecodeError {
    return new DecodeError(`truncated input: needed ${n} more bytes, ${this.end - this.pos} remain`);
  }

  private lead(): number {
    if (this.pos >= this.end) throw this.truncated(1);
    return this.buf[this.pos++]!;
  }

  private wrongType(expected: string, b: number): DecodeError {
    return new DecodeError(`expected ${expected} but found ${describeByte(b)}`);
  }

  /** True when the next value is nil (does not consume it). */
  peekNil(): boolean {
    return this.pos < this.end && this.buf[this.pos] === 0xc0;
  }

  /** The lead byte of the next value, or -1 at the end (does not consume it). */
  peekByte(): number {
    return this.pos < this.end ? this.buf[this.pos]! : -1;
  }

  nil(): null {
    const b = this.lead();
    if (b !== 0xc0) throw this.wrongType("nil", b);
    return null;
  }

  bool(): boolean {
    const b = this.lead();
    if (b === 0xc3) return true;
    if (b === 0xc2) return false;
    throw this.wrongType("bool", b);
  }

  /** An integer of any msgpack width; throws unless it is a safe integer. */
  int(): number {
    const b = this.lead();
    if (b <= 0x7f) return b;
    if (b >= 0xe0) return b - 0x100;
    return this.intSlow(b);
  }

  private intSlow(b: number): number {
    const p = this.pos;
    switch (b) {
      case 0xcc:
        this.need(1);
        this.pos = p + 1;
        return this.buf[p]!;
      case 0xcd:
        this.need(2);
        this.pos = p + 2;
        return this.view.getUint16(p);
      case 0xce:
        this.need(4);
        this.pos = p + 4;
        return this.view.getUint32(p);
      case 0xcf: {
        this.need(8);
        const hi = this.view.getUint32(p);
        if (hi > MAX_SAFE_HI) throw new DecodeError("integer does not fit a safe integer (use i64/u64)");
        this.pos = p + 8;
        return hi * TWO_32 + this.view.getUint32(p + 4);
      }
      case 0xd0:
        this.need(1);
        this.pos = p + 1;
        return this.view.getInt8(p);
      case 0xd1:
        this.need(2);
        this.pos = p + 2;
        return this.view.getInt16(p);
      case 0xd2:
        this.need(4);
        this.pos = p + 4;
        return this.view.getInt32(p);
      case 0xd3: {
        this.need(8);
        const hi = this.view.getInt32(p);
        if (hi > MAX_SAFE_HI || hi < -MAX_SAFE_HI - 1) throw new DecodeError("integer does not fit a safe integer (use i64/u64)");
        const v = hi * TWO_32 + this.view.getUint32(p + 4);
        if (!Number.isSafeInteger(v)) throw new DecodeError("integer does not fit a safe integer (use i64/u64)");
        this.pos = p + 8;
        return v;
      }
      default:
        this.pos = p - 1;
        throw this.wrongType("int", b);
    }
  }

  /** An integer in [-2^31, 2^31-1] (IDL i32). */
  i32(): number {
    const v = this.int();
    if ((v | 0) !== v) throw new DecodeError(`integer ${v} is out of range for i32`);
    return v;
  }

  /** An integer in [0, 2^32-1] (IDL u32). */
  u32(): number {
    const v = this.int();
    if (v < 0 || v > 0xffffffff) throw new DecodeError(`integer ${v} is out of range for u32`);
    return v;
  }

  /** Any msgpack integer as a BigInt; throws outside the signed 64-bit range. */
  i64(): bigint {
    const b = this.peekByte();
    if (b === 0xcf) {
      this.need(9);
      const v = this.view.getBigUint64(this.pos + 1);
      if (v > 0x7fffffffffffffffn) throw new DecodeError(`integer ${v} is out of range for i64`);
      this.pos += 9;
      return v;
    }
    if (b === 0xd3) {
      this.need(9);
      const v = this.view.getBigInt64(this.pos + 1);
      this.pos += 9;
      return v;
    }
    return BigInt(this.int());
  }

  /** Any non-negative msgpack integer as a BigInt (up to 2^64-1). */
  u64(): bigint {
    const b = this.peekByte();
    if (b === 0xcf) {
      this.need(9);
      const v = this.view.getBigUint64(this.pos + 1);
      this.pos += 9;
      return v;
    }
    if (b === 0xd3) {
      this.need(9);
      const v = this.view.getBigInt64(this.pos + 1);
      if (v < 0n) throw new DecodeError(`integer ${v} is out of range for u64`);
      this.pos += 9;
      return v;
    }
    const start = this.pos;
    const v = this.int();
    if (v < 0) {
      this.pos = start;
      throw new DecodeError(`integer ${v} is out of range for u64`);
    }
    return BigInt(v);
  }

  /** A float64 or float32; integers are accepted and converted. */
  f64(): number {
    const b = this.lead();
    const p = this.pos;
    if (b === 0xcb) {
      this.need(8);
      this.pos = p + 8;
      return this.view.getFloat64(p);
    }
    if (b === 0xca) {
      this.need(4);
      this.pos = p + 4;
      return this.view.getFloat32(p);
    }
    if (b <= 0x7f) return b;
    if (b >= 0xe0) return b - 0x100;
    if (b >= 0xcc && b <= 0xd3) {
      if (b === 0xcf) {
        this.need(8);
        this.pos = p + 8;
        return this.view.getUint32(p) * TWO_32 + this.view.getUint32(p + 4);
      }
      if (b === 0xd3) {
        this.need(8);
        this.pos = p + 8;
        return this.view.getInt32(p) * TWO_32 + this.view.getUint32(p + 4);
      }
      return this.intSlow(b);
    }
    this.pos = p - 1;
    throw this.wrongType("float", b);
  }

  /**
   * Skips the string that is next without decoding it and returns where its
   * bytes start (they end at the new `pos`): for callers that can match raw
   * bytes, such as a method path seen many times on one connection.
   */
  strSpan(): number {
    const n = this.strHeader();
    const p = this.pos;
    if (p + n > this.end) throw this.truncated(n);
    this.pos = p + n;
    return p;
  }

  /** The byte length of a string whose header is next; consumes the header. */
  private strHeader(): number {
    const b = this.lead();
    if ((b & 0xe0) === 0xa0) return b & 0x1f;
    const p = this.pos;
    let n: number;
    if (b === 0xd9) {
      this.need(1);
      n = this.buf[p]!;
      this.pos = p + 1;
    } else if (b === 0xda) {
      this.need(2);
      n = this.view.getUint16(p);
      this.pos = p + 2;
    } else if (b === 0xdb) {
      this.need(4);
      n = this.view.getUint32(p);
      this.pos = p + 4;
    } else {
      this.pos = p - 1;
      throw this.wrongType("string", b);
    }
    return n;
  }

  str(): string {
    const n = this.strHeader();
    const p = this.pos;
    if (p + n > this.end) throw this.truncated(n);
    const buf = this.buf;
    // ASCII (the common case) skips UTF-8 validation: Buffer's latin1Slice of
    // ASCII is ASCII, and it yields a flat string. Building short strings with
    // `+=` was faster to decode but left ropes that every later use (encoding
    // the string back, hashing it) had to flatten.
    let i = 0;
    while (i < n && buf[p + i]! < 0x80) i++;
    if (i === n) {
      this.pos = p + n;
      return n === 0 ? "" : this.asNodeBuffer().latin1Slice(p, p + n);
    }
    let s: string;
    try {
      s = utf8.decode(buf.subarray(p, p + n));
    } catch {
      throw new DecodeError(`invalid UTF-8 in a string of ${n} bytes`);
    }
    this.pos = p + n;
    return s;
  }

  private binHeader(): number {
    const b = this.lead();
    const p = this.pos;
    let n: number;
    if (b === 0xc4) {
      this.need(1);
      n = this.buf[p]!;
      this.pos = p + 1;
    } else if (b === 0xc5) {
      this.need(2);
      n = this.view.getUint16(p);
      this.pos = p + 2;
    } else if (b === 0xc6) {
      this.need(4);
      n = this.view.getUint32(p);
      this.pos = p + 4;
    } else {
      this.pos = p - 1;
      throw this.wrongType("bin", b);
    }
    if (this.pos + n > this.end) throw this.truncated(n);
    return n;
  }

  /** A bin value, copied (safe to keep after the input buffer is reused). */
  bin(): Uint8Array {
    const n = this.binHeader();
    const p = this.pos;
    this.pos = p + n;
    return this.buf.slice(p, p + n);
  }

  /** A bin value as a view into the input (zero-copy; valid while the input is). */
  binView(): Uint8Array {
    const n = this.binHeader();
    const p = this.pos;
    this.pos = p + n;
    return this.buf.subarray(p, p + n);
  }

  /** A msgpack timestamp (extension -1) in its 32-, 64- or 96-bit form. */
  timestamp(): Date {
    const b = this.lead();
    const p = this.pos;
    const view = this.view;
    if (b === 0xd6) {
      this.need(5);
      this.extType(p, -1);
      this.pos = p + 5;
      return new Date(view.getUint32(p + 1) * 1000);
    }
    if (b === 0xd7) {
      this.need(9);
      this.extType(p, -1);
      const hi = view.getUint32(p + 1);
      const nsec = hi >>> 2;
      const sec = (hi & 3) * TWO_32 + view.getUint32(p + 5);
      this.checkNsec(nsec);
      this.pos = p + 9;
      return new Date(sec * 1000 + Math.floor(nsec / 1000000));
    }
    if (b === 0xc7) {
      this.need(1);
      if (this.buf[p] !== 12) throw new DecodeError(`timestamp extension of length ${this.buf[p]} (expected 4, 8 or 12)`);
      this.need(14);
      this.extType(p + 1, -1);
      const nsec = view.getUint32(p + 2);
      this.checkNsec(nsec);
      const sec = view.getInt32(p + 6) * TWO_32 + view.getUint32(p + 10);
      const ms = sec * 1000 + Math.floor(nsec / 1000000);
      if (!(Math.abs(ms) <= 8.64e15)) throw new DecodeError("timestamp out of the range a Date can hold");
      this.pos = p + 14;
      return new Date(ms);
    }
    this.pos = p - 1;
    throw this.wrongType("timestamp", b);
  }

  private extType(p: number, expected: number): void {
    const t = this.view.getInt8(p);
    if (t !== expected) throw new DecodeError(`unsupported msgpack extension type ${t}`);
  }

  private checkNsec(nsec: number): void {
    if (nsec > 999999999) throw new DecodeError(`timestamp nanoseconds ${nsec} out of range`);
  }

  /** An array header; the count is capped by the bytes that remain (each element takes at least one). */
  arrayHeader(): number {
    const b = this.lead();
    let n: number;
    if ((b & 0xf0) === 0x90) n = b & 0x0f;
    else if (b === 0xdc) {
      this.need(2);
      n = this.view.getUint16(this.pos);
      this.pos += 2;
    } else if (b === 0xdd) {
      this.need(4);
      n = this.view.getUint32(this.pos);
      this.pos += 4;
    } else {
      this.pos--;
      throw this.wrongType("array", b);
    }
    if (n > this.end - this.pos) throw new DecodeError(`array header declares ${n} elements but only ${this.end - this.pos} bytes remain`);
    return n;
  }

  /** A map header; the count is capped by the bytes that remain (each entry takes at least two). */
  mapHeader(): number {
    const b = this.lead();
    let n: number;
    if ((b & 0xf0) === 0x80) n = b & 0x0f;
    else if (b === 0xde) {
      this.need(2);
      n = this.view.getUint16(this.pos);
      this.pos += 2;
    } else if (b === 0xdf) {
      this.need(4);
      n = this.view.getUint32(this.pos);
      this.pos += 4;
    } else {
      this.pos--;
      throw this.wrongType("map", b);
    }
    if (n * 2 > this.end - this.pos) throw new DecodeError(`map header declares ${n} entries but only ${this.end - this.pos} bytes remain`);
    return n;
  }

  /**
   * One value of any type as a copy of its msgpack bytes, exactly as they
   * were (an open union's unknown variant, written back unchanged); checked
   * as skip() checks it.
   */
  rawValue(): Uint8Array {
    const start = this.pos;
    this.skipAt(this.depth);
    return this.buf.slice(start, this.pos);
  }

  /** Skips one value of any type (unknown fields); containers count toward maxDepth. */
  skip(): void {
    this.skipAt(this.depth);
  }

  private skipAt(depth: number): void {
    const b = this.lead();
    if (b <= 0x7f || b >= 0xe0 || b === 0xc0 || b === 0xc2 || b === 0xc3) return;
    if ((b & 0xe0) === 0xa0) return this.skipBytes(b & 0x1f);
    if ((b & 0xf0) === 0x90) return this.skipItems(b & 0x0f, depth);
    if ((b & 0xf0) === 0x80) return this.skipItems((b & 0x0f) * 2, depth);
    const p = this.pos;
    switch (b) {
      case 0xcc: case 0xd0: return this.skipBytes(1);
      case 0xcd: case 0xd1: return this.skipBytes(2);
      case 0xce: case 0xd2: case 0xca: return this.skipBytes(4);
      case 0xcf: case 0xd3: case 0xcb: return this.skipBytes(8);
      case 0xd9: case 0xc4: this.need(1); this.pos = p + 1; return this.skipBytes(this.buf[p]!);
      case 0xda: case 0xc5: this.need(2); this.pos = p + 2; return this.skipBytes(this.view.getUint16(p));
      case 0xdb: case 0xc6: this.need(4); this.pos = p + 4; return this.skipBytes(this.view.getUint32(p));
      case 0xdc: case 0xdd: case 0xde: case 0xdf: {
        this.pos = p - 1;
        const n = b <= 0xdd ? this.arrayHeader() : this.mapHeader() * 2;
        return this.skipItems(n, depth);
      }
      case 0xd6: case 0xd7: case 0xc7:
        // Only timestamps are accepted, even when skipping: other extensions never pass.
        this.pos = p - 1;
        this.timestamp();
        return;
      default:
        this.pos = p - 1;
        if (b === 0xc1) throw new DecodeError("reserved msgpack byte 0xc1");
        throw new DecodeError(`unsupported msgpack extension (lead byte 0x${b.toString(16)})`);
    }
  }

  private skipBytes(n: number): void {
    if (this.pos + n > this.end) throw this.truncated(n);
    this.pos += n;
  }

  private skipItems(n: number, depth: number): void {
    if (depth + 1 > this.maxDepth) throw new DecodeError(`nesting deeper than ${this.maxDepth} levels`);
    if (n > this.end - this.pos) throw new DecodeError(`container declares ${n} items but only ${this.end - this.pos} bytes remain`);
    for (let i = 0; i < n; i++) this.skipAt(depth + 1);
  }
}
