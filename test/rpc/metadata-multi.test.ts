/**
 * Multi-valued metadata on the wire (docs/PROTOCOL.md section 5): a key with
 * one value is written byte for byte as before arrays existed (the bytes of
 * the PROTOCOL.md example), several values are an array, the size limit
 * counts every value (the key once per value), an empty array is malformed,
 * and a refused map is still consumed. MetadataMap's get/getAll/add/set and
 * the record form that keeps every value (spread, override, MetadataMap.from).
 */
import { describe, expect, test } from "bun:test";
import { DecodeError } from "../../src/codec/errors.ts";
import { MsgReader } from "../../src/codec/reader.ts";
import { MsgWriter } from "../../src/codec/writer.ts";
import type { Metadata } from "../../src/rpc/descriptor.ts";
import { MetadataError, metadataSize, readMetadata, writeMetadata } from "../../src/rpc/metadata.ts";
import { MetadataMap } from "../../src/rpc/metadata-map.ts";

function bytesOf(md: Metadata | MetadataMap | undefined): string {
  const w = new MsgWriter();
  writeMetadata(w, md);
  return Buffer.from(w.bytes()).toString("hex");
}

function read(hex: string, max = 8192): { md: Metadata | undefined; after: number } {
  const r = new MsgReader(Buffer.from(hex + "2a", "hex"));
  const md = readMetadata(r, max);
  return { md, after: r.int() };
}

/** `{"x-user": "ann", "trace-bin": bin 01 02}` as docs/PROTOCOL.md's bidi REQUEST example shows it. */
const PROTOCOL_EXAMPLE = "82a6782d75736572a3616e6ea974726163652d62696ec4020102";

describe("multi-valued metadata on the wire", () => {
  test("one value per key encodes exactly as before, from a record or a MetadataMap", () => {
    const record: Metadata = { "x-user": "ann", "trace-bin": new Uint8Array([1, 2]) };
    expect(bytesOf(record)).toBe(PROTOCOL_EXAMPLE);
    expect(bytesOf(new MetadataMap().add("x-user", "ann").add("trace-bin", new Uint8Array([1, 2])))).toBe(PROTOCOL_EXAMPLE);
    expect(bytesOf(MetadataMap.from(record).toRecord())).toBe(PROTOCOL_EXAMPLE);
    expect(bytesOf(new MetadataMap())).toBe("c0");
  });

  test("several values are an array of str/bin, read back in order", () => {
    const m = new MetadataMap().add("x-a", "1").add("x-a", new Uint8Array([9])).add("x-b", "z");
    // 82 | a3 "x-a" 92 a1 "1" c4 01 09 | a3 "x-b" a1 "z"
    const hex = "82a3782d6192a131c40109a3782d62a17a";
    expect(bytesOf(m)).toBe(hex);
    expect(bytesOf(m.toRecord())).toBe(hex);
    const { md, after } = read(hex);
    expect(after).toBe(42);
    expect({ ...md }).toEqual(expect.objectContaining({ "x-a": "1", "x-b": "z" }));
    expect(Object.keys(md!)).toEqual(["x-a", "x-b"]);
    const all = MetadataMap.from(md);
    expect(all.getAll("x-a")).toEqual(["1", new Uint8Array([9])]);
    expect(all.get("x-a")).toBe("1");
    expect(all.getAll("x-b")).toEqual(["z"]);
    expect(all.getAll("nope")).toEqual([]);
    // The received record, sent on, keeps every value.
    expect(bytesOf(md)).toBe(hex);
  });

  test("a one-element array reads as one value; an empty array is malformed", () => {
    expect(MetadataMap.from(read("81a17891a176").md).getAll("x")).toEqual(["v"]);
    expect(() => read("81a17890")).toThrow(DecodeError);
    expect(() => read("81a17891c0")).toThrow(DecodeError);
  });

  test("the limit counts the key once per value and every value's bytes", () => {
    const m = new MetadataMap().add("k", "aa").add("k", "bbb");
    // (1 + 2) + (1 + 3) = 7
    expect(metadataSize(m)).toBe(7);
    expect(metadataSize(m.toRecord())).toBe(7);
    const hex = bytesOf(m);
    expect(MetadataMap.from(read(hex, 7).md).getAll("k")).toEqual(["aa", "bbb"]);
    expect(() => read(hex, 6)).toThrow(MetadataError);
    // Many empty values of a long key: each counts the key, so 1000 of them are far over 8 KiB.
    const many = new MetadataMap();
    for (let i = 0; i < 1000; i++) many.add("k".repeat(10), "");
    const e = (() => {
      try {
        read(bytesOf(many) + "", 8192);
      } catch (err) {
        return err as MetadataError;
      }
    })();
    expect(e?.kind).toBe("size");
  });

  test("a map refused part-way through an array is still consumed", () => {
    const m = new MetadataMap().add("k", "x".repeat(50)).add("k", "y".repeat(50)).add("k", "z").add("after", "1");
    const r = new MsgReader(Buffer.from(bytesOf(m) + "2a", "hex"));
    expect(() => readMetadata(r, 60)).toThrow("metadata is over the limit of 60 bytes");
    expect(r.int()).toBe(42);
  });
});

describe("MetadataMap and the record form", () => {
  test("add appends, set replaces, delete removes; keys are checked", () => {
    const m = new MetadataMap().add("a", "1").add("a", "2");
    expect(m.getAll("a")).toEqual(["1", "2"]);
    m.set("a", "3");
    expect(m.getAll("a")).toEqual(["3"]);
    m.set("a", ["4", "5"]);
    expect(m.getAll("a")).toEqual(["4", "5"]);
    expect(m.delete("a")).toBe(true);
    expect(m.has("a")).toBe(false);
    expect(() => m.add("Upper", "v")).toThrow('invalid metadata key "Upper": keys are 1-255 bytes of [a-z0-9._-]');
  });

  test("a record keeps every value through spread; overriding a key replaces its values", () => {
    const md = new MetadataMap().add("a", "1").add("a", "2").add("b", "x").toRecord();
    expect(md.a).toBe("1");
    expect(Object.keys(md)).toEqual(["a", "b"]);
    expect(JSON.stringify(md)).toBe('{"a":"1","b":"x"}');
    const copy = { ...md, c: "new" };
    expect(MetadataMap.from(copy).getAll("a")).toEqual(["1", "2"]);
    const replaced = { ...md, a: "9" };
    expect(MetadataMap.from(replaced).getAll("a")).toEqual(["9"]);
    expect(bytesOf(replaced)).toBe(bytesOf({ a: "9", b: "x" }));
  });
});
