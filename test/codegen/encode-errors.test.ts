/**
 * Generated encoders (test/codegen/golden/all/expected) refuse a value that
 * does not fit its IDL type with an EncodeError in the user's terms: the
 * message, the field path, what was expected and what was there. Exact
 * messages for the cases a new user hits, then a property: seeded random
 * messages with one value replaced by a wrong one anywhere inside; whenever
 * the generated validator rejects the result, the encoder refuses it with the
 * same path and words (never a silent coercion, never an engine message),
 * and whenever the validator accepts it, the encoder writes it.
 */
import { describe, expect, test } from "bun:test";
import { join } from "node:path";
import { declIdent } from "../../codegen/names.ts";
import { compile } from "../../idl/index.ts";
import type { StructDecl } from "../../idl/model.ts";
import { EncodeError, EncodeLimitError, MsgWriter } from "../../src/codec/index.ts";
import type { MessageType } from "../../src/rpc/descriptor.ts";
import * as base from "./golden/all/expected/base.ts";
import * as all from "./golden/all/expected/main.ts";
import { RandomValues, seededRandom } from "./random-values.ts";

/** The error `encode` throws; fails the test when it wrote the value instead. */
function refusal(encode: (w: MsgWriter) => void): EncodeError {
  try {
    encode(new MsgWriter(16));
  } catch (e) {
    expect(e).toBeInstanceOf(EncodeError);
    return e as EncodeError;
  }
  throw new Error("expected an EncodeError, the value was written");
}

const scalars = (): all.Scalars => ({
  flag: true, small: -1, count: 1, big: 1n, ubig: 2n, ratio: 0.5, name: "n", data: new Uint8Array(1), at: new Date(0),
});
const containers = (): all.Containers => ({
  names: [], points: [], matrix: [], by_name: {}, by_id: new Map(), by_big_id: new Map(), nested: {}, colors: [], shapes: [],
});

describe("encode errors name the message, the field and the value", () => {
  test("a handler that returns undefined", () => {
    const e = refusal((w) => all.ScalarsType.encode(w, undefined as unknown as all.Scalars));
    expect(e.message).toBe("Scalars: expected an object (test.all.Scalars), got undefined");
    expect([e.typeName, e.path, e.detail]).toEqual(["test.all.Scalars", "", "expected an object (test.all.Scalars), got undefined"]);
  });

  test("a required field left out", () => {
    const { name: _, ...rest } = scalars();
    expect(refusal((w) => all.ScalarsType.encode(w, rest as all.Scalars)).message).toBe("Scalars.name: required field is missing (expected string)");
  });

  test("a number for a string field is refused, not sent as a string", () => {
    const e = refusal((w) => all.ScalarsType.encode(w, { ...scalars(), name: 7 as unknown as string }));
    expect(e.message).toBe("Scalars.name: expected string, got 7");
    expect([e.path, e.detail]).toEqual(["name", "expected string, got 7"]);
  });

  test("sized integers are range-checked by the writer, not by the reader on the other side", () => {
    expect(refusal((w) => all.ScalarsType.encode(w, { ...scalars(), count: -5 })).message).toBe("Scalars.count: expected u32 (an integer in [0, 2^32-1]), got -5");
    expect(refusal((w) => all.ScalarsType.encode(w, { ...scalars(), small: 2 ** 31 })).message).toBe("Scalars.small: expected i32 (an integer in [-2^31, 2^31-1]), got 2147483648");
    expect(refusal((w) => all.ScalarsType.encode(w, { ...scalars(), big: 5 as unknown as bigint })).message).toBe("Scalars.big: expected i64 (a bigint in [-2^63, 2^63-1]), got 5");
  });

  test("a closed enum's non-member is refused on the encoding side; an open enum takes any i32", () => {
    expect(refusal((w) => all.SettingsType.encode(w, { level: 7 as all.Level, levels: [] })).message).toBe("Settings.level: expected a value of enum test.all.Level, got 7");
    expect(refusal((w) => all.SettingsType.encode(w, { level: 0, levels: [1, "2" as unknown as all.Level] })).message).toBe(
      'Settings.levels[1]: expected a value of enum test.all.Level, got "2"',
    );
    const w = new MsgWriter(16);
    all.OptionalsType.encode(w, { color: 7 as base.Color });
    expect([...w.bytes()]).toEqual([0x81, 0x0a, 0x07]);
    expect(refusal((w) => all.ContainersType.encode(w, { ...containers(), colors: [1, "2" as unknown as base.Color] })).message).toBe(
      'Containers.colors[1]: expected a value of enum test.base.Color (an i32: the enum is open), got "2"',
    );
    expect(refusal((w) => all.OptionalsType.encode(w, { color: 2 ** 31 as base.Color })).message).toBe(
      "Optionals.color: expected a value of enum test.base.Color (an i32: the enum is open), got 2147483648",
    );
  });

  test("an unknown variant is checked before its bytes are written", () => {
    const reply = (shape: unknown) => refusal((w) => all.ReplyType.encode(w, { id: 1n, shape: shape as all.Shape })).message;
    expect(reply({ kind: "$unknown", id: 2, raw: new Uint8Array([1]) })).toBe(
      "Reply.shape.id: expected an id that union test.all.Shape does not declare (a declared variant is written with its kind), got 2",
    );
    expect(reply({ kind: "$unknown", id: 0, raw: new Uint8Array([1]) })).toBe("Reply.shape.id: expected a variant id (an integer in [1, 536870911]), got 0");
    expect(reply({ kind: "$unknown", id: 9, raw: "x" })).toBe("Reply.shape.raw: expected one msgpack value (a Uint8Array), got string");
    expect(reply({ kind: "$unknown", id: 9, raw: new Uint8Array([0xa3, 0x61]) })).toBe("Reply.shape.raw: expected one msgpack value: truncated input: needed 3 more bytes, 1 remain");
    expect(reply({ kind: "$unknown", id: 9, raw: new Uint8Array([1, 2]) })).toBe("Reply.shape.raw: expected one msgpack value, got 1 bytes after it");
    expect(reply({ kind: "$unknown", id: 9, raw: new Uint8Array([0xd4, 0x00, 0x00]) })).toContain("Reply.shape.raw: expected one msgpack value: unsupported msgpack extension");
    const strict = refusal((w) => all.SettingsType.encode(w, { level: 0, levels: [], strict: { kind: "$unknown", id: 9, raw: new Uint8Array([1]) } as unknown as all.Strict }));
    expect(strict.message).toBe('Settings.strict.kind: expected kind "level" or "text" of union test.all.Strict, got "$unknown"');
  });

  test("paths through lists, maps, nested and imported structs", () => {
    const bad = (patch: Partial<all.Containers>) => refusal((w) => all.ContainersType.encode(w, { ...containers(), ...patch })).message;
    expect(bad({ points: [{ x: 1, y: 2 }, { x: "1" as unknown as number, y: 2 }] })).toBe('Containers.points[1].x: expected f64 (a number), got "1"');
    expect(bad({ matrix: [[1], [2, 3.5]] })).toBe("Containers.matrix[1][1]: expected i32 (an integer in [-2^31, 2^31-1]), got 3.5");
    expect(bad({ by_name: { home: { x: 1, y: null as unknown as number } } })).toBe('Containers.by_name["home"].y: expected f64 (a number), got null');
    expect(bad({ by_id: new Map([[-1, "a"]]) })).toBe("Containers.by_id[-1]: expected u32 (an integer in [0, 2^32-1]), got -1");
    expect(bad({ nested: { a: new Map([[5n, "not bytes" as unknown as Uint8Array]]) } })).toBe('Containers.nested["a"][5]: expected bytes (a Uint8Array), got "not bytes"');
    expect(bad({ by_id: { 1: "a" } as unknown as Map<number, string> })).toBe("Containers.by_id: expected map<u32, string> (a Map), got an object");
    expect(bad({ names: "abc" as unknown as string[] })).toBe('Containers.names: expected list<string> (an array), got "abc"');
    expect(refusal((w) => all.OptionalsType.encode(w, { point: { x: 1, y: "2" as unknown as number } })).message).toBe('Optionals.point.y: expected f64 (a number), got "2"');
  });

  test("paths through unions and recursive messages", () => {
    const shape = (s: unknown) => refusal((w) => all.ReplyType.encode(w, { id: 1n, shape: s as all.Shape })).message;
    expect(shape({ kind: "circle", value: { center: { x: 1, y: 1 }, radius: "big" } })).toBe('Reply.shape.circle.radius: expected f64 (a number), got "big"');
    expect(shape({ kind: "hexagon", value: 1 })).toBe('Reply.shape.kind: expected kind "circle", "square", "polygon", "named", "nothing" or "$unknown" of union test.all.Shape, got "hexagon"');
    expect(shape({ kind: "nothing", value: 7 })).toBe("Reply.shape.nothing: expected an object (test.all.Empty), got 7");
    const leaf = (label: unknown): all.Tree => ({ label: label as string, children: [] });
    const tree: all.Tree = { label: "root", children: [leaf("a"), { label: "b", children: [leaf("c"), leaf(3)] }] };
    expect(refusal((w) => all.TreeType.encode(w, tree)).message).toBe("Tree.children[1].children[1].label: expected string, got 3");
  });

  test("a typed error's fields", () => {
    const e = refusal((w) => all.NotFoundType.encode(w, new all.NotFound({ key: 5 as unknown as string })));
    expect(e.message).toBe("NotFound.key: expected string, got 5");
    expect(e.typeName).toBe("test.all.NotFound");
  });

  test("a frame limit error passes through untouched for the frame layer", () => {
    const w = new MsgWriter(16);
    w.limit = 20;
    let err: unknown = null;
    try {
      all.ScalarsType.encode(w, { ...scalars(), name: "x".repeat(100) });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(EncodeLimitError);
  });

  test("a value that throws when read is reported against the message with its own error as the cause", () => {
    const boom = new Error("boom");
    const v = { ...scalars() };
    Object.defineProperty(v, "name", { get: () => { throw boom; }, enumerable: true });
    const e = refusal((w) => all.ScalarsType.encode(w, v));
    expect(e.message).toBe("Scalars: boom");
    expect(e.cause).toBe(boom);
  });
});

describe("the encoder refuses exactly what the validator rejects, with the same words", () => {
  const { model, diagnostics } = compile([join(import.meta.dir, "golden/all/main.ridl")]);
  if (model === null) throw new Error(diagnostics.map((d) => d.message).join("\n"));
  const structs = model.decls.filter((d): d is StructDecl => d.kind === "struct");
  const modules: Record<string, object> = { "test.all": all, "test.base": base };
  const WRONG: readonly unknown[] = [undefined, null, 7, -5, 1.5, 2 ** 32, "7", "", 7n, -1n, true, {}, [], new Map(), new Date(Number.NaN), new Uint8Array(1), { kind: "nope" }];

  /** Replaces one value somewhere inside `root` (a field, an element, a map value, a union's kind or value) by a wrong one. */
  function mutate(root: Record<string, unknown>, rand: () => number): void {
    let target: unknown = root;
    for (;;) {
      const slots = slotsOf(target);
      if (slots.length === 0) return;
      const slot = slots[Math.floor(rand() * slots.length)]!;
      const inner = slot.get();
      if (rand() < 0.5 && slotsOf(inner).length > 0) {
        target = inner;
        continue;
      }
      slot.set(WRONG[Math.floor(rand() * WRONG.length)]);
      return;
    }
  }

  type Slot = { get(): unknown; set(v: unknown): void };
  function slotsOf(v: unknown): Slot[] {
    if (v instanceof Map) return [...v.keys()].map((k) => ({ get: () => v.get(k), set: (x) => v.set(k, x) }));
    if (Array.isArray(v)) return v.map((_, i) => ({ get: () => v[i], set: (x) => { v[i] = x; } }));
    if (typeof v === "object" && v !== null && !(v instanceof Uint8Array) && !(v instanceof Date)) {
      const o = v as Record<string, unknown>;
      return Object.keys(o).map((k) => ({ get: () => o[k], set: (x) => { o[k] = x; } }));
    }
    return [];
  }

  test.each(structs.map((d) => [d.qualifiedName, d] as const))("%s", (_name, d) => {
    const mt = (modules[d.package] as Record<string, unknown>)[`${declIdent(d.name)}Type`] as MessageType<unknown>;
    const rand = seededRandom(0xbad ^ (d.name.length * 131));
    const gen = new RandomValues(model, rand);
    const w = new MsgWriter(64);
    let refused = 0;
    for (let i = 0; i < 300; i++) {
      const v = gen.struct(d);
      mutate(v, rand);
      const issue = mt.validate(v);
      w.reset();
      let thrown: unknown = null;
      try {
        mt.encode(w, v);
      } catch (e) {
        thrown = e;
      }
      if (issue === null) {
        expect(thrown).toBeNull();
        continue;
      }
      refused++;
      expect(thrown).toBeInstanceOf(EncodeError);
      const e = thrown as EncodeError;
      expect({ typeName: e.typeName, path: e.path, detail: e.detail }).toEqual({ typeName: d.qualifiedName, path: issue.path, detail: issue.message });
      expect(e.message).toBe(`${d.name}${issue.path === "" ? "" : `.${issue.path}`}: ${issue.message}`);
    }
    // Every struct with a field sees wrong values rejected (an empty struct has nothing to break).
    if (d.fields.length > 0) expect(refused).toBeGreaterThan(20);
  });
});
