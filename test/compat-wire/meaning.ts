/**
 * Does a value mean the same thing to two peers built from different
 * versions? Each side is a value read (or written) under its own model;
 * they agree when every field id both versions declare holds the same value
 * (an absent field meaning its default, where it has one), enum numbers and
 * variant ids match, lists and maps agree element by element. Names never
 * travel, so a renamed field, value or variant is the same thing; but a name
 * both versions declare under different ids or numbers means the two sides
 * no longer agree on what that name is sent as. A variant one side keeps as
 * unknown ({ kind: "$unknown", id, raw }) is compared by decoding its bytes
 * with the other side's union codec. Returns the first disagreement as
 * text, or null. Owns the comparison only.
 */
import type { Field, TypeRef, Value } from "../../idl/index.ts";
import { MsgReader, MsgWriter } from "../../src/codec/index.ts";
import type { GeneratedVersion } from "./generated.ts";

export interface Side {
  readonly v: GeneratedVersion;
  readonly type: TypeRef;
  readonly value: unknown;
}

type Variant = { kind: string; value?: unknown; id?: number; raw?: Uint8Array };

const hex = (b: Uint8Array): string => Buffer.from(b).toString("hex");

/** A scalar as comparable text: numbers and bigints alike, bytes as hex, dates as ms. */
function scalarText(v: unknown): string {
  if (typeof v === "number" || typeof v === "bigint") return `#${String(v)}`;
  if (v instanceof Uint8Array) return `bytes:${hex(v)}`;
  if (v instanceof Date) return `time:${v.getTime()}`;
  return JSON.stringify(v);
}

function defaultOf(d: Value | undefined): unknown {
  if (d === undefined) return undefined;
  return d.kind === "enum" ? d.value : d.value;
}

const at = (path: string, key: string): string => (path === "" ? key : `${path}.${key}`);

export function differ(a: Side, b: Side, path = ""): string | null {
  const ta = a.type;
  const tb = b.type;
  if (ta.kind === "scalar" && tb.kind === "scalar") {
    const x = scalarText(a.value);
    const y = scalarText(b.value);
    return x === y ? null : `${path}: ${x} became ${y}`;
  }
  if (ta.kind === "list" && tb.kind === "list") {
    const xs = a.value as unknown[];
    const ys = b.value as unknown[];
    if (xs.length !== ys.length) return `${path}: ${xs.length} elements became ${ys.length}`;
    for (let i = 0; i < xs.length; i++) {
      const d = differ({ v: a.v, type: ta.elem, value: xs[i] }, { v: b.v, type: tb.elem, value: ys[i] }, `${path}[${i}]`);
      if (d !== null) return d;
    }
    return null;
  }
  if (ta.kind === "map" && tb.kind === "map") {
    const xs = entries(a.value);
    const ys = new Map(entries(b.value).map(([k, v]) => [scalarText(k), v]));
    if (xs.length !== ys.size) return `${path}: ${xs.length} entries became ${ys.size}`;
    for (const [k, x] of xs) {
      const key = scalarText(k);
      if (!ys.has(key)) return `${path}[${key}]: entry lost`;
      const d = differ({ v: a.v, type: ta.value, value: x }, { v: b.v, type: tb.value, value: ys.get(key) }, `${path}[${key}]`);
      if (d !== null) return d;
    }
    return null;
  }
  if (ta.kind === "ref" && tb.kind === "ref") return differRef(a, b, ta.qualifiedName, tb.qualifiedName, path);
  return `${path}: a ${ta.kind} became a ${tb.kind}`;
}

function entries(v: unknown): [unknown, unknown][] {
  return v instanceof Map ? [...v.entries()] : Object.entries(v as object);
}

function differRef(a: Side, b: Side, qa: string, qb: string, path: string): string | null {
  const da = a.v.model.byName.get(qa);
  const db = b.v.model.byName.get(qb);
  if (da === undefined || db === undefined) return `${path}: no declaration ${qa} / ${qb}`;
  const record = (k: string) => k === "struct" || k === "error";
  if (record(da.kind) && record(db.kind)) return differFields(a, b, (da as { fields: readonly Field[] }).fields, (db as { fields: readonly Field[] }).fields, path);
  if (da.kind === "enum" && db.kind === "enum") {
    const x = a.value as number;
    const y = b.value as number;
    if (x !== y) return `${path}: enum number ${x} became ${y}`;
    const na = da.values.find((v) => v.value === x)?.name;
    const nb = db.values.find((v) => v.value === y)?.name;
    const clash = (name: string | undefined, other: typeof db.values) => name !== undefined && other.some((v) => v.name === name && v.value !== x);
    if (nb === undefined && clash(na, db.values)) return `${path}: ${na} was sent as ${x}, which the reader knows as another number`;
    if (na === undefined && clash(nb, da.values)) return `${path}: ${nb} is ${x} to one side only`;
    return null;
  }
  if (da.kind === "union" && db.kind === "union") {
    const x = a.value as Variant;
    const y = b.value as Variant;
    const idOf = (d: typeof da, u: Variant) => (u.kind === "$unknown" ? u.id! : d.variants.find((v) => v.name === u.kind)!.id);
    const ix = idOf(da, x);
    const iy = idOf(db, y);
    if (ix !== iy) return `${path}: variant ${ix} became ${iy}`;
    if (x.kind !== "$unknown" && y.kind !== "$unknown") {
      const vx = da.variants.find((v) => v.id === ix)!;
      const vy = db.variants.find((v) => v.id === iy)!;
      return differ({ v: a.v, type: vx.type, value: x.value }, { v: b.v, type: vy.type, value: y.value }, at(path, vx.name));
    }
    if (x.kind === "$unknown" && y.kind === "$unknown") return hex(x.raw!) === hex(y.raw!) ? null : `${path}: unknown variant ${ix} bytes changed`;
    // One side knows the variant, the other keeps it as bytes: the knowing side reads those bytes.
    const [known, unknown, kd, ud] = x.kind === "$unknown" ? [b, x, db, da] : [a, y, da, db];
    const name = kd.variants.find((v) => v.id === ix)!.name;
    if (ud.variants.some((v) => v.name === name)) return `${path}: variant "${name}" is ${ix} to one side only`;
    const codec = known.v.codecs.get(kd.qualifiedName);
    if (codec === undefined) return `${path}: no codec for ${kd.qualifiedName}`;
    const w = new MsgWriter(64);
    w.mapHeader(1);
    w.int(ix);
    const head = w.bytes().slice();
    let decoded: unknown;
    try {
      decoded = codec.decode(new MsgReader(Uint8Array.from([...head, ...unknown.raw!])));
    } catch (e) {
      return `${path}: unknown variant ${ix} does not read as "${name}": ${(e as Error).message}`;
    }
    return differ(known, { v: known.v, type: known.type, value: decoded }, path);
  }
  return `${path}: a ${da.kind} became a ${db.kind}`;
}

/** A field's value as its version understands it: absent means the default, or absent when there is none. */
function fieldValue(f: Field, record: unknown): unknown {
  const v = (record as Record<string, unknown>)[f.name];
  return v === undefined ? defaultOf(f.default) : v;
}

function differFields(a: Side, b: Side, fa: readonly Field[], fb: readonly Field[], path: string): string | null {
  for (const x of fa) {
    const y = fb.find((f) => f.id === x.id);
    const xv = fieldValue(x, a.value);
    if (y === undefined) {
      const moved = fb.find((f) => f.name === x.name);
      if (moved !== undefined && xv !== undefined) return `${at(path, x.name)}: sent as id ${x.id}, read as id ${moved.id}`;
      continue;
    }
    const yv = fieldValue(y, b.value);
    if (xv === undefined && yv === undefined) continue;
    if (xv === undefined || yv === undefined) return `${at(path, x.name)}: ${xv === undefined ? "absent" : scalarish(xv)} became ${yv === undefined ? "absent" : scalarish(yv)}`;
    const d = differ({ v: a.v, type: x.type, value: xv }, { v: b.v, type: y.type, value: yv }, at(path, x.name));
    if (d !== null) return d;
  }
  return null;
}

const scalarish = (v: unknown): string => (typeof v === "object" && v !== null && !(v instanceof Uint8Array) && !(v instanceof Date) ? "a value" : scalarText(v));

