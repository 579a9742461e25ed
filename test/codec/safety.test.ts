/**
 * MsgReader on hostile input: truncation at every byte, headers that declare
 * more than remains, nesting depth, foreign extensions; DecodeError paths.
 */
import { describe, expect, test } from "bun:test";
import { Packr } from "msgpackr";
import { DecodeError, MsgReader, MsgWriter, joinPath } from "../../src/codec/index.ts";

const packr = new Packr({ useRecords: false });

function expectDecodeError(fn: () => unknown, text?: string): DecodeError {
  let caught: unknown;
  try {
    fn();
  } catch (e) {
    caught = e;
  }
  expect(caught).toBeInstanceOf(DecodeError);
  const err = caught as DecodeError;
  expect(err.code).toBe("DECODE_ERROR");
  expect(err.name).toBe("DecodeError");
  if (text !== undefined) expect(err.message).toContain(text);
  return err;
}

describe("truncated input", () => {
  const samples: Array<[string, (w: MsgWriter) => void, (r: MsgReader) => unknown]> = [
    ["uint16", (w) => w.int(300), (r) => r.int()],
    ["uint32", (w) => w.int(70000), (r) => r.int()],
    ["uint64", (w) => w.int(2 ** 40), (r) => r.int()],
    ["int64", (w) => w.i64(-(2n ** 60n)), (r) => r.i64()],
    ["u64", (w) => w.u64(2n ** 63n), (r) => r.u64()],
    ["float64", (w) => w.f64(1.5), (r) => r.f64()],
    ["str8", (w) => w.str("x".repeat(40)), (r) => r.str()],
    ["fixstr utf8", (w) => w.str("héllo"), (r) => r.str()],
    ["str16", (w) => w.str("y".repeat(300)), (r) => r.str()],
    ["bin8", (w) => w.bin(new Uint8Array(10)), (r) => r.bin()],
    ["bin16", (w) => w.bin(new Uint8Array(300)), (r) => r.binView()],
    ["timestamp32", (w) => w.timestamp(new Date(5000)), (r) => r.timestamp()],
    ["timestamp64", (w) => w.timestamp(new Date(5001)), (r) => r.timestamp()],
    ["timestamp96", (w) => w.timestamp(new Date(-5001)), (r) => r.timestamp()],
    ["array16 header", (w) => w.arrayHeader(20), (r) => r.arrayHeader()],
    ["map32 header", (w) => w.mapHeader(70000), (r) => r.mapHeader()],
    ["nested value", (w) => w.raw(packr.pack({ a: [1, "two", { b: 3.5 }] })), (r) => r.skip()],
  ];
  test.each(samples)("%s: every strict prefix fails with DecodeError", (_name, write, read) => {
    const w = new MsgWriter(4);
    write(w);
    const full = w.bytes().slice();
    for (let cut = 0; cut < full.length; cut++) {
      const r = new MsgReader(full, 0, cut);
      expectDecodeError(() => read(r));
    }
    // The reader must honour `end` even when the buffer holds more bytes.
    const padded = new Uint8Array(full.length + 8);
    padded.set(full);
    expectDecodeError(() => read(new MsgReader(padded, 0, full.length - 1)));
  });

  test("empty input names the end", () => {
    expectDecodeError(() => new MsgReader(new Uint8Array(0)).int(), "truncated input");
  });
});

describe("oversized headers fail before allocating", () => {
  const cases: Array<[string, number[], (r: MsgReader) => unknown, string]> = [
    ["array32 of 2^32-1", [0xdd, 0xff, 0xff, 0xff, 0xff, 0x01], (r) => r.arrayHeader(), "array header declares 4294967295"],
    ["map32 of 2^32-1", [0xdf, 0xff, 0xff, 0xff, 0xff, 0x01, 0x02], (r) => r.mapHeader(), "map header declares 4294967295"],
    ["fixmap 3 with 5 bytes", [0x83, 1, 2, 3, 4, 5], (r) => r.mapHeader(), "map header declares 3"],
    ["str32 of 2^32-1", [0xdb, 0xff, 0xff, 0xff, 0xff, 0x61], (r) => r.str(), "truncated input"],
    ["bin32 of 2^32-1", [0xc6, 0xff, 0xff, 0xff, 0xff, 0x61], (r) => r.bin(), "truncated input"],
    ["skip of array32", [0xdd, 0xff, 0xff, 0xff, 0xff, 0x01], (r) => r.skip(), "declares 4294967295"],
  ];
  /** The same header declaring 3 instead of 2^32-1: also fails, with nothing big to skip or allocate. */
  const small = (bytes: number[]) => (bytes[1] === 0xff ? [bytes[0]!, 0, 0, 0, 3, ...bytes.slice(5)] : bytes);
  const timeFailures = (bytes: number[], read: (r: MsgReader) => unknown, n: number) => {
    const input = new Uint8Array(bytes);
    const t0 = performance.now();
    for (let i = 0; i < n; i++) {
      try {
        read(new MsgReader(input));
      } catch (e) {
        if (!(e instanceof DecodeError)) throw e;
      }
    }
    return performance.now() - t0;
  };
  test.each(cases)("%s", (_name, bytes, read, text) => {
    expectDecodeError(() => read(new MsgReader(new Uint8Array(bytes))), text);
    expectDecodeError(() => read(new MsgReader(new Uint8Array(small(bytes)))));
    // Relative, in the same run: failing on 2^32-1 declared items costs what
    // failing on 3 does (work per declared item would cost seconds here).
    // Measured ratio 0.4-3.5 over 5 runs x 6 cases, 2026-12-06.
    timeFailures(bytes, read, 200); // warm both paths up
    timeFailures(small(bytes), read, 200);
    // The fastest of three runs each: a collection of the shared test
    // process landing in one run is noise, per-item work is in all three.
    const runs = [0, 1, 2].map(() => [timeFailures(bytes, read, 2000), timeFailures(small(bytes), read, 2000)] as const);
    const huge = Math.min(...runs.map((r) => r[0]));
    const tiny = Math.min(...runs.map((r) => r[1]));
    expect(huge).toBeLessThan(5 * tiny + 2);
  });
});

describe("depth limit", () => {
  function nested(depth: number): Uint8Array {
    const bytes = new Uint8Array(depth + 1).fill(0x91);
    bytes[depth] = 0x01;
    return bytes;
  }
  test("skip accepts maxDepth levels and rejects one more", () => {
    const ok = new MsgReader(nested(64));
    ok.skip();
    expect(ok.atEnd()).toBe(true);
    expectDecodeError(() => new MsgReader(nested(65)).skip(), "nesting deeper than 64");
  });
  test("a 100 000-deep array is rejected without a stack overflow", () => {
    expectDecodeError(() => new MsgReader(nested(100_000)).skip(), "nesting deeper");
  });
  test("enter/leave enforce maxDepth for generated decoders; reset clears depth", () => {
    const r = new MsgReader(new Uint8Array(1));
    r.maxDepth = 3;
    r.enter();
    r.enter();
    r.enter();
    expectDecodeError(() => r.enter(), "nesting deeper than 3");
    r.reset(new Uint8Array(1));
    expect(r.depth).toBe(0);
    r.enter();
    r.leave();
    expect(r.depth).toBe(0);
  });
});

describe("extensions", () => {
  test.each([
    ["fixext1 type 5", [0xd4, 0x05, 0x00]],
    ["fixext4 type 1", [0xd6, 0x01, 0, 0, 0, 0]],
    ["ext8 type 0x72 (msgpackr RegExp)", [0xc7, 0x01, 0x72, 0x00]],
    ["reserved 0xc1", [0xc1]],
  ])("%s is rejected by skip and timestamp", (_name, bytes) => {
    expectDecodeError(() => new MsgReader(new Uint8Array(bytes)).skip());
    expectDecodeError(() => new MsgReader(new Uint8Array(bytes)).timestamp());
  });
  test("msgpackr's Set and RegExp extensions never decode", () => {
    const p = new Packr({ useRecords: false, moreTypes: true });
    expectDecodeError(() => new MsgReader(p.pack(new Set([1]))).skip(), "extension");
    expectDecodeError(() => new MsgReader(p.pack(/x/)).skip(), "extension");
  });
  test("timestamp with a wrong length is rejected", () => {
    expectDecodeError(() => new MsgReader(new Uint8Array([0xc7, 0x04, 0xff, 0, 0, 0, 0])).timestamp(), "length 4");
  });
});

describe("DecodeError paths", () => {
  test("at() prefixes field names and indexes", () => {
    const inner = new DecodeError("expected string but found int");
    const e1 = DecodeError.at(inner, "key");
    const e2 = DecodeError.at(e1, "[3]");
    const e3 = DecodeError.at(e2, "items");
    expect(e3).toBe(inner);
    expect(e3.path).toBe("items[3].key");
    expect(e3.message).toBe("items[3].key: expected string but found int");
    expect(e3.detail).toBe("expected string but found int");
  });
  test("at() wraps foreign errors", () => {
    const original = new RangeError("Maximum call stack size exceeded");
    const e = DecodeError.at(original, "tree");
    expect(e).toBeInstanceOf(DecodeError);
    expect(e.message).toBe("tree: Maximum call stack size exceeded");
    expect(e.cause).toBe(original);
    expect(DecodeError.at(new DecodeError("x"), "a").cause).toBeUndefined();
  });
  test("joinPath", () => {
    expect(joinPath("a", "")).toBe("a");
    expect(joinPath("", "b")).toBe("b");
    expect(joinPath("a", "b.c")).toBe("a.b.c");
    expect(joinPath("a", "[0]")).toBe("a[0]");
  });
});
