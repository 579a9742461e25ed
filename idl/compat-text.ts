/**
 * Small pieces the compatibility checker (idl/compat.ts) needs to talk about
 * a schema: a type or value as IDL text, an example default for a type, id
 * ranges and the first id a reservation gave up, and where a package is
 * declared. Pure functions over the model; no rules here.
 */
import type { IdRange, Model, Pos, TypeRef, Value } from "./model.ts";

export function typeRefText(t: TypeRef): string {
  switch (t.kind) {
    case "scalar": return t.name;
    case "list": return `list<${typeRefText(t.elem)}>`;
    case "map": return `map<${typeRefText(t.key)}, ${typeRefText(t.value)}>`;
    case "ref": return t.qualifiedName;
  }
}

/** A field default as IDL text ("none" when there is none). */
export function valueText(v: Value | undefined): string {
  if (v === undefined) return "none";
  switch (v.kind) {
    case "string": return JSON.stringify(v.value);
    case "enum": return v.name;
    default: return String(v.value);
  }
}

/** What a default is on the wire, to compare two: an enum value by its number (a renamed value is the same default). */
export function defaultKey(v: Value | undefined): string {
  return v?.kind === "enum" ? `enum ${v.value}` : valueText(v);
}

/**
 * A default the IDL accepts for a field of type `t` (`0`, `false`, `""`, an
 * enum's first value), or undefined for types that cannot have one (bytes,
 * timestamp, lists, maps, structs, unions, errors).
 */
export function defaultExample(t: TypeRef, model: Model): string | undefined {
  if (t.kind === "scalar") {
    switch (t.name) {
      case "bool": return "false";
      case "string": return '""';
      case "bytes": case "timestamp": return undefined;
      default: return "0";
    }
  }
  if (t.kind === "ref" && t.target === "enum") {
    const e = model.byName.get(t.qualifiedName);
    return e?.kind === "enum" ? e.values[0]?.name : undefined;
  }
  return undefined;
}

export const inRanges = (ranges: readonly IdRange[], id: number): boolean => ranges.some((r) => r.from <= id && id <= r.to);

export const rangeText = (r: IdRange): string => (r.from === r.to ? `${r.from}` : `${r.from} to ${r.to}`);

/**
 * The first id of `r` that is neither in one of `ranges` nor `used`, or
 * null. Jumps over whole ranges, so a reservation of millions of ids costs
 * as many steps as there are ranges and used ids, not ids.
 */
export function firstUncovered(r: IdRange, ranges: readonly IdRange[], used: ReadonlySet<number>): number | null {
  let id = r.from;
  while (id <= r.to) {
    const covering = ranges.find((x) => x.from <= id && id <= x.to);
    if (covering !== undefined) id = covering.to + 1;
    else if (used.has(id)) id++;
    else return id;
  }
  return null;
}

/** Where `package <name>;` is written in the first file declaring it (offset of the name). */
export function packagePos(model: Model, name: string): Pos {
  const file = model.files.find((f) => f.package === name);
  if (file === undefined) return { file: model.files[0]?.path ?? "", offset: 0 };
  const m = new RegExp(`\\bpackage\\s+(${name.replaceAll(".", "\\s*\\.\\s*")})\\s*;`).exec(file.text);
  return { file: file.path, offset: m === null ? 0 : m.index + m[0].indexOf(m[1]!) };
}

/**
 * Old package -> new package, for each package that disappeared while a new
 * one appeared holding most of its declarations' names (a rename, reported
 * once instead of once per declaration).
 */
export function packageRenames(oldModel: Model, newModel: Model): Map<string, string> {
  const oldNames = new Set(oldModel.packages.map((p) => p.name));
  const newNames = new Set(newModel.packages.map((p) => p.name));
  const fresh = newModel.packages.filter((p) => !oldNames.has(p.name));
  const out = new Map<string, string>();
  const taken = new Set<string>();
  for (const p of oldModel.packages) {
    if (newNames.has(p.name) || p.decls.length === 0) continue;
    let best: { name: string; shared: number } | undefined;
    for (const q of fresh) {
      if (taken.has(q.name)) continue;
      const names = new Set(q.decls.map((d) => d.name));
      const shared = p.decls.filter((d) => names.has(d.name)).length;
      if (shared * 2 > p.decls.length && (best === undefined || shared > best.shared)) best = { name: q.name, shared };
    }
    if (best !== undefined) {
      out.set(p.name, best.name);
      taken.add(best.name);
    }
  }
  return out;
}
