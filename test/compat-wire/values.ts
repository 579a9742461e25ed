/**
 * Representative values of a type, from the writer's model: value i of a
 * struct leaves every optional field out when i is even and sets it when i is
 * odd; enums, unions and integers cycle through every member, every variant
 * and the type's extremes, so `count` values cover them all. Open enums and
 * unions also hold what an open writer may pass on: an unknown number (99)
 * and an unknown variant (id 99). Deterministic, small, no randomness.
 */
import type { Model, TypeRef } from "../../idl/index.ts";

/** Enum number and union variant id that no fixture declares. */
export const UNKNOWN_ID = 99;
/** The unknown variant's value: the msgpack string "x". */
const UNKNOWN_RAW = Uint8Array.of(0xa1, 0x78);
/** Recursion cut-off for recursive types. */
const MAX_DEPTH = 4;

const INTS: Record<string, readonly (number | bigint)[]> = {
  i32: [0, 1, 2 ** 31 - 1, -(2 ** 31)],
  u32: [0, 1, 2 ** 32 - 1, 7],
  i64: [0n, 1n, 2n ** 63n - 1n, -(2n ** 63n)],
  u64: [0n, 1n, 2n ** 64n - 1n, 7n],
};
const OTHER: Record<string, readonly unknown[]> = {
  bool: [false, true],
  f64: [0, 1.5, -2.25, 1e300],
  string: ["", "a", "héllo", "x y"],
  bytes: [new Uint8Array(0), Uint8Array.of(1, 2), Uint8Array.of(255), Uint8Array.of(0)],
  timestamp: [new Date(0), new Date(1700000000123), new Date(-1), new Date(1000)],
};

const pick = <T>(xs: readonly T[], i: number): T => xs[i % xs.length]!;

/** How many values cover every member, variant and extreme of the model's types. */
export function valueCount(model: Model): number {
  let n = 4;
  for (const d of model.decls) {
    if (d.kind === "enum") n = Math.max(n, d.values.length + (d.closed ? 0 : 1));
    if (d.kind === "union") n = Math.max(n, d.variants.length + (d.closed ? 0 : 1));
  }
  return n;
}

export function valueOf(model: Model, t: TypeRef, i: number, depth = 0): unknown {
  switch (t.kind) {
    case "scalar":
      return pick(INTS[t.name] ?? OTHER[t.name]!, i);
    case "list":
      return i % 3 === 0 || depth >= MAX_DEPTH ? [] : [valueOf(model, t.elem, i, depth + 1), valueOf(model, t.elem, i + 1, depth + 1)];
    case "map": {
      if (i % 3 === 0 || depth >= MAX_DEPTH) return t.key.kind === "scalar" && t.key.name === "string" ? {} : new Map();
      const v = valueOf(model, t.value, i, depth + 1);
      if (t.key.kind === "scalar" && t.key.name === "string") return { [`k${i}`]: v };
      return new Map([[valueOf(model, t.key, i, depth + 1), v]]);
    }
    case "ref":
      return refValue(model, t.qualifiedName, i, depth);
  }
}

function refValue(model: Model, name: string, i: number, depth: number): unknown {
  const d = model.byName.get(name);
  if (d === undefined) throw new Error(`values: no declaration ${name}`);
  switch (d.kind) {
    case "enum":
      return pick([...d.values.map((v) => v.value), ...(d.closed ? [] : [UNKNOWN_ID])], i);
    case "union": {
      const choices = [...d.variants.map((v) => v as { name: string; type: TypeRef } | null), ...(d.closed ? [] : [null])];
      const v = pick(choices, i);
      return v === null ? { kind: "$unknown", id: UNKNOWN_ID, raw: UNKNOWN_RAW } : { kind: v.name, value: valueOf(model, v.type, i, depth + 1) };
    }
    case "struct":
    case "error": {
      const out: Record<string, unknown> = {};
      for (const f of d.fields) {
        if (f.optional && (i % 2 === 0 || depth >= MAX_DEPTH)) continue;
        out[f.name] = valueOf(model, f.type, i, depth + 1);
      }
      return out;
    }
    default:
      throw new Error(`values: ${name} is a ${d.kind}, not a type`);
  }
}

/** Values 0 .. valueCount-1 of a type. */
export function valuesOf(model: Model, t: TypeRef): unknown[] {
  return Array.from({ length: valueCount(model) }, (_, i) => valueOf(model, t, i));
}

export const refTo = (model: Model, name: string): TypeRef => {
  const d = model.byName.get(name);
  if (d === undefined || !(d.kind === "struct" || d.kind === "error" || d.kind === "union" || d.kind === "enum")) throw new Error(`values: ${name} is not a type`);
  return { kind: "ref", qualifiedName: name, target: d.kind };
};
