/**
 * MsgWriter/MsgReader against msgpackr 2.1.3 at every msgpack format boundary:
 * the bytes we write must be what msgpackr writes (where both pick the
 * smallest form), msgpackr must read what we write, and we must read what
 * msgpackr writes.
 */
import { describe, expect, test } from "bun:test";
import { Packr, Unpackr } from "msgpackr";
import { EncodeError, MsgReader, MsgWriter } from "../../src/codec/index.ts";

const packr = new Packr({ useRecords: false, variableMapSize: true });
const unpackr = new Unpackr({ useRecords: false, int64AsType: "bigint" });
const hex = (b: Uint8Array) => Buffer.from(b).toString("hex");

function written(fn: (w: MsgWriter) => void, initial = 16): Uint8Array {
  const w = new MsgWriter(initial);
  fn(w);
  return w.bytes().slice();
}

function reader(b: Uint8Array): MsgReader {
  return new MsgReader(b);
}

describe("integers", () => {
  // Values where msgpackr also picks the smallest integer form.
  const exact = [
    0, 1, 127, 128, 255, 256, 65535, 65536, 2 ** 31 - 1, 2 ** 31, 2 ** 32 - 1,
    -1, -31, -32, -33, -127, -128, -129, -32767, -32768, -32769, -(2 ** 31),
  ];
  test.each(exact)("int %p matches msgpackr byte for byte", (v) => {
    const mine = written((w) => w.int(v));
    expect(hex(mine)).toBe(hex(packr.pack(v)));
    const r = reader(mine);
    expect(r.int()).toBe(v);
    expect(r.atEnd()).toBe(true);
  });

  // Beyond 32 bits msgpackr writes float64 for numbers; we keep integers.
  const wide = [2 ** 32, 2 ** 40 + 7, Number.MAX_SAFE_INTEGER, -(2 ** 31) - 1, -(2 ** 40) - 3, Number.MIN_SAFE_INTEGER];
  test.each(wide)("int %p is a 64-bit integer msgpackr reads back", (v) => {
    const mine = written((w) => w.int(v));
    expect(mine.length).toBe(9);
    expect(mine[0]).toBe(v > 0 ? 0xcf : 0xd3);
    expect(unpackr.unpack(mine)).toBe(BigInt(v));
    expect(reader(mine).int()).toBe(v);
  });

  test("int rejects non-integers and unsafe integers", () => {
    const w = new MsgWriter();
    expect(() => w.int(1.5)).toThrow(new EncodeError("expected a safe integer, got 1.5"));
    expect(() => w.int(2 ** 53)).toThrow(new EncodeError("expected a safe integer, got 9007199254740992"));
    expect(() => w.int(Number.NaN)).toThrow(new EncodeError("expected a safe integer, got NaN"));
  });

  test("reader.int rejects integers beyond 2^53 but u64/i64 read them", () => {
    const big = written((w) => w.u64(2n ** 53n));
    expect(() => reader(big).int()).toThrow("safe integer");
    expect(reader(big).u64()).toBe(2n ** 53n);
    expect(reader(big).i64()).toBe(2n ** 53n);
  });

  const bigs = [0n, 1n, -1n, 2n ** 53n, 2n ** 63n - 1n, -(2n ** 63n), -(2n ** 53n) - 1n, 300n, -300n];
  test.each(bigs)("i64 %p round-trips through msgpackr both ways", (v) => {
    const mine = written((w) => w.i64(v));
    expect(BigInt(unpackr.unpack(mine))).toBe(v);
    expect(reader(mine).i64()).toBe(v);
    expect(reader(packr.pack(v)).i64()).toBe(v);
  });

  const ubigs = [0n, 255n, 2n ** 32n, 2n ** 53n - 1n, 2n ** 53n, 2n ** 63n, 2n ** 64n - 1n];
  test.each(ubigs)("u64 %p round-trips through msgpackr", (v) => {
    const mine = written((w) => w.u64(v));
    expect(BigInt(unpackr.unpack(mine))).toBe(v);
    expect(reader(mine).u64()).toBe(v);
  });

  test("i64/u64 range checks", () => {
    const w = new MsgWriter();
    expect(() => w.i64(2n ** 63n)).toThrow(new EncodeError("expected i64 (a bigint in [-2^63, 2^63-1]), got 9223372036854775808n"));
    expect(() => w.i64(-(2n ** 63n) - 1n)).toThrow("got -9223372036854775809n");
    expect(() => w.u64(-1n)).toThrow(new EncodeError("expected u64 (a bigint in [0, 2^64-1]), got -1n"));
    expect(() => w.u64(2n ** 64n)).toThrow("got 18446744073709551616n");
    expect(() => reader(written((x) => x.u64(2n ** 63n))).i64()).toThrow("out of range for i64");
    expect(() => reader(written((x) => x.int(-5))).u64()).toThrow("out of range for u64");
  });

  test("wrong type names what was found", () => {
    expect(() => reader(written((w) => w.str("x"))).int()).toThrow("expected int but found string");
    expect(() => reader(written((w) => w.nil())).bool()).toThrow("expected bool but found nil");
  });
});

describe("floats, bools, nil", () => {
  test.each([0.5, -1.25, 1e300, Number.POSITIVE_INFINITY, 3.141592653589793])("f64 %p matches msgpackr", (v) => {
    const mine = written((w) => w.f64(v));
    expect(hex(mine)).toBe(hex(packr.pack(v)));
    expect(Object.is(reader(mine).f64(), v)).toBe(true);
  });

  test("f64 -0 keeps its sign (msgpackr writes it as int 0)", () => {
    const mine = written((w) => w.f64(-0));
    expect(hex(mine)).toBe("cb8000000000000000");
    expect(Object.is(reader(mine).f64(), -0)).toBe(true);
    expect(Object.is(unpackr.unpack(mine), -0)).toBe(true);
  });

  test("f64 accepts integers of every width and float32", () => {
    for (const v of [5, -5, 200, -200, 70000, 2 ** 33, -(2 ** 33)]) expect(reader(written((w) => w.int(v))).f64()).toBe(v);
    expect(reader(new Uint8Array([0xca, 0x3f, 0xc0, 0, 0])).f64()).toBe(1.5);
    expect(Number.isNaN(reader(written((w) => w.f64(Number.NaN))).f64())).toBe(true);
  });

  test("bool and nil match msgpackr", () => {
    expect(hex(written((w) => { w.bool(true); w.bool(false); w.nil(); }))).toBe("c3c2c0");
    const r = reader(packr.pack([true, false, null]));
    expect(r.arrayHeader()).toBe(3);
    expect(r.bool()).toBe(true);
    expect(r.bool()).toBe(false);
    expect(r.peekNil()).toBe(true);
    expect(r.nil()).toBeNull();
    expect(r.peekNil()).toBe(false);
  });
});

describe("strings", () => {
  const lengths = [0, 1, 31, 32, 63, 64, 255, 256, 65535, 65536];
  test.each(lengths)("ASCII string of %p bytes matches msgpackr", (n) => {
    const s = "abcdefghij".repeat(Math.ceil(n / 10)).slice(0, n);
    const mine = written((w) => w.str(s));
    expect(hex(mine)).toBe(hex(packr.pack(s)));
    expect(reader(mine).str()).toBe(s);
    expect(reader(packr.pack(s)).str()).toBe(s);
  });

  // Multi-byte strings whose UTF-8 length lands on each header boundary.
  const utf8Cases: Array<[string, string]> = [
    ["é x15 (30 bytes)", "é".repeat(15)],
    ["é x16 (32 bytes)", "é".repeat(16)],
    ["€ x85 (255 bytes)", "€".repeat(85)],
    ["é x128 (256 bytes)", "é".repeat(128)],
    ["€ x21845 (65535 bytes)", "€".repeat(21845)],
    ["é x32768 (65536 bytes)", "é".repeat(32768)],
    ["emoji and ASCII", "ok 👍 done"],
    ["ASCII then non-ASCII late", `${"a".repeat(40)}ß`],
  ];
  test.each(utf8Cases)("UTF-8 %s matches msgpackr", (_name, s) => {
    const mine = written((w) => w.str(s));
    expect(hex(mine)).toBe(hex(packr.pack(s)));
    expect(reader(mine).str()).toBe(s);
  });

  test("invalid UTF-8 is a DecodeError", () => {
    expect(() => reader(new Uint8Array([0xa2, 0xc3, 0x28])).str()).toThrow("invalid UTF-8");
  });
});

describe("bin", () => {
  test.each([0, 1, 255, 256, 65535, 65536])("bin of %p bytes matches msgpackr", (n) => {
    const b = new Uint8Array(n).map((_, i) => i * 7);
    const mine = written((w) => w.bin(b));
    expect(hex(mine)).toBe(hex(packr.pack(b)));
    expect(reader(mine).bin()).toEqual(b);
    expect(reader(packr.pack(b)).binView()).toEqual(b);
  });

  test("bin() copies, binView() aliases the input", () => {
    const enc = written((w) => w.bin(new Uint8Array([1, 2, 3])));
    const copy = reader(enc).bin();
    const view = reader(enc).binView();
    enc[2] = 99;
    expect(copy[0]).toBe(1);
    expect(view[0]).toBe(99);
  });
});

describe("containers", () => {
  test.each([0, 15, 16, 65535, 65536])("array header for %p elements matches msgpackr", (n) => {
    const arr = new Array<number>(n).fill(1);
    const ours = written((w) => {
      w.arrayHeader(n);
      for (let i = 0; i < n; i++) w.int(1);
    });
    expect(hex(ours)).toBe(hex(packr.pack(arr)));
    const r = reader(ours);
    expect(r.arrayHeader()).toBe(n);
  });

  // msgpackr always writes map16 for objects (it counts keys afterwards), so
  // compare decoded values, not bytes; the header we write is the smallest.
  test.each([0, 15, 16, 65536])("map header for %p entries: smallest form, msgpackr agrees", (n) => {
    const obj: Record<string, number> = {};
    for (let i = 0; i < n; i++) obj[`k${i}`] = i;
    const ours = written((w) => {
      w.mapHeader(n);
      for (let i = 0; i < n; i++) {
        w.str(`k${i}`);
        w.int(i);
      }
    });
    expect(ours[0]).toBe(n < 16 ? 0x80 | n : n < 65536 ? 0xde : 0xdf);
    expect(unpackr.unpack(ours)).toEqual(obj);
    const r = reader(packr.pack(obj));
    expect(r.mapHeader()).toBe(n);
  });

  test("skip steps over every kind of value msgpackr writes", () => {
    const value = { a: [1, -200, 70000, 2 ** 40, 1.5, "str", null, true, new Uint8Array(300)], b: { c: new Date(1234) }, d: "é".repeat(100) };
    const enc = new Uint8Array([...packr.pack(value), 0x07]);
    const r = reader(enc);
    r.skip();
    expect(r.int()).toBe(7);
    expect(r.atEnd()).toBe(true);
  });
});

describe("timestamp", () => {
  const dates: Array<[string, number]> = [
    ["epoch (32-bit)", 0],
    ["whole seconds (32-bit)", 1_700_000_000_000],
    ["2^32-1 s (32-bit)", (2 ** 32 - 1) * 1000],
    ["milliseconds (64-bit)", 1_700_000_000_123],
    ["2^34 s (96-bit)", 2 ** 34 * 1000],
    ["before epoch (96-bit)", -1],
    ["far before epoch (96-bit)", -8.64e15],
    ["Date max (96-bit)", 8.64e15],
  ];
  test.each(dates)("%s matches msgpackr", (_name, ms) => {
    const d = new Date(ms);
    const mine = written((w) => w.timestamp(d));
    expect(hex(mine)).toBe(hex(packr.pack(d)));
    expect(reader(mine).timestamp().getTime()).toBe(ms);
    expect(reader(packr.pack(d)).timestamp().getTime()).toBe(ms);
  });

  // msgpackr switches to the 96-bit form at 2^32 s; the spec allows 64-bit up to 2^34 s.
  test.each([2 ** 32 * 1000, (2 ** 34 - 1) * 1000 + 999])("%p ms uses the 64-bit form msgpackr reads", (ms) => {
    const mine = written((w) => w.timestamp(new Date(ms)));
    expect(mine[0]).toBe(0xd7);
    expect((unpackr.unpack(mine) as Date).getTime()).toBe(ms);
    expect(reader(mine).timestamp().getTime()).toBe(ms);
  });

  test("form sizes: 6, 10 and 15 bytes", () => {
    expect(written((w) => w.timestamp(new Date(1000))).length).toBe(6);
    expect(written((w) => w.timestamp(new Date(1001))).length).toBe(10);
    expect(written((w) => w.timestamp(new Date(-1000))).length).toBe(15);
  });

  test("invalid dates and bad nanoseconds are rejected", () => {
    expect(() => new MsgWriter().timestamp(new Date(Number.NaN))).toThrow(new EncodeError("expected timestamp (a valid Date), got an invalid Date"));
    // timestamp64 with nsec = 2^30-1 (> 999999999)
    expect(() => reader(new Uint8Array([0xd7, 0xff, 0xff, 0xff, 0xff, 0xfc, 0, 0, 0, 0])).timestamp()).toThrow("nanoseconds");
  });
});

describe("writer", () => {
  test("grows from a tiny buffer and keeps earlier bytes", () => {
    const w = new MsgWriter(1);
    for (let i = 0; i < 1000; i++) w.str(`value-${i}`);
    const r = reader(w.bytes());
    for (let i = 0; i < 1000; i++) expect(r.str()).toBe(`value-${i}`);
    expect(r.atEnd()).toBe(true);
  });

  test("reserve + setU32BE fill a length prefix; reset rewinds", () => {
    const w = new MsgWriter(8);
    const off = w.reserve(4);
    w.str("hello");
    w.setU32BE(off, w.pos - off - 4);
    expect(hex(w.bytes())).toBe("00000006a568656c6c6f");
    w.reset();
    w.raw(new Uint8Array([0xc0]));
    expect(hex(w.bytes())).toBe("c0");
  });
});

describe("seeded random values cross-checked with msgpackr", () => {
  let seed = 0x9e3779b9;
  const rand = () => {
    seed = (seed * 1664525 + 1013904223) >>> 0;
    return seed / 4294967296;
  };
  test("integers of every magnitude", () => {
    for (let i = 0; i < 2000; i++) {
      const bits = Math.floor(rand() * 53);
      const v = Math.floor(rand() * 2 ** bits) * (rand() < 0.5 ? -1 : 1) + 0; // + 0: no -0 (ints have none)
      const mine = written((w) => w.int(v));
      expect(BigInt(unpackr.unpack(mine) as number | bigint)).toBe(BigInt(v));
      expect(reader(mine).int()).toBe(v);
    }
  });
  test("strings of mixed scripts", () => {
    const pool = ["a", "Z", "~", "é", "ß", "€", "中", "👍", "\u0000", "\u07ff", "\u0800", "\uffff"];
    for (let i = 0; i < 500; i++) {
      const n = Math.floor(rand() * 80);
      let s = "";
      for (let j = 0; j < n; j++) s += pool[Math.floor(rand() * pool.length)];
      const mine = written((w) => w.str(s));
      expect(hex(mine)).toBe(hex(packr.pack(s)));
      expect(reader(mine).str()).toBe(s);
    }
  });
});
