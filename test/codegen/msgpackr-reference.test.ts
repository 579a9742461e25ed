/**
 * msgpackr as the reference implementation of docs/ENCODING.md: for every
 * struct, union and error of the three IDLs the project ships
 * (examples/kv/kv.ridl, examples/chat/chat.ridl, bench/bench.ridl), seeded
 * random values written by the generated encoder are read back by msgpackr's
 * `unpack` as the documented generic shape (ENCODING.md section 10: a struct
 * is a Map from field id to value, a union a one-entry Map, i64/u64 ints,
 * bytes, Dates), and that shape written by msgpackr's `pack`, with the
 * options a JS peer uses, is read by the generated decoder as the same value.
 * The two documented mismatches are pinned down: msgpackr writes `undefined`
 * as ext type 0 (refused, naming the field, unless the peer sets
 * `encodeUndefinedAsNil`) and -0 as the integer 0. Random values include the
 * unknown forms of open enums and unions (a number, a one-entry Map whose
 * value is whatever the variant's bytes hold); msgpackr packs such a value in
 * its own forms, so its bytes are compared as the value they hold.
 *
 * The modules are generated from the .ridl files into a temporary directory
 * (tests may not import examples/; `ringrpc gen --check` keeps the checked-in
 * copies equal to this output).
 */
import { afterAll, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { Packr, Unpackr } from "msgpackr";
import { generate } from "../../codegen/index.ts";
import { declIdent } from "../../codegen/names.ts";
import { compile } from "../../idl/index.ts";
import type { Decl, ErrorDecl, Model, StructDecl, TypeRef, UnionDecl } from "../../idl/model.ts";
import { DecodeError, MsgReader, MsgWriter } from "../../src/codec/index.ts";
import type { ErrorType, MessageType } from "../../src/rpc/descriptor.ts";
import type { RpcError } from "../../src/rpc/status.ts";
import { RandomValues, seededRandom } from "./random-values.ts";

const ITERATIONS = 100;
const root = resolve(import.meta.dir, "../..");
const IDLS = ["examples/kv/kv.ridl", "examples/chat/chat.ridl", "bench/bench.ridl"];

/** What a JS peer on msgpackr reads with (ENCODING.md section 10). */
const unpackr = new Unpackr({ useRecords: false, mapsAsObjects: false, int64AsType: "bigint" });
/** What a JS peer on msgpackr writes with (ENCODING.md section 10). */
const packr = new Packr({ useRecords: false, encodeUndefinedAsNil: true });

// ------------------------------------------------------------ the documented mapping

function lookup(model: Model, name: string): Decl {
  const d = model.byName.get(name);
  if (d === undefined) throw new Error(`unknown type ${name}`);
  return d;
}

/** The generic msgpack shape of a typed value: what msgpackr should read from our bytes, and what a JS peer packs. */
function generic(model: Model, t: TypeRef, v: unknown): unknown {
  switch (t.kind) {
    case "scalar":
      return v;
    case "list":
      return (v as unknown[]).map((x) => generic(model, t.elem, x));
    case "map":
      if (v instanceof Map) return new Map([...v].map(([k, x]) => [k, generic(model, t.value, x)]));
      return new Map(Object.entries(v as Record<string, unknown>).map(([k, x]) => [k, generic(model, t.value, x)]));
    case "ref": {
      const d = lookup(model, t.qualifiedName);
      if (d.kind === "enum") return v;
      if (d.kind === "union") return genericUnion(model, d, v as { kind: string; value: unknown });
      if (d.kind === "struct" || d.kind === "error") return genericStruct(model, d, v as Record<string, unknown>);
      throw new Error(`not a type: ${d.qualifiedName}`);
    }
  }
}

function genericStruct(model: Model, d: StructDecl | ErrorDecl, v: Record<string, unknown>): Map<number, unknown> {
  const out = new Map<number, unknown>();
  for (const f of [...d.fields].sort((a, b) => a.id - b.id)) {
    if (v[f.name] !== undefined) out.set(f.id, generic(model, f.type, v[f.name]));
  }
  return out;
}

function genericUnion(model: Model, d: UnionDecl, v: { kind: string; value: unknown; id?: number; raw?: Uint8Array }): Map<number, unknown> {
  if (v.kind === "$unknown") return new Map([[v.id!, unpackr.unpack(v.raw!)]]);
  const variant = d.variants.find((x) => x.name === v.kind)!;
  return new Map([[variant.id, generic(model, variant.type, v.value)]]);
}

/**
 * msgpackr's output in the same normal form: i64/u64 values and keys it read
 * as numbers (ints of 32 bits or less) become bigints, its Buffers plain
 * Uint8Arrays. Type-directed and strict: a shape that does not match is
 * returned unchanged, so the comparison fails on it.
 */
function normalized(model: Model, t: TypeRef, g: unknown): unknown {
  switch (t.kind) {
    case "scalar":
      if ((t.name === "i64" || t.name === "u64") && typeof g === "number" && Number.isSafeInteger(g)) return BigInt(g);
      if (t.name === "bytes" && g instanceof Uint8Array) return new Uint8Array(g);
      return g;
    case "list":
      return Array.isArray(g) ? g.map((x) => normalized(model, t.elem, x)) : g;
    case "map":
      return g instanceof Map ? new Map([...g].map(([k, x]) => [normalized(model, t.key, k), normalized(model, t.value, x)])) : g;
    case "ref": {
      const d = lookup(model, t.qualifiedName);
      if (!(g instanceof Map) || d.kind === "enum") return g;
      if (d.kind === "union") {
        // An unknown variant's value is msgpackr's reading of its bytes on both sides: nothing to normalise.
        return new Map([...g].map(([id, x]) => {
          const variant = d.variants.find((v) => v.id === id);
          return [id, variant === undefined ? x : normalized(model, variant.type, x)];
        }));
      }
      if (d.kind === "struct" || d.kind === "error") return new Map([...g].map(([id, x]) => [id, normalized(model, d.fields.find((f) => f.id === id)?.type ?? t, x)]));
      return g;
    }
  }
}

/** Unknown variants with their bytes read as a value: msgpackr packs that value in forms of its own choosing. */
function rawAsValue(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(rawAsValue);
  if (v instanceof Map) return new Map([...v].map(([k, x]) => [k, rawAsValue(x)]));
  if (typeof v === "object" && v !== null && !(v instanceof Uint8Array) && !(v instanceof Date)) {
    const u = v as { kind?: unknown; id?: unknown; raw?: unknown };
    if (u.kind === "$unknown" && u.raw instanceof Uint8Array) return { kind: "$unknown", id: u.id, value: unpackr.unpack(u.raw) };
    const o: Record<string, unknown> = Object.getPrototypeOf(v) === null ? Object.create(null) : {};
    for (const [k, x] of Object.entries(v)) o[k] = rawAsValue(x);
    return o;
  }
  return v;
}

/** The one documented loss on msgpackr's side: it packs -0 as the integer 0. */
function withoutNegativeZero(v: unknown): unknown {
  if (Object.is(v, -0)) return 0;
  if (Array.isArray(v)) return v.map(withoutNegativeZero);
  if (v instanceof Map) return new Map([...v].map(([k, x]) => [k, withoutNegativeZero(x)]));
  if (typeof v === "object" && v !== null && !(v instanceof Uint8Array) && !(v instanceof Date)) {
    const o: Record<string, unknown> = Object.getPrototypeOf(v) === null ? Object.create(null) : {};
    for (const [k, x] of Object.entries(v)) o[k] = withoutNegativeZero(x);
    return o;
  }
  return v;
}

// ------------------------------------------------------------ the three IDLs, generated

const dir = mkdtempSync(join(tmpdir(), "ringrpc-reference-"));
symlinkSync(join(root, "node_modules"), join(dir, "node_modules"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

interface Loaded {
  idl: string;
  model: Model;
  module: Record<string, unknown>;
}

const loaded: Loaded[] = [];
for (const idl of IDLS) {
  const { model, diagnostics } = compile([join(root, idl)]);
  if (model === null) throw new Error(`${idl}: ${diagnostics.map((d) => d.message).join("\n")}`);
  const [file] = generate(model, { version: "0.0.0-test", runtime: join(root, "src") });
  writeFileSync(join(dir, file!.path), file!.content);
  loaded.push({ idl, model, module: (await import(join(dir, file!.path))) as Record<string, unknown> });
}

/** One codec per declaration, errors seen through their ErrorType with the fields as a value. */
interface Codec {
  name: string;
  model: Model;
  type: TypeRef;
  random(gen: RandomValues): unknown;
  encode(w: MsgWriter, v: unknown): void;
  decode(r: MsgReader): unknown;
}

function codecs(): Codec[] {
  const out: Codec[] = [];
  for (const { model, module } of loaded) {
    for (const d of model.decls) {
      const type: TypeRef = { kind: "ref", qualifiedName: d.qualifiedName } as TypeRef;
      if (d.kind === "struct" || d.kind === "union") {
        const mt = module[`${declIdent(d.name)}Type`] as MessageType<unknown>;
        out.push({ name: d.qualifiedName, model, type, random: (g) => g.value(type), encode: (w, v) => mt.encode(w, v), decode: (r) => mt.decode(r) });
      } else if (d.kind === "error") {
        const et = module[`${declIdent(d.name)}Type`] as ErrorType;
        const Cls = module[declIdent(d.name)] as new (fields: object) => RpcError;
        const fieldsOf = (e: RpcError) => Object.fromEntries(d.fields.map((f) => [f.name, (e as unknown as Record<string, unknown>)[f.name]]));
        out.push({
          name: d.qualifiedName, model, type, random: (g) => g.struct(d),
          encode: (w, v) => et.encode(w, new Cls(v as object)),
          decode: (r) => fieldsOf(et.decode(r, "from msgpackr")),
        });
      }
    }
  }
  return out;
}

const all = codecs();

function encoded(c: Codec, v: unknown, w: MsgWriter): Uint8Array {
  w.reset();
  c.encode(w, v);
  return w.bytes().slice();
}

function decoded(c: Codec, bytes: Uint8Array): unknown {
  const r = new MsgReader(bytes);
  const v = c.decode(r);
  expect(r.atEnd()).toBe(true);
  return v;
}

describe("msgpackr reads what the generated encoders write", () => {
  test("every struct, union and error of the three IDLs is covered", () => {
    const names = all.map((c) => c.name);
    expect(names.filter((n) => n.startsWith("kv.v1.")).length).toBe(13);
    expect(names.filter((n) => n.startsWith("chat.v1.")).length).toBe(10);
    expect(names.filter((n) => n.startsWith("bench.v1.")).length).toBe(11);
  });

  test.each(all.map((c) => [c.name, c] as const))("%s", (_name, c) => {
    const gen = new RandomValues(c.model, seededRandom(0x2ef ^ (c.name.length * 977)));
    const w = new MsgWriter(64);
    for (let i = 0; i < ITERATIONS; i++) {
      const v = c.random(gen);
      expect(normalized(c.model, c.type, unpackr.unpack(encoded(c, v, w)))).toEqual(generic(c.model, c.type, v));
    }
  });
});

describe("the generated decoders read what msgpackr writes", () => {
  test.each(all.map((c) => [c.name, c] as const))("%s", (_name, c) => {
    const gen = new RandomValues(c.model, seededRandom(0x3ef ^ (c.name.length * 977)));
    const w = new MsgWriter(64);
    for (let i = 0; i < ITERATIONS; i++) {
      const v = c.random(gen);
      const theirs = Uint8Array.from(packr.pack(generic(c.model, c.type, v)));
      // What our own bytes decode to (defaults filled, absent optionals undefined), less msgpackr's -0.
      expect(rawAsValue(decoded(c, theirs))).toEqual(rawAsValue(withoutNegativeZero(decoded(c, encoded(c, v, w)))));
    }
  });
});

describe("the documented mismatches", () => {
  const kv = loaded.find((l) => l.idl.endsWith("kv.ridl"))!.module;
  const EntryType = kv.EntryType as MessageType<unknown>;
  const entry = (version: unknown) => new Map<number, unknown>([[1, "k"], [2, new Uint8Array([1])], [3, version]]);

  test("msgpackr writes undefined as ext type 0: refused naming the field, accepted as absent with encodeUndefinedAsNil", () => {
    const plain = new Packr({ useRecords: false }).pack(entry(undefined));
    expect(Buffer.from(plain).subarray(-4).toString("hex")).toBe("03d40000");
    let err: unknown = null;
    try {
      EntryType.decode(new MsgReader(plain));
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(DecodeError);
    expect((err as DecodeError).path).toBe("version");
    expect((err as DecodeError).message).toBe("version: expected int but found ext");
    expect(EntryType.decode(new MsgReader(packr.pack(entry(undefined))))).toEqual({ key: "k", value: new Uint8Array([1]), version: undefined, updated_at: undefined });
  });

  test("msgpackr packs -0 as the integer 0, so an f64 -0 from msgpackr arrives as +0; ours keeps the sign", () => {
    const bench = loaded.find((l) => l.idl.endsWith("bench.ridl"))!.module;
    const ItemType = bench.ItemType as MessageType<{ price: number }>;
    const item = { id: 1, name: "n", price: -0, quantity: 1, tags: [], attrs: {} };
    const theirs = packr.pack(new Map<number, unknown>([[1, 1], [2, "n"], [3, -0], [4, 1], [5, []], [6, new Map()]]));
    expect(Object.is(ItemType.decode(new MsgReader(theirs)).price, 0)).toBe(true);
    const w = new MsgWriter(64);
    ItemType.encode(w, item);
    expect(Object.is(ItemType.decode(new MsgReader(w.bytes())).price, -0)).toBe(true);
    expect(Object.is((unpackr.unpack(w.bytes()) as Map<number, unknown>).get(3), -0)).toBe(true);
  });

  test("a number above 2^32 is packed as a float: refused for an i64/u64 field, which needs a bigint", () => {
    const PutReplyType = kv.PutReplyType as MessageType<unknown>;
    let err: unknown = null;
    try {
      PutReplyType.decode(new MsgReader(packr.pack(new Map([[1, 2 ** 40]]))));
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(DecodeError);
    expect((err as DecodeError).message).toBe("version: expected int but found float");
    expect(PutReplyType.decode(new MsgReader(packr.pack(new Map([[1, 2n ** 40n]]))))).toEqual({ version: 2n ** 40n });
  });

  test("an unknown variant msgpackr read and packed again holds the same value, not always the same bytes: forward raw", () => {
    const chat = loaded.find((l) => l.idl.endsWith("chat.ridl"))!.module;
    const BodyType = chat.BodyType as MessageType<unknown>;
    const raw = new Uint8Array([0x81, 0x01, 0xcb, 0x3f, 0xf8, 0, 0, 0, 0, 0, 0]); // {1: 1.5}
    const w = new MsgWriter(64);
    BodyType.encode(w, { kind: "$unknown", id: 9, raw });
    const ours = w.bytes().slice();
    expect([...ours]).toEqual([0x81, 0x09, ...raw]);
    const read = unpackr.unpack(ours) as Map<number, Map<number, number>>;
    expect(read.get(9)?.get(1)).toBe(1.5);
    const theirs = Uint8Array.from(new Packr({ useRecords: false, useFloat32: 3 }).pack(read));
    expect(theirs).not.toEqual(ours);
    expect(BodyType.decode(new MsgReader(theirs))).toEqual({ kind: "$unknown", id: 9, raw: theirs.subarray(2) });
  });

  test("a struct packed as a plain object has string keys, not field ids: refused", () => {
    let err: unknown = null;
    try {
      EntryType.decode(new MsgReader(packr.pack({ 1: "k", 2: new Uint8Array(0) })));
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(DecodeError);
    expect((err as DecodeError).message).toBe("expected int but found string");
  });
});
