/**
 * The fuzzer's own parts (scripts/fuzz/): per-case seeds, the mutation
 * engine's determinism, the msgpack walk the structure-aware mutations use,
 * the equality of the round-trip check, the shrinker and the hex dump.
 */
import { describe, expect, test } from "bun:test";
import { generateCase } from "../../scripts/fuzz/cases.ts";
import { describeCuts } from "../../scripts/fuzz/frame-oracle.ts";
import { hexDump } from "../../scripts/fuzz/hexdump.ts";
import { minimise } from "../../scripts/fuzz/minimise.ts";
import { valueSpans } from "../../scripts/fuzz/msgpack-heads.ts";
import { mutate, splitPoints } from "../../scripts/fuzz/mutators.ts";
import { caseSeed, Rand } from "../../scripts/fuzz/prng.ts";
import { firstDifference } from "../../scripts/fuzz/same-value.ts";

const bytes = (hex: string) => Uint8Array.from(Buffer.from(hex.replaceAll(" ", ""), "hex"));
const hex = (b: Uint8Array) => Buffer.from(b).toString("hex");

describe("cases", () => {
  test("a case is the same every time and independent of the cases before it", () => {
    const a = generateCase(5, 123);
    const b = generateCase(5, 123);
    expect(hex(a.input)).toBe(hex(b.input));
    expect(a.ops).toEqual(b.ops);
    expect(hex(generateCase(6, 123).input)).not.toBe(hex(a.input));
  });

  test("case seeds differ for neighbouring indexes and seeds", () => {
    const seen = new Set<number>();
    for (let s = 0; s < 20; s++) for (let i = 0; i < 50; i++) seen.add(caseSeed(s, i));
    expect(seen.size).toBe(1000);
  });
});

describe("mutate", () => {
  const input = bytes("00 00 00 08 94 03 03 00 81 01 a1 6b");

  test("is deterministic for a seed and never edits its input", () => {
    const copy = input.slice();
    const one = mutate(new Rand(9), input, { lengthFields: [0], other: input, limit: 1024 });
    const two = mutate(new Rand(9), input, { lengthFields: [0], other: input, limit: 1024 });
    expect(hex(one.bytes)).toBe(hex(two.bytes));
    expect(one.ops).toEqual(two.ops);
    expect(hex(input)).toBe(hex(copy));
  });

  test("changes the input in nearly every case, with every kind of edit", () => {
    const kinds = new Set<string>();
    let unchanged = 0;
    for (let s = 0; s < 2000; s++) {
      const m = mutate(new Rand(s), input, { lengthFields: [0], other: bytes("00 00 00 03 92 04 03"), limit: 1024 });
      if (hex(m.bytes) === hex(input)) unchanged++;
      for (const op of m.ops) kinds.add(op.replace(/[(@].*$/, ""));
    }
    expect(unchanged).toBeLessThan(40);
    expect([...kinds].sort()).toEqual(["add", "byte", "delete", "duplicate", "extend", "field", "flip", "huge", "insert", "length", "replace", "resize", "splice", "swap", "truncate", "value"]);
  });

  test("cut points are ascending and inside the input", () => {
    for (let s = 0; s < 200; s++) {
      const cuts = splitPoints(new Rand(s), 40);
      expect(cuts).toEqual([...cuts].sort((a, b) => a - b));
      for (const c of cuts) expect(c > 0 && c < 40).toBe(true);
    }
  });
});

describe("valueSpans", () => {
  test("finds every value of kv.v1.Entry's example (ENCODING.md section 2), keys included", () => {
    const spans = valueSpans(bytes("83 01 a1 6b 02 c4 02 01 02 03 07"), [0]);
    expect(spans.map((s) => [s.at, s.end, s.family, s.count])).toEqual([
      [0, 11, "map", 3],
      [1, 2, "scalar", 0],
      [2, 4, "str", 1],
      [4, 5, "scalar", 0],
      [5, 9, "bin", 2],
      [9, 10, "scalar", 0],
      [10, 11, "scalar", 0],
    ]);
  });

  test("stops at what it cannot walk and keeps only whole values", () => {
    expect(valueSpans(bytes("92 01 c1"), [0]).map((s) => s.at)).toEqual([1]);
    expect(valueSpans(bytes("dd ff ff ff ff 01"), [0])).toEqual([{ at: 5, end: 6, family: "scalar", headerLen: 1, count: 0 }]);
  });
});

describe("firstDifference", () => {
  test("equal values", () => {
    expect(firstDifference({ a: 1n, b: [new Date(5)], c: undefined }, { a: 1n, b: [new Date(5)] })).toBeNull();
    expect(firstDifference(Object.assign(Object.create(null), { k: "v" }), { k: "v" })).toBeNull();
    expect(firstDifference(Number.NaN, Number.NaN)).toBeNull();
    expect(firstDifference(new Map([[1n, bytes("01")]]), new Map([[1n, bytes("01")]]))).toBeNull();
  });

  test("names the first difference", () => {
    expect(firstDifference(0, -0)).toBe("(root): 0 vs -0");
    expect(firstDifference({ a: [1, 2] }, { a: [1, 3] })).toBe("a[1]: 2 vs 3");
    expect(firstDifference({ a: bytes("0102") }, { a: bytes("0103") })).toBe("a[1]: byte 2 vs 3");
    expect(firstDifference(new Map([[1, "x"], [2, "y"]]), new Map([[2, "y"], [1, "x"]]))).toBe("{key 0}: 1 vs 2");
    expect(firstDifference({ a: 1 }, { b: 1 })).toBe("(root): keys [a] vs [b]");
    expect(firstDifference(1n, 1)).toBe("(root): bigint vs number");
  });
});

describe("minimise", () => {
  test("shrinks to the bytes the failure needs", () => {
    const input = new Uint8Array(100).fill(7);
    input[41] = 0xc1;
    input[77] = 0xc1;
    const out = minimise(input, (c) => c.includes(0xc1));
    expect(hex(out)).toBe("c1");
  });

  test("keeps an input no smaller candidate fails on", () => {
    expect(hex(minimise(bytes("0102"), (c) => hex(c) === "0102"))).toBe("0102");
  });
});

describe("report formatting", () => {
  test("hexDump shows offsets, bytes and ASCII", () => {
    expect(hexDump(bytes("00 00 00 03 92 04 03 41"), "")).toBe(`000000  ${"00 00 00 03 92 04 03 41".padEnd(47)}  .......A`);
    const long = hexDump(new Uint8Array(1000), "").split("\n");
    expect(long.length).toBe(25);
    expect(long[12]).toBe("... 39 lines (624 bytes) ...");
    expect(hexDump(new Uint8Array(0), "")).toBe("(empty)");
  });

  test("describeCuts", () => {
    expect(describeCuts([], 5)).toBe("none");
    expect(describeCuts([1, 2, 3, 4], 5)).toBe("every byte");
    expect(describeCuts([2, 4], 5)).toBe("2,4");
  });
});
