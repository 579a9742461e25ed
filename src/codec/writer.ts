/**
 * MsgWriter: appends msgpack values to one growable Uint8Array with a cursor.
 * Every value costs one capacity check; the DataView is cached and replaced
 * only when the buffer grows. Integers always take their smallest encoding.
 * An optional `limit` bounds the cursor: a value that would carry it past the
 * limit throws EncodeLimitError before the buffer grows for it, so a frame
 * over its size limit is refused while it is encoded, not after gigabytes
 * were copied. Every typed primitive checks the JS type (and, for sized
 * integers, the range) it was given and throws EncodeError `expected u32
 * (...), got -5` instead of coercing: a number is never written as a string,
 * a string never as a number, a -5 never as a u32. The checks are the ones
 * the write implies anyway (a typeof, a compare), cheap on the hot path.
 * Owns encoding primitives only: no knowledge of messages or frames (the
 * generated encoders add the message and field path).
 */
import { describeValue } from "./describe-value.ts";
import { EncodeError, EncodeLimitError } from "./errors.ts";

const SAFETY_MARGIN = 16;
const I64 = "i64 (a bigint in [-2^63, 2^63-1])";
const U64 = "u64 (a bigint in [0, 2^64-1])";
const TWO_32 = 4294967296;
/** Below this length an ASCII loop beats TextEncoder.encodeInto (measured crossover ~32-40 chars). */
const ASCII_FAST_MAX = 40;

const utf8 = new TextEncoder();

/** Kept out of the primitives so their hot bodies stay small. */
function notEncodable(expected: string, v: unknown): EncodeError {
  return new EncodeError(`expected ${expected}, got ${describeValue(v)}`);
}

export class MsgWriter {
  buf: Uint8Array;
  pos: number;
  /** The cursor may not pass this (Infinity: no limit); checked whenever the buffer must grow. */
  limit: number;
  private view: DataView;

  constructor(initialSize = 4096) {
    this.buf = new Uint8Array(Math.max(initialSize, SAFETY_MARGIN));
    this.view = new DataView(this.buf.buffer, this.buf.byteOffset, this.buf.byteLength);
    this.pos = 0;
    this.limit = Infinity;
  }

  /** Rewinds the cursor; keeps the buffer (views from bytes() become invalid). */
  reset(): void {
    this.pos = 0;
  }

  /** Makes room for n more bytes past the cursor. */
  ensure(n: number): void {
    if (this.pos + n > this.buf.length) this.grow(n);
  }

  private grow(n: number): void {
    if (this.pos + n > this.limit) throw new EncodeLimitError(this.limit, this.pos + n);
    let size = this.buf.length * 2;
    while (size < this.pos + n + SAFETY_MARGIN) size *= 2;
    const next = new Uint8Array(size);
    next.set(this.buf.subarray(0, this.pos));
    this.buf = next;
    this.view = new DataView(next.buffer, next.byteOffset, next.byteLength);
  }

  nil(): void {
    this.ensure(1);
    this.buf[this.pos++] = 0xc0;
  }

  bool(v: boolean): void {
    if (v !== true && v !== false) throw notEncodable("bool", v);
    this.ensure(1);
    this.buf[this.pos++] = v ? 0xc3 : 0xc2;
  }

  /** An IDL i32: throws EncodeError for anything but an integer in [-2^31, 2^31-1]. */
  i32(v: number): void {
    if (typeof v !== "number" || (v | 0) !== v) throw notEncodable("i32 (an integer in [-2^31, 2^31-1])", v);
    this.int(v);
  }

  /** An IDL u32: throws EncodeError for anything but an integer in [0, 2^32-1]. */
  u32(v: number): void {
    if (typeof v !== "number" || v >>> 0 !== v) throw notEncodable("u32 (an integer in [0, 2^32-1])", v);
    this.int(v);
  }

  /** Any safe integer, in its smallest msgpack encoding (throws EncodeError otherwise). */
  int(v: number): void {
    this.ensure(9);
    const buf = this.buf;
    if ((v | 0) === v) {
      if (v >= 0) {
        if (v < 0x80) buf[this.pos++] = v;
        else if (v < 0x100) {
          buf[this.pos] = 0xcc;
          buf[this.pos + 1] = v;
          this.pos += 2;
        } else if (v < 0x10000) {
          buf[this.pos] = 0xcd;
          buf[this.pos + 1] = v >>> 8;
          buf[this.pos + 2] = v;
          this.pos += 3;
        } else {
          buf[this.pos] = 0xce;
          this.view.setUint32(this.pos + 1, v);
          this.pos += 5;
        }
      } else if (v >= -32) buf[this.pos++] = v & 0xff;
      else if (v >= -128) {
        buf[this.pos] = 0xd0;
        buf[this.pos + 1] = v & 0xff;
        this.pos += 2;
      } else if (v >= -32768) {
        buf[this.pos] = 0xd1;
        this.view.setInt16(this.pos + 1, v);
        this.pos += 3;
      } else {
        buf[this.pos] = 0xd2;
        this.view.setInt32(this.pos + 1, v);
        this.pos += 5;
      }
      return;
    }
    if (!Number.isSafeInteger(v)) throw notEncodable("a safe integer", v);
    if (v > 0) {
      if (v < TWO_32) {
        buf[this.pos] = 0xce;
        this.view.setUint32(this.pos + 1, v);
        this.pos += 5;
      } else {
        buf[this.pos] = 0xcf;
        this.view.setUint32(this.pos + 1, Math.floor(v / TWO_32));
        this.view.setUint32(this.pos + 5, v >>> 0);
        this.pos += 9;
      }
    } else {
      const hi = Math.floor(v / TWO_32);
      buf[this.pos] = 0xd3;
      this.view.setInt32(this.pos + 1, hi);
      this.view.setUint32(this.pos + 5, v - hi * TWO_32);
      this.pos += 9;
    }
  }

  /** A signed 64-bit integer, a bigint (throws EncodeError for a number or outside [-2^63, 2^63-1]). */
  i64(v: bigint): void {
    if (typeof v !== "bigint") throw notEncodable(I64, v);
    // Number(v) is exact whenever the result is a safe integer (larger values round past the bound).
    const n = Number(v);
    if (n >= -Number.MAX_SAFE_INTEGER && n <= Number.MAX_SAFE_INTEGER) return this.int(n);
    if (v < -0x8000000000000000n || v > 0x7fffffffffffffffn) throw notEncodable(I64, v);
    this.ensure(9);
    if (v > 0n) {
      this.buf[this.pos] = 0xcf;
      this.view.setBigUint64(this.pos + 1, v);
    } else {
      this.buf[this.pos] = 0xd3;
      this.view.setBigInt64(this.pos + 1, v);
    }
    this.pos += 9;
  }

  /** An unsigned 64-bit integer, a bigint (throws EncodeError for a number or outside [0, 2^64-1]). */
  u64(v: bigint): void {
    if (typeof v !== "bigint") throw notEncodable(U64, v);
    const n = Number(v);
    if (n >= 0 && n <= Number.MAX_SAFE_INTEGER) return this.int(n);
    if (v < 0n || v > 0xffffffffffffffffn) throw notEncodable(U64, v);
    this.ensure(9);
    this.buf[this.pos] = 0xcf;
    this.view.setBigUint64(this.pos + 1, v);
    this.pos += 9;
  }

  /** Any number, NaN and ±Infinity included, always as float 64. */
  f64(v: number): void {
    if (typeof v !== "number") throw notEncodable("f64 (a number)", v);
    this.ensure(9);
    this.buf[this.pos] = 0xcb;
    this.view.setFloat64(this.pos + 1, v);
    this.pos += 9;
  }

  str(v: string): void {
    if (typeof v !== "string") throw notEncodable("string", v);
    const len = v.length;
    if (len < ASCII_FAST_MAX) {
      this.ensure(2 + len);
      const buf = this.buf;
      const start = this.pos;
      let p = len < 32 ? start + 1 : start + 2;
      let i = 0;
      for (; i < len; i++) {
        const c = v.charCodeAt(i);
        if (c >= 0x80) break;
        buf[p++] = c;
      }
      if (i === len) {
        if (len < 32) buf[start] = 0xa0 | len;
        else {
          buf[start] = 0xd9;
          buf[start + 1] = len;
        }
        this.pos = p;
        return;
      }
    }
    this.strUtf8(v);
  }

  private strUtf8(v: string): void {
    let max = v.length * 3;
    // Near a limit, ask for the exact UTF-8 length instead of the 3x bound.
    if (this.pos + 5 + max > this.limit) max = Buffer.byteLength(v, "utf8");
    const header = max < 32 ? 1 : max < 0x100 ? 2 : max < 0x10000 ? 3 : 5;
    this.ensure(header + max);
    const start = this.pos;
    const n = utf8.encodeInto(v, this.buf.subarray(start + header)).written;
    const need = n < 32 ? 1 : n < 0x100 ? 2 : n < 0x10000 ? 3 : 5;
    if (need < header) this.buf.copyWithin(start + need, start + header, start + header + n);
    const buf = this.buf;
    if (need === 1) buf[start] = 0xa0 | n;
    else if (need === 2) {
      buf[start] = 0xd9;
      buf[start + 1] = n;
    } else if (need === 3) {
      buf[start] = 0xda;
      buf[start + 1] = n >>> 8;
      buf[start + 2] = n;
    } else {
      buf[start] = 0xdb;
      this.view.setUint32(start + 1, n);
    }
    this.pos = start + need + n;
  }

  bin(v: Uint8Array): void {
    if (!(v instanceof Uint8Array)) throw notEncodable("bytes (a Uint8Array)", v);
    const n = v.length;
    this.ensure(5 + n);
    const buf = this.buf;
    if (n < 0x100) {
      buf[this.pos] = 0xc4;
      buf[this.pos + 1] = n;
      this.pos += 2;
    } else if (n < 0x10000) {
      buf[this.pos] = 0xc5;
      buf[this.pos + 1] = n >>> 8;
      buf[this.pos + 2] = n;
      this.pos += 3;
    } else {
      buf[this.pos] = 0xc6;
      this.view.setUint32(this.pos + 1, n);
      this.pos += 5;
    }
    buf.set(v, this.pos);
    this.pos += n;
  }

  /** Msgpack timestamp extension (type -1): 32-, 64- or 96-bit form, smallest that fits. */
  timestamp(d: Date): void {
    if (!(d instanceof Date)) throw notEncodable("timestamp (a valid Date)", d);
    const ms = d.getTime();
    if (Number.isNaN(ms)) throw notEncodable("timestamp (a valid Date)", d);
    const sec = Math.floor(ms / 1000);
    const nsec = (ms - sec * 1000) * 1000000;
    this.ensure(15);
    const buf = this.buf;
    const p = this.pos;
    if (sec >= 0 && sec < 0x400000000) {
      if (nsec === 0 && sec < TWO_32) {
        buf[p] = 0xd6;
        buf[p + 1] = 0xff;
        this.view.setUint32(p + 2, sec);
        this.pos = p + 6;
      } else {
        buf[p] = 0xd7;
        buf[p + 1] = 0xff;
        this.view.setUint32(p + 2, nsec * 4 + Math.floor(sec / TWO_32));
        this.view.setUint32(p + 6, sec >>> 0);
        this.pos = p + 10;
      }
    } else {
      buf[p] = 0xc7;
      buf[p + 1] = 12;
      buf[p + 2] = 0xff;
      this.view.setUint32(p + 3, nsec);
      const hi = Math.floor(sec / TWO_32);
      this.view.setInt32(p + 7, hi);
      this.view.setUint32(p + 11, sec - hi * TWO_32);
      this.pos = p + 15;
    }
  }

  arrayHeader(n: number): void {
    this.ensure(5);
    const buf = this.buf;
    if (n < 16) buf[this.pos++] = 0x90 | n;
    else if (n < 0x10000) {
      buf[this.pos] = 0xdc;
      buf[this.pos + 1] = n >>> 8;
      buf[this.pos + 2] = n;
      this.pos += 3;
    } else {
      buf[this.pos] = 0xdd;
      this.view.setUint32(this.pos + 1, n);
      this.pos += 5;
    }
  }

  /** The header of a list<T>: throws EncodeError unless `a` is an array. */
  arrayHeaderOf(a: readonly unknown[]): void {
    if (!Array.isArray(a)) throw notEncodable("list (an array)", a);
    this.arrayHeader(a.length);
  }

  /**
   * The header of a map<string, V> held as a plain object; returns its keys
   * in the order to write them. Throws EncodeError for a Map, an array or a
   * non-object (which would otherwise be written as an empty or index-keyed map).
   */
  mapHeaderOfRecord(o: Readonly<Record<string, unknown>>): string[] {
    if (typeof o !== "object" || o === null || Array.isArray(o) || o instanceof Map) throw notEncodable("map<string, V> (a plain object)", o);
    const keys = Object.keys(o);
    this.mapHeader(keys.length);
    return keys;
  }

  /** The header of a map with integer keys, held as a Map: throws EncodeError for anything else. */
  mapHeaderOfMap(m: ReadonlyMap<unknown, unknown>): void {
    if (!(m instanceof Map)) throw notEncodable("map<int, V> (a Map)", m);
    this.mapHeader(m.size);
  }

  mapHeader(n: number): void {
    this.ensure(5);
    const buf = this.buf;
    if (n < 16) buf[this.pos++] = 0x80 | n;
    else if (n < 0x10000) {
      buf[this.pos] = 0xde;
      buf[this.pos + 1] = n >>> 8;
      buf[this.pos + 2] = n;
      this.pos += 3;
    } else {
      buf[this.pos] = 0xdf;
      this.view.setUint32(this.pos + 1, n);
      this.pos += 5;
    }
  }

  /** Appends bytes that are already msgpack (or a frame's payload) verbatim. */
  raw(bytes: Uint8Array): void {
    this.ensure(bytes.length);
    this.buf.set(bytes, this.pos);
    this.pos += bytes.length;
  }

  /** Reserves n bytes (e.g. a length prefix to fill in later); returns their offset. */
  reserve(n: number): number {
    this.ensure(n);
    const off = this.pos;
    this.pos += n;
    return off;
  }

  /**
   * The start of a length-prefixed frame in one step: 4 bytes reserved for
   * the prefix (returned: fill it with setU32BE), then a fixarray header of
   * `fields` (< 16) and two small non-negative ints (a frame type < 128 and a
   * u32 id). What reserve + arrayHeader + int + int write, with one capacity
   * check instead of four.
   */
  frameStart(fields: number, type: number, id: number): number {
    this.ensure(15);
    const buf = this.buf;
    const off = this.pos;
    buf[off + 4] = 0x90 | fields;
    buf[off + 5] = type;
    let p = off + 6;
    if (id < 0x80) buf[p++] = id;
    else if (id < 0x100) {
      buf[p] = 0xcc;
      buf[p + 1] = id;
      p += 2;
    } else if (id < 0x10000) {
      buf[p] = 0xcd;
      buf[p + 1] = id >>> 8;
      buf[p + 2] = id;
      p += 3;
    } else {
      buf[p] = 0xce;
      this.view.setUint32(p + 1, id);
      p += 5;
    }
    this.pos = p;
    return off;
  }

  /** Writes a big-endian u32 at an offset previously returned by reserve(). */
  setU32BE(offset: number, v: number): void {
    this.view.setUint32(offset, v);
  }

  /** A view of the bytes written so far (no copy; invalid after reset or growth). */
  bytes(): Uint8Array {
    return this.buf.subarray(0, this.pos);
  }
}
