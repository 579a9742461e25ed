/**
 * MsgWriter's typed primitives refuse a value of the wrong JS type or out of
 * their IDL range with an EncodeError that says what was expected and what
 * was there, before writing anything: no coercion between numbers, strings
 * and bigints, no -5 written as a u32, no Map written as an empty record.
 */
import { describe, expect, test } from "bun:test";
import { EncodeError, MsgWriter } from "../../src/codec/index.ts";

/** The EncodeError `write` throws on a fresh writer, after checking that nothing was written. */
function refusal(write: (w: MsgWriter) => void): EncodeError {
  const w = new MsgWriter(16);
  w.str("before");
  const pos = w.pos;
  try {
    write(w);
  } catch (e) {
    expect(e).toBeInstanceOf(EncodeError);
    expect(w.pos).toBe(pos);
    return e as EncodeError;
  }
  throw new Error("expected an EncodeError, the value was written");
}

const anyW = (w: MsgWriter) => w as unknown as Record<string, (v: unknown) => void>;

describe("typed primitives refuse the wrong JS type", () => {
  const cases: Array<[string, unknown, string]> = [
    ["str", 7, "expected string, got 7"],
    ["str", undefined, "expected string, got undefined"],
    ["str", null, "expected string, got null"],
    ["bool", "yes", 'expected bool, got "yes"'],
    ["bool", 1, "expected bool, got 1"],
    ["i32", "5", 'expected i32 (an integer in [-2^31, 2^31-1]), got "5"'],
    ["i32", 2 ** 31, "expected i32 (an integer in [-2^31, 2^31-1]), got 2147483648"],
    ["i32", 1.5, "expected i32 (an integer in [-2^31, 2^31-1]), got 1.5"],
    ["u32", -5, "expected u32 (an integer in [0, 2^32-1]), got -5"],
    ["u32", 2 ** 32, "expected u32 (an integer in [0, 2^32-1]), got 4294967296"],
    ["u32", 5n, "expected u32 (an integer in [0, 2^32-1]), got 5n"],
    ["i32", 5n, "expected i32 (an integer in [-2^31, 2^31-1]), got 5n"],
    ["i64", 5, "expected i64 (a bigint in [-2^63, 2^63-1]), got 5"],
    ["i64", "5", 'expected i64 (a bigint in [-2^63, 2^63-1]), got "5"'],
    ["u64", 5, "expected u64 (a bigint in [0, 2^64-1]), got 5"],
    ["f64", "1.5", 'expected f64 (a number), got "1.5"'],
    ["f64", 1n, "expected f64 (a number), got 1n"],
    ["bin", "abc", 'expected bytes (a Uint8Array), got "abc"'],
    ["bin", [1, 2], "expected bytes (a Uint8Array), got an array (length 2)"],
    ["timestamp", 1700000000000, "expected timestamp (a valid Date), got 1700000000000"],
    ["arrayHeaderOf", "abc", 'expected list (an array), got "abc"'],
    ["arrayHeaderOf", new Set([1]), "expected list (an array), got a Set (size 1)"],
    ["mapHeaderOfRecord", new Map([["a", 1]]), "expected map<string, V> (a plain object), got a Map (size 1)"],
    ["mapHeaderOfRecord", ["a"], "expected map<string, V> (a plain object), got an array (length 1)"],
    ["mapHeaderOfRecord", "ab", 'expected map<string, V> (a plain object), got "ab"'],
    ["mapHeaderOfMap", { 1: "a" }, "expected map<int, V> (a Map), got an object"],
  ];
  test.each(cases)("%s(%p)", (method, value, message) => {
    const e = refusal((w) => anyW(w)[method]!.call(w, value));
    expect(e.message).toBe(message);
    expect(e.detail).toBe(message);
    expect(e.path).toBe("");
    expect(e.code).toBe("ENCODE_ERROR");
  });
});

describe("values that fit are written as before", () => {
  test("sized integers at their bounds", () => {
    const w = new MsgWriter(16);
    w.i32(-(2 ** 31));
    w.i32(2 ** 31 - 1);
    w.u32(0);
    w.u32(2 ** 32 - 1);
    w.i32(-0);
    expect(Buffer.from(w.bytes()).toString("hex")).toBe("d280000000ce7fffffff00ceffffffff00");
  });

  test("containers: the header matches the collection", () => {
    const w = new MsgWriter(16);
    w.arrayHeaderOf([1, 2, 3]);
    expect(w.mapHeaderOfRecord({ b: 1, a: 2 })).toEqual(["b", "a"]);
    w.mapHeaderOfMap(new Map([[1, 1]]));
    w.mapHeaderOfRecord(Object.create(null) as Record<string, unknown>);
    expect(Buffer.from(w.bytes()).toString("hex")).toBe("93828180");
  });
});
