/**
 * Property tests of the generated codecs (test/codegen/golden/<case>/expected):
 * seeded random values of every message encode, decode back equal, re-encode
 * to the same bytes, pass the generated validator and the zod schema; old and
 * new schema versions read each other; malformed input fails with a
 * DecodeError whose path names the field.
 */
import { describe, expect, test } from "bun:test";
import { join } from "node:path";
import { Packr } from "msgpackr";
import type { z } from "zod";
import { declIdent } from "../../codegen/names.ts";
import { checkCompat, compile } from "../../idl/index.ts";
import type { Model, StructDecl } from "../../idl/model.ts";
import { DecodeError, MsgReader, MsgWriter } from "../../src/codec/index.ts";
import type { MessageType } from "../../src/rpc/descriptor.ts";
import * as all from "./golden/all/expected/main.ts";
import * as evoNew from "./golden/evolution-new/expected/profile.ts";
import * as evoOld from "./golden/evolution-old/expected/profile.ts";
import { RandomValues, seededRandom } from "./random-values.ts";

const ITERATIONS = 150;
const golden = join(import.meta.dir, "golden");

function modelOf(...files: string[]): Model {
  const { model, diagnostics } = compile(files.map((f) => join(golden, f)));
  if (model === null) throw new Error(diagnostics.map((d) => d.message).join("\n"));
  return model;
}

function exportsOf(mod: object): Record<string, unknown> {
  return mod as Record<string, unknown>;
}

function messageType(mod: object, d: StructDecl): MessageType<unknown> {
  const mt = exportsOf(mod)[`${declIdent(d.name)}Type`] as MessageType<unknown> | undefined;
  if (mt === undefined) throw new Error(`no ${d.name}Type export`);
  return mt;
}

function encode<T>(mt: MessageType<T>, v: T, w = new MsgWriter(64)): Uint8Array {
  w.reset();
  mt.encode(w, v);
  return w.bytes().slice();
}

function decode<T>(mt: MessageType<T>, bytes: Uint8Array): T {
  const r = new MsgReader(bytes);
  const v = mt.decode(r);
  expect(r.atEnd()).toBe(true);
  return v;
}

function decodeError(fn: () => unknown): DecodeError {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(DecodeError);
    return e as DecodeError;
  }
  throw new Error("expected a DecodeError, nothing was thrown");
}

/** What a decoder yields for v: absent fields that have a default get it. */
function withDefaults(d: StructDecl, v: Record<string, unknown>): Record<string, unknown> {
  let out = v;
  for (const f of d.fields) {
    if (f.default === undefined || out[f.name] !== undefined) continue;
    const dv = f.default;
    if (out === v) out = { ...v };
    out[f.name] = dv.kind === "int" ? (f.type.kind === "scalar" && (f.type.name === "i64" || f.type.name === "u64") ? dv.value : Number(dv.value)) : dv.value;
  }
  return out;
}

const allModel = modelOf("all/main.ridl");
const allStructs = allModel.decls.filter((d): d is StructDecl => d.kind === "struct" && d.package === "test.all");
const baseStructs = allModel.decls.filter((d): d is StructDecl => d.kind === "struct" && d.package === "test.base");

describe("round trip of every generated message", () => {
  const cases: Array<[string, object, StructDecl]> = [
    ...allStructs.map((d): [string, object, StructDecl] => [d.qualifiedName, all, d]),
  ];
  test("the schema has many messages", () => {
    expect(allStructs.length).toBeGreaterThanOrEqual(12);
    expect(baseStructs.length).toBe(2);
  });

  test.each(cases)("%s", (_name, mod, d) => {
    const mt = messageType(mod, d);
    const schema = exportsOf(mod)[`${declIdent(d.name)}Schema`] as z.ZodType<unknown>;
    const gen = new RandomValues(allModel, seededRandom(0x5eed ^ d.name.length * 7919));
    const w = new MsgWriter(16);
    for (let i = 0; i < ITERATIONS; i++) {
      const v = gen.struct(d);
      const bytes = encode(mt, v, w);
      const back = decode(mt, bytes);
      const expected = withDefaults(d, v);
      expect(back).toEqual(expected);
      // Stable bytes: re-encoding what was decoded gives the encoding of the expected value.
      expect(encode(mt, back, w)).toEqual(expected === v ? bytes : encode(mt, expected));
      expect(mt.validate(v)).toBeNull();
      if (i % 10 === 0) expect(schema.safeParse(v).success).toBe(true);
    }
  });
});

describe("schema evolution", () => {
  const oldModel = modelOf("evolution-old/profile.ridl");
  const newModel = modelOf("evolution-new/profile.ridl");
  const structOf = (m: Model, name: string) => m.byName.get(`evo.${name}`) as StructDecl;

  test("an old reader skips fields it does not know", () => {
    const gen = new RandomValues(newModel, seededRandom(42));
    for (let i = 0; i < ITERATIONS; i++) {
      const team = gen.struct(structOf(newModel, "Team")) as unknown as evoNew.Team;
      const old = decode(evoOld.TeamType, encode(evoNew.TeamType, team));
      expect(old).toEqual({ members: team.members.map((p) => ({ id: p.id, name: p.name, tags: p.tags })) });
    }
  });

  test("a new reader sees new optional fields as undefined and new defaulted fields as their default", () => {
    const gen = new RandomValues(oldModel, seededRandom(43));
    for (let i = 0; i < ITERATIONS; i++) {
      const team = gen.struct(structOf(oldModel, "Team")) as unknown as evoOld.Team;
      const fresh = decode(evoNew.TeamType, encode(evoOld.TeamType, team));
      expect(fresh.motto).toBeUndefined();
      expect(fresh).toEqual({
        members: team.members.map((p) => ({ ...p, email: undefined, address: undefined, scores: undefined, level: 1, role: evoNew.Role.ROLE_MEMBER })),
      });
    }
  });
});

describe("schema evolution: open enums and unions", () => {
  const oldModel = modelOf("evolution-old/profile.ridl");
  const newModel = modelOf("evolution-new/profile.ridl");
  const address: evoNew.Address = { city: "Oslo", lines: ["Storgata 1", "0155"] };
  const fresh: evoNew.Card = {
    presence: evoNew.Presence.PRESENCE_BUSY,
    contact: { kind: "postal", value: address },
    history: [{ kind: "email", value: "a@b" }, { kind: "postal", value: { city: "Bergen", lines: [] } }],
  };

  test("check-compat calls adding a value and a variant to open types wire-safe", () => {
    expect(checkCompat(oldModel, newModel).filter((i) => i.category === "wire")).toEqual([]);
  });

  test("an old reader keeps what it does not know, re-encodes it bit for bit, and a new reader gets the original value", () => {
    const bytes = encode(evoNew.CardType, fresh);
    const seen = decode(evoOld.CardType, bytes);
    expect(seen.presence as number).toBe(2);
    expect(seen.contact.kind).toBe("$unknown");
    const contact = seen.contact as Extract<evoOld.Contact, { kind: "$unknown" }>;
    expect(contact.id).toBe(3);
    const addressBytes = encode(evoNew.AddressType, address);
    expect(contact.raw).toEqual(addressBytes);
    expect(seen.history[0]).toEqual({ kind: "email", value: "a@b" });
    expect(seen.history[1]?.kind).toBe("$unknown");
    // A proxy on the old schema forwards it: the same bytes, so the new reader sees what was sent.
    const forwarded = encode(evoOld.CardType, seen);
    expect(forwarded).toEqual(bytes);
    expect(decode(evoNew.CardType, forwarded)).toEqual(fresh);
    // The old side validates and zod-parses what it decoded.
    expect(evoOld.CardType.validate(seen)).toBeNull();
    expect(evoOld.CardSchema.safeParse(seen).success).toBe(true);
  });

  test("random cards: every value a new writer sends survives an old reader and its re-encoding", () => {
    const gen = new RandomValues(newModel, seededRandom(44));
    const card = newModel.byName.get("evo.Card") as StructDecl;
    let unknown = 0;
    for (let i = 0; i < ITERATIONS; i++) {
      const v = gen.struct(card) as unknown as evoNew.Card;
      const bytes = encode(evoNew.CardType, v);
      const seen = decode(evoOld.CardType, bytes);
      if (seen.contact.kind === "$unknown") unknown++;
      expect(encode(evoOld.CardType, seen)).toEqual(bytes);
      expect(decode(evoNew.CardType, bytes)).toEqual(v);
    }
    expect(unknown).toBeGreaterThan(10);
  });

  test("zod schemas accept the unknown forms, and refuse malformed ones", () => {
    expect(evoOld.PresenceSchema.safeParse(2).success).toBe(true);
    expect(evoOld.PresenceSchema.safeParse(1.5).success).toBe(false);
    expect(evoOld.PresenceSchema.safeParse(2 ** 31).success).toBe(false);
    expect(evoOld.PresenceSchema.safeParse("2").success).toBe(false);
    expect(evoOld.ContactSchema.safeParse({ kind: "$unknown", id: 3, raw: new Uint8Array([0xc0]) }).success).toBe(true);
    expect(evoOld.ContactSchema.safeParse({ kind: "$unknown", id: 0, raw: new Uint8Array([0xc0]) }).success).toBe(false);
    expect(evoOld.ContactSchema.safeParse({ kind: "$unknown", id: 3, raw: [0xc0] }).success).toBe(false);
    expect(evoOld.ContactSchema.safeParse({ kind: "$unknown", id: 3 }).success).toBe(false);
    // Closed types stay strict in zod too.
    expect(all.LevelSchema.safeParse(1).success).toBe(true);
    expect(all.LevelSchema.safeParse(7).success).toBe(false);
    expect(all.StrictSchema.safeParse({ kind: "$unknown", id: 3, raw: new Uint8Array([0xc0]) }).success).toBe(false);
    expect(all.SomedaySchema.safeParse({ kind: "$unknown", id: 3, raw: new Uint8Array([0xc0]) }).success).toBe(true);
    expect(all.LaterSchema.safeParse(-5).success).toBe(true);
  });
});

describe("decode errors name the field", () => {
  const packr = new Packr({ useRecords: false, variableMapSize: true });
  const map = (entries: Array<[number, unknown]>) => new Map<number, unknown>(entries);

  test("a bad element deep in a list", () => {
    const bytes = packr.pack(map([[2, [map([[1, 1.5], [2, 2]]), map([[1, "x"], [2, 2]])]]]));
    const e = decodeError(() => all.ContainersType.decode(new MsgReader(bytes)));
    expect(e.path).toBe("points[1].x");
    expect(e.message).toBe("points[1].x: expected float but found string");
  });

  test("a bad value in a string-keyed map and an integer-keyed map", () => {
    const e1 = decodeError(() => all.ContainersType.decode(new MsgReader(packr.pack(map([[4, { home: map([[1, true]]) }]])))));
    expect(e1.path).toBe('by_name["home"].x');
    const e2 = decodeError(() => all.ContainersType.decode(new MsgReader(packr.pack(map([[5, map([[7, 8]])]])))));
    expect(e2.path).toBe("by_id[7]");
  });

  test("a missing required field", () => {
    const e = decodeError(() => all.CircleType.decode(new MsgReader(packr.pack(map([[2, 1.0]])))));
    expect(e.path).toBe("center");
    expect(e.message).toContain("required field center (id 1) is missing");
  });

  test("a closed enum's unknown number and a closed union's unknown variant are rejected", () => {
    const e1 = decodeError(() => all.SettingsType.decode(new MsgReader(packr.pack(map([[1, 0], [3, [0, 9]]])))));
    expect(e1.path).toBe("levels[1]");
    expect(e1.message).toBe("levels[1]: 9 is not a value of enum test.all.Level");
    const e2 = decodeError(() => all.SettingsType.decode(new MsgReader(packr.pack(map([[1, 0], [3, []], [2, map([[99, 1]])]])))));
    expect(e2.path).toBe("strict");
    expect(e2.message).toBe("strict: unknown variant id 99 for union test.all.Strict");
    const e3 = decodeError(() => all.ReplyType.decode(new MsgReader(packr.pack(map([[1, 1], [2, map([[2, 1.0], [1, 2.0]])]])))));
    expect(e3.message).toContain("must be a map with 1 entry, found 2");
  });

  test("an open enum keeps an unknown number; an open union keeps an unknown variant and its bytes", () => {
    const containers = all.ContainersType.decode(new MsgReader(packr.pack(map([[1, []], [2, []], [3, []], [4, {}], [5, map([])], [6, map([])], [7, {}], [8, [0, 9]], [9, []]]))));
    expect(containers.colors as number[]).toEqual([0, 9]);
    const bytes = new Uint8Array([0x82, 0x01, 0x01, 0x02, 0x81, 0x63, 0x92, 0xa1, 0x78, 0xc0]); // {1: 1, 2: {99: ["x", nil]}}
    const reply = all.ReplyType.decode(new MsgReader(bytes));
    expect(reply.shape).toEqual({ kind: "$unknown", id: 99, raw: new Uint8Array([0x92, 0xa1, 0x78, 0xc0]) });
    expect(reply.shape?.kind === "$unknown" && reply.shape.raw.buffer !== bytes.buffer).toBe(true); // a copy: safe after the frame is reused
    expect(encode(all.ReplyType, reply)).toEqual(bytes);
    // The value inside must still be msgpack this reader accepts: an unknown variant is skipped with the same checks.
    const ext = decodeError(() => all.ReplyType.decode(new MsgReader(new Uint8Array([0x82, 0x01, 0x01, 0x02, 0x81, 0x63, 0xd4, 0x00, 0x00]))));
    expect(ext.path).toBe("shape");
    // An id outside 1..2^29-1 is no variant id at all (the fuzzer found this): never kept, so never re-sent.
    const zero = decodeError(() => all.ReplyType.decode(new MsgReader(new Uint8Array([0x82, 0x01, 0x01, 0x02, 0x81, 0x00, 0xc0]))));
    expect(zero.message).toBe("shape: variant id 0 of union test.all.Shape is out of range (1 to 536870911)");
    const huge = decodeError(() => all.ReplyType.decode(new MsgReader(new Uint8Array([0x82, 0x01, 0x01, 0x02, 0x81, 0xce, 0x20, 0, 0, 0, 0xc0]))));
    expect(huge.message).toBe("shape: variant id 536870912 of union test.all.Shape is out of range (1 to 536870911)");
    // Outside i32 is no enum number at all.
    const big = decodeError(() => all.OptionalsType.decode(new MsgReader(packr.pack(map([[10, 2 ** 31]])))));
    expect(big.message).toBe("color: integer 2147483648 is out of range for i32");
  });

  test("nil for an optional field means absent; nil for a required one is an error", () => {
    const ok = all.OptionalsType.decode(new MsgReader(packr.pack(map([[7, null], [2, 5]]))));
    expect(ok.name).toBeUndefined();
    expect(ok.small).toBe(5);
    const e = decodeError(() => all.ScalarsType.decode(new MsgReader(packr.pack(map([[7, null]])))));
    expect(e.path).toBe("name");
  });

  test("integer ranges are enforced per type", () => {
    expect(decodeError(() => all.OptionalsType.decode(new MsgReader(packr.pack(map([[2, 2 ** 31]]))))).path).toBe("small");
    expect(decodeError(() => all.OptionalsType.decode(new MsgReader(packr.pack(map([[3, -1]]))))).path).toBe("count");
  });

  test("a deeply recursive message hits the depth limit", () => {
    let tree: unknown = map([[1, "leaf"], [2, []]]);
    for (let i = 0; i < 100; i++) tree = map([[1, `n${i}`], [2, [tree]]]);
    const e = decodeError(() => all.TreeType.decode(new MsgReader(packr.pack(tree))));
    expect(e.message).toContain("nesting deeper than 64");
    expect(e.path.startsWith("children[0].children[0]")).toBe(true);
  });

  test("unknown fields of every type are skipped", () => {
    const bytes = packr.pack(map([[1, 5], [99, { a: [1, "x", new Uint8Array(3)] }], [100, new Date(5)], [2, map([[2, 3.5]])]]));
    expect(all.ReplyType.decode(new MsgReader(bytes))).toEqual({ id: 5n, shape: { kind: "square", value: 3.5 } });
  });
});

describe("generated validators", () => {
  test("report the path and problem of the first bad field", () => {
    expect(all.ContainersType.validate({ names: [], points: [{ x: 1, y: 2 }, { x: "1", y: 2 }] })).toEqual({ path: "points[1].x", message: 'expected f64 (a number), got "1"' });
    expect(all.ScalarsType.validate({})).toEqual({ path: "flag", message: "required field is missing (expected bool)" });
    expect(all.OptionalsType.validate({ small: 1.5 })).toEqual({ path: "small", message: "expected i32 (an integer in [-2^31, 2^31-1]), got 1.5" });
    expect(all.OptionalsType.validate({ ubig: -1n })).toEqual({ path: "ubig", message: "expected u64 (a bigint in [0, 2^64-1]), got -1n" });
    expect(all.OptionalsType.validate({ color: 7 })).toBeNull();
    expect(all.OptionalsType.validate({ color: 1.5 })).toEqual({ path: "color", message: "expected a value of enum test.base.Color (an i32: the enum is open), got 1.5" });
    expect(all.SettingsType.validate({ level: 7, levels: [] })).toEqual({ path: "level", message: "expected a value of enum test.all.Level, got 7" });
    expect(all.ReplyType.validate({ id: 1n, shape: { kind: "hexagon", value: 1 } })).toEqual({
      path: "shape.kind",
      message: 'expected kind "circle", "square", "polygon", "named", "nothing" or "$unknown" of union test.all.Shape, got "hexagon"',
    });
    expect(all.ReplyType.validate({ id: 1n, shape: { kind: "$unknown", id: 9, raw: new Uint8Array([0xc0]) } })).toBeNull();
    const containers = { names: [], points: [], matrix: [[1], [2, "x"]], by_name: {}, by_id: new Map(), by_big_id: new Map(), nested: {}, colors: [], shapes: [] };
    expect(all.ContainersType.validate(containers)).toEqual({ path: "matrix[1][1]", message: 'expected i32 (an integer in [-2^31, 2^31-1]), got "x"' });
    expect(all.ContainersType.validate({ ...containers, matrix: [], by_id: { 1: "a" } })).toEqual({ path: "by_id", message: "expected map<u32, string> (a Map), got an object" });
    expect(all.ContainersType.validate({ ...containers, matrix: [], names: "abc" })).toEqual({ path: "names", message: 'expected list<string> (an array), got "abc"' });
    expect(all.ContainersType.validate(null)).toEqual({ path: "", message: "expected an object (test.all.Containers), got null" });
  });
});
