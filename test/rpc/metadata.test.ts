/**
 * Metadata codec: round trip of str and bin values, the byte-size limit
 * (keys + values, UTF-8 bytes), key validation, and that a refused map is
 * still fully consumed so the reader can go on.
 */
import { describe, expect, test } from "bun:test";
import { MsgReader } from "../../src/codec/reader.ts";
import { MsgWriter } from "../../src/codec/writer.ts";
import type { Metadata } from "../../src/rpc/descriptor.ts";
import { MetadataError, readMetadata, writeMetadata } from "../../src/rpc/metadata.ts";

function roundTrip(md: Metadata | undefined, max: number): { md: Metadata | undefined; after: number } | MetadataError {
  const w = new MsgWriter();
  writeMetadata(w, md);
  w.int(42);
  const r = new MsgReader(w.bytes().slice());
  try {
    const out = readMetadata(r, max);
    return { md: out === undefined ? undefined : { ...out }, after: r.int() };
  } catch (e) {
    expect(r.int()).toBe(42);
    return e as MetadataError;
  }
}

describe("metadata", () => {
  test("str and bin values round trip; empty and undefined become nil", () => {
    expect(roundTrip({ "x-a": "b", "k-bin": new Uint8Array([0, 255]) }, 100)).toEqual({ md: { "x-a": "b", "k-bin": new Uint8Array([0, 255]) }, after: 42 });
    expect(roundTrip({}, 100)).toEqual({ md: undefined, after: 42 });
    expect(roundTrip(undefined, 100)).toEqual({ md: undefined, after: 42 });
  });

  test("the limit counts key and value bytes exactly (UTF-8)", () => {
    // "k" (1) + "é".repeat(4) (8 bytes) = 9
    expect(roundTrip({ k: "éééé" }, 9)).toEqual({ md: { k: "éééé" }, after: 42 });
    const over = roundTrip({ k: "éééé" }, 8);
    expect(over).toBeInstanceOf(MetadataError);
    expect((over as MetadataError).kind).toBe("size");
  });

  test("a huge map over the limit is refused and skipped", () => {
    const md: Metadata = {};
    for (let i = 0; i < 5000; i++) md[`k${i}`] = "v".repeat(20);
    const e = roundTrip(md, 8192);
    expect((e as MetadataError).kind).toBe("size");
    expect((e as MetadataError).message).toBe("metadata is over the limit of 8192 bytes");
  });

  test("keys must be lower-case ASCII [a-z0-9._-]", () => {
    for (const key of ["Upper", "", "sp ace", "ü"]) {
      const e = roundTrip({ [key]: "v" }, 100);
      expect((e as MetadataError).kind).toBe("key");
    }
    expect(roundTrip({ "a.b_c-9": "v" }, 100)).toEqual({ md: { "a.b_c-9": "v" }, after: 42 });
  });
});
