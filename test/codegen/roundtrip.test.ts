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
import { compile } from "../../idl/index.ts";
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

  test("unknown enum values and union variants are rejected", () => {
    const e1 = decodeError(() => all.ContainersType.decode(new MsgReader(packr.pack(map([[8, [0, 9]]])))));
    expect(e1.path).toBe("colors[1]");
    expect(e1.message).toContain("9 is not a value of enum test.base.Color");
    const e2 = decodeError(() => all.ReplyType.decode(new MsgReader(packr.pack(map([[1, 1], [2, map([[99, 1]])]])))));
    expect(e2.path).toBe("shape");
    expect(e2.message).toContain("unknown variant id 99");
    const e3 = decodeError(() => all.ReplyType.decode(new MsgReader(packr.pack(map([[1, 1], [2, map([[2, 1.0], [1, 2.0]])]])))));
    expect(e3.message).toContain("must be a map with 1 entry, found 2");
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
    expect(all.OptionalsType.validate({ color: 7 })).toEqual({ path: "color", message: "expected a value of enum test.base.Color, got 7" });
    expect(all.ReplyType.validate({ id: 1n, shape: { kind: "hexagon", value: 1 } })).toEqual({
      path: "shape.kind",
      message: 'expected kind "circle", "square", "polygon", "named" or "nothing" of union test.all.Shape, got "hexagon"',
    });
    const containers = { names: [], points: [], matrix: [[1], [2, "x"]], by_name: {}, by_id: new Map(), by_big_id: new Map(), nested: {}, colors: [], shapes: [] };
    expect(all.ContainersType.validate(containers)).toEqual({ path: "matrix[1][1]", message: 'expected i32 (an integer in [-2^31, 2^31-1]), got "x"' });
    expect(all.ContainersType.validate({ ...containers, matrix: [], by_id: { 1: "a" } })).toEqual({ path: "by_id", message: "expected map<u32, string> (a Map), got an object" });
    expect(all.ContainersType.validate({ ...containers, matrix: [], names: "abc" })).toEqual({ path: "names", message: 'expected list<string> (an array), got "abc"' });
    expect(all.ContainersType.validate(null)).toEqual({ path: "", message: "expected an object (test.all.Containers), got null" });
  });
});
