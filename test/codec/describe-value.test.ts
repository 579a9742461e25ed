/**
 * describeValue: the "got ..." text of encode and validation errors shows
 * small values exactly (so a number and a string of the same digits differ)
 * and larger ones by kind and size, in one bounded line.
 */
import { describe, expect, test } from "bun:test";
import { describeValue } from "../../src/codec/index.ts";

class Temperature {
  constructor(readonly celsius: number) {}
}

describe("describeValue", () => {
  const cases: Array<[unknown, string]> = [
    [undefined, "undefined"],
    [null, "null"],
    [true, "true"],
    [7, "7"],
    ["7", '"7"'],
    [7n, "7n"],
    [-0, "-0"],
    [Number.NaN, "NaN"],
    ['say "hi"', '"say \\"hi\\""'],
    ["x".repeat(100), `"${"x".repeat(40)}"... (100 characters)`],
    [[1, 2, 3], "an array (length 3)"],
    [new Uint8Array(16), "a Uint8Array (16 bytes)"],
    [Buffer.alloc(2), "a Buffer (2 bytes)"],
    [new Date(0), "a Date (1970-01-01T00:00:00.000Z)"],
    [new Date(Number.NaN), "an invalid Date"],
    [new Map([[1, 2]]), "a Map (size 1)"],
    [new Set(), "a Set (size 0)"],
    [Promise.resolve(1), "a Promise (missing await?)"],
    [{ a: 1 }, "an object"],
    [Object.create(null), "an object"],
    [new Temperature(3), "a Temperature"],
    [new Float64Array(2), "a Float64Array"],
    [() => 1, "a function"],
    [Symbol("s"), "a symbol"],
  ];
  test.each(cases)("%p", (value, text) => {
    expect(describeValue(value)).toBe(text);
  });

  test("reads no getter and calls no toString of the value", () => {
    let touched = 0;
    const sneaky = {
      get constructor() {
        touched++;
        return Object;
      },
      toString() {
        touched++;
        return "sneaky";
      },
    };
    expect(describeValue(sneaky)).toBe("an object");
    expect(touched).toBe(0);
  });
});
