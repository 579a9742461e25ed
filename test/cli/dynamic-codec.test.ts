/**
 * The schema-driven codec and JSON mapping of `ringrpc call`
 * (src/cli/dynamic/) against the generated codecs of the kv, chat and bench
 * IDLs: seeded random values of every struct, union and error encode to the
 * same bytes with either codec, each decodes the other's bytes to the same
 * value, truncated input fails with the same DecodeError, and the JSON
 * mapping round-trips every value; bad values and bad JSON name the field.
 */
import { describe, expect, test } from "bun:test";
import { join } from "node:path";
import { compile } from "../../idl/index.ts";
import type { Decl, ErrorDecl, Model, StructDecl, TypeRef } from "../../idl/model.ts";
import { codecTargets, type CodecTarget } from "../../scripts/fuzz/codec-targets.ts";
import { Rand } from "../../scripts/fuzz/prng.ts";
import { DynamicCodec, EncodeValueError } from "../../src/cli/dynamic/dynamic-codec.ts";
import { JsonMapping, JsonValueError } from "../../src/cli/dynamic/json-mapping.ts";
import { DecodeError, MsgReader, MsgWriter } from "../../src/codec/index.ts";

const ROOT = join(import.meta.dir, "..", "..");
const VALUES = 40;

const models: Model[] = ["examples/kv/kv.ridl", "examples/chat/chat.ridl", "bench/bench.ridl"].map((f) => {
  const { model, diagnostics } = compile([join(ROOT, f)]);
  if (model === null) throw new Error(diagnostics.map((d) => d.message).join("\n"));
  return model;
});

interface Pair {
  target: CodecTarget;
  decl: Decl;
  codec: DynamicCodec;
  json: JsonMapping;
}

const pairs: Pair[] = codecTargets().map((target) => {
  const model = models.find((m) => m.byName.has(target.name));
  if (model === undefined) throw new Error(`no model declares ${target.name}`);
  return { target, decl: model.byName.get(target.name)!, codec: new DynamicCodec(model), json: new JsonMapping(model) };
});

function refOf(d: Decl): TypeRef {
  return { kind: "ref", qualifiedName: d.qualifiedName, target: d.kind as "struct" | "union" | "error" };
}

function generatedBytes(p: Pair, v: unknown): Uint8Array {
  const w = new MsgWriter(64);
  p.target.encode(w, v);
  return w.bytes().slice();
}

function dynamicBytes(p: Pair, v: unknown): Uint8Array {
  const w = new MsgWriter(64);
  if (p.decl.kind === "error") p.codec.encodeStruct(w, p.decl, v);
  else p.codec.encode(w, refOf(p.decl), v);
  return w.bytes().slice();
}

function dynamicDecode(p: Pair, bytes: Uint8Array): unknown {
  const r = new MsgReader(bytes);
  const v = p.decl.kind === "error" ? p.codec.decodeStruct(r, p.decl) : p.codec.decode(r, refOf(p.decl));
  expect(r.atEnd()).toBe(true);
  return v;
}

function generatedDecode(p: Pair, bytes: Uint8Array): unknown {
  const r = new MsgReader(bytes);
  const v = p.target.view(p.target.decode(r));
  expect(r.atEnd()).toBe(true);
  return v;
}

function failure(fn: () => unknown): string {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(DecodeError);
    return (e as DecodeError).message;
  }
  return "(no error)";
}

describe("dynamic codec vs generated codecs (kv, chat, bench)", () => {
  test("the three IDLs give at least 30 structs, unions and errors", () => {
    expect(pairs.length).toBeGreaterThanOrEqual(30);
    expect(pairs.some((p) => p.decl.kind === "union")).toBe(true);
    expect(pairs.some((p) => p.decl.kind === "error")).toBe(true);
  });

  test.each(pairs.map((p) => [p.target.name, p] as const))("%s: same bytes both ways, each decodes the other's", (_name, p) => {
    const rand = new Rand(0x5eed ^ p.target.name.length);
    for (let i = 0; i < VALUES; i++) {
      const v = p.target.random(rand);
      const gen = generatedBytes(p, v);
      const dyn = dynamicBytes(p, v);
      expect(dyn).toEqual(gen);
      expect(dynamicDecode(p, gen)).toEqual(generatedDecode(p, gen));
      expect(generatedDecode(p, dyn)).toEqual(dynamicDecode(p, dyn));
    }
  });

  test.each(pairs.map((p) => [p.target.name, p] as const))("%s: truncated input fails with the same DecodeError", (_name, p) => {
    const rand = new Rand(0xc0ffee ^ p.target.name.length);
    for (let i = 0; i < 5; i++) {
      const gen = generatedBytes(p, p.target.random(rand));
      for (let cut = 0; cut < gen.length; cut += Math.max(1, Math.floor(gen.length / 16))) {
        const part = gen.subarray(0, cut);
        expect(failure(() => dynamicDecode(p, part))).toBe(failure(() => generatedDecode(p, part)));
      }
    }
  });

  test.each(pairs.map((p) => [p.target.name, p] as const))("%s: JSON round trip keeps the value", (_name, p) => {
    const rand = new Rand(0x15 ^ p.target.name.length);
    const t = refOf(p.decl);
    for (let i = 0; i < VALUES; i++) {
      const gen = generatedBytes(p, p.target.random(rand));
      const decoded = dynamicDecode(p, gen);
      const text = JSON.stringify(p.decl.kind === "error" ? p.json.structToJson(p.decl, decoded as Record<string, unknown>) : p.json.toJson(t, decoded));
      const back = p.decl.kind === "error" ? p.json.structFromJson(p.decl, JSON.parse(text)) : p.json.fromJson(t, JSON.parse(text));
      expect(dynamicDecode(p, dynamicBytes(p, back))).toEqual(decoded);
    }
  });
});

describe("values that do not fit name the field", () => {
  const kv = models[0]!;
  const codec = new DynamicCodec(kv);
  const json = new JsonMapping(kv);
  const chunk = kv.byName.get("kv.v1.Chunk") as StructDecl;

  test("the dynamic encoder rejects a wrong type with its path", () => {
    const bad = { entries: [{ key: "a", value: new Uint8Array(1) }, { key: 7, value: new Uint8Array(0) }] };
    expect(() => codec.encodeStruct(new MsgWriter(64), chunk, bad)).toThrow(new EncodeValueError("entries[1].key", "expected a string, found number 7"));
    expect(() => codec.encodeStruct(new MsgWriter(64), chunk, { entries: [{ key: "a" }] })).toThrow("entries[0].value: required field value (id 2) is missing");
  });

  test("JSON: an unknown field, a missing one, a bad u64, a bad timestamp and a bad union", () => {
    const put = kv.byName.get("kv.v1.PutRequest") as StructDecl;
    const event = kv.byName.get("kv.v1.Event") as StructDecl;
    const caught = (fn: () => unknown): string => {
      try {
        fn();
      } catch (e) {
        expect(e).toBeInstanceOf(JsonValueError);
        return (e as Error).message;
      }
      return "(no error)";
    };
    expect(caught(() => json.structFromJson(put, { key: "a", value: "", vlaue: 1 }))).toBe("vlaue: unknown field of kv.v1.PutRequest (its fields: key, value, expected_version, origin)");
    expect(caught(() => json.structFromJson(put, { value: "" }))).toBe("key: required field key of kv.v1.PutRequest is missing");
    expect(caught(() => json.structFromJson(put, { key: "a", value: "", expected_version: -1 }))).toBe("expected_version: -1 is out of range for u64 (0 to 18446744073709551615)");
    expect(caught(() => json.structFromJson(put, { key: "a", value: "", expected_version: 2 ** 60 }))).toBe(
      "expected_version: expected an integer; write u64 values beyond 2^53 as a decimal string, found number 1152921504606847000",
    );
    expect(caught(() => json.structFromJson(event, { change: { deleted: "k" }, at: "yesterday" }))).toBe(
      'at: expected an RFC 3339 timestamp such as "2024-05-01T12:00:00Z", found string "yesterday"',
    );
    expect(caught(() => json.structFromJson(event, { change: { put: {}, deleted: "k" }, at: "2024-01-01T00:00:00Z" }))).toBe(
      "change: expected an object with exactly one of put, deleted (union kv.v1.Change), found 2 keys",
    );
  });

  test("JSON: u64 beyond 2^53 prints as a string, within it as a number; defaults fill; enums print by name", () => {
    const put = kv.byName.get("kv.v1.PutRequest") as StructDecl;
    const v = json.structFromJson(put, { key: "a", value: "AQI=", expected_version: "18446744073709551615" });
    expect(v).toEqual({ key: "a", value: new Uint8Array([1, 2]), expected_version: 2n ** 64n - 1n, origin: 1 });
    expect(json.structToJson(put, v)).toEqual({ key: "a", value: "AQI=", expected_version: "18446744073709551615", origin: "ORIGIN_CLIENT" });
    expect(json.structToJson(put, { ...v, expected_version: 2n ** 53n - 1n })).toMatchObject({ expected_version: 2 ** 53 - 1 });
    const err = kv.byName.get("kv.v1.VersionMismatch") as ErrorDecl;
    expect(json.structToJson(err, { key: "k", current: 2n ** 53n })).toEqual({ key: "k", current: "9007199254740992" });
  });
});

describe("open and closed enums and unions in the dynamic codec and JSON", () => {
  const files: Record<string, string> = {
    "t.ridl": `package t.v1;
enum Open { A = 0; B = 1; }
enum Shut [closed] { A = 0; B = 1; }
union Either { 1: n: i32; 2: s: string; }
union Strict [closed] { 1: n: i32; }
struct Holder { 1: open: Open; 2: shut: Shut; 3: either: Either; 4: strict?: Strict; }
`,
  };
  const { model } = compile(["t.ridl"], { readFile: (p) => files[p] });
  const codec = new DynamicCodec(model!);
  const json = new JsonMapping(model!);
  const holder = model!.byName.get("t.v1.Holder") as StructDecl;
  const bytesOf = (v: unknown): Uint8Array => {
    const w = new MsgWriter(64);
    codec.encodeStruct(w, holder, v);
    return w.bytes().slice();
  };

  test("an unknown number and variant are kept and written back byte for byte", () => {
    // {1: 7, 2: 1, 3: {9: [true]}}
    const bytes = new Uint8Array([0x83, 0x01, 0x07, 0x02, 0x01, 0x03, 0x81, 0x09, 0x91, 0xc3]);
    const v = codec.decodeStruct(new MsgReader(bytes), holder);
    expect(v).toEqual({ open: 7, shut: 1, either: { kind: "$unknown", id: 9, raw: new Uint8Array([0x91, 0xc3]) }, strict: undefined });
    expect(bytesOf(v)).toEqual(bytes);
    const printed = json.structToJson(holder, v);
    expect(printed).toEqual({ open: 7, shut: "B", either: { $unknown: { id: 9, raw: "kcM=" } } });
    expect(bytesOf(json.structFromJson(holder, printed))).toEqual(bytes);
  });

  test("closed types reject what they do not know, on both sides", () => {
    expect(() => codec.decodeStruct(new MsgReader(new Uint8Array([0x83, 0x01, 0x00, 0x02, 0x07, 0x03, 0x81, 0x01, 0x00])), holder)).toThrow("shut: 7 is not a value of enum t.v1.Shut");
    expect(() => codec.decodeStruct(new MsgReader(new Uint8Array([0x84, 0x01, 0x00, 0x02, 0x00, 0x03, 0x81, 0x01, 0x00, 0x04, 0x81, 0x02, 0x00])), holder)).toThrow(
      "strict: unknown variant id 2 for union t.v1.Strict",
    );
    const base = { open: 0, shut: 0, either: { kind: "n", value: 1 } };
    expect(() => bytesOf({ ...base, shut: 7 })).toThrow("shut: expected a value of enum t.v1.Shut, found number 7");
    expect(() => bytesOf({ ...base, strict: { kind: "$unknown", id: 2, raw: new Uint8Array([0]) } })).toThrow('strict: expected a variant of union t.v1.Strict (n), found "$unknown"');
    expect(() => bytesOf({ ...base, either: { kind: "$unknown", id: 1, raw: new Uint8Array([0]) } })).toThrow('either.id: variant id 1 is "n" of union t.v1.Either: write it with that kind');
    expect(() => bytesOf({ ...base, either: { kind: "$unknown", id: 5, raw: new Uint8Array([0xa5]) } })).toThrow("either.raw: expected one msgpack value: truncated input");
    expect(() => bytesOf({ ...base, open: 1.5 })).toThrow("open: expected a value of enum t.v1.Open (an i32: the enum is open), found number 1.5");
    expect(() => json.structFromJson(holder, { ...base, either: { n: 1 }, shut: 7 })).toThrow("shut: expected a value of enum t.v1.Shut (A, B), found number 7");
    expect(json.structFromJson(holder, { ...base, either: { n: 1 }, open: 7 })).toMatchObject({ open: 7 });
  });
});
