/**
 * Codec half of the wire truth: representative values of every type two
 * versions share, encoded with the writer's generated codecs and decoded
 * with the reader's, must decode and mean the same (meaning.ts). Types are
 * shared when they have the same qualified name (or, when a package was
 * renamed, the same simple name), and a method's input and output are
 * shared with the same method's in the other version. Returns what went
 * wrong, one line each; an empty list means this direction is wire-safe.
 */
import type { Model, TypeRef } from "../../idl/index.ts";
import { MsgReader, MsgWriter } from "../../src/codec/index.ts";
import type { GeneratedVersion } from "./generated.ts";
import { differ } from "./meaning.ts";
import { refTo, valuesOf } from "./values.ts";

const CODEC_KINDS = new Set(["struct", "union", "error"]);

/** The declaration of `name`'s counterpart in `other`: same qualified name, else the only one with the same simple name. */
export function counterpart(name: string, from: Model, other: Model): string | undefined {
  if (other.byName.has(name)) return name;
  const simple = from.byName.get(name)?.name;
  const same = other.decls.filter((d) => d.name === simple && !from.byName.has(d.qualifiedName));
  return same.length === 1 ? same[0]!.qualifiedName : undefined;
}

/** [writer type, reader type] pairs both versions have a codec for. */
export function sharedTypes(w: GeneratedVersion, r: GeneratedVersion): [string, string][] {
  const out = new Map<string, [string, string]>();
  for (const d of w.model.decls) {
    if (!CODEC_KINDS.has(d.kind)) continue;
    const other = counterpart(d.qualifiedName, w.model, r.model);
    if (other !== undefined && CODEC_KINDS.has(r.model.byName.get(other)!.kind)) out.set(`${d.qualifiedName}>${other}`, [d.qualifiedName, other]);
  }
  for (const s of w.model.decls) {
    if (s.kind !== "service") continue;
    const rs = r.model.byName.get(s.qualifiedName);
    if (rs?.kind !== "service") continue;
    for (const m of s.methods) {
      const rm = rs.methods.find((x) => x.name === m.name);
      if (rm === undefined) continue;
      out.set(`${m.input}>${rm.input}`, [m.input, rm.input]);
      out.set(`${m.output}>${rm.output}`, [m.output, rm.output]);
    }
  }
  return [...out.values()];
}

export function encodeWith(v: GeneratedVersion, name: string, value: unknown): Uint8Array {
  const codec = v.codecs.get(name);
  if (codec === undefined) throw new Error(`${v.label}: no codec for ${name}`);
  const w = new MsgWriter(256);
  codec.encode(w, value);
  return w.bytes().slice();
}

/** The value `bytes` decode to under `name` in `v`, or the decoder's error. */
export function decodeWith(v: GeneratedVersion, name: string, bytes: Uint8Array): { value: unknown } | { error: string } {
  const codec = v.codecs.get(name);
  if (codec === undefined) return { error: `${v.label}: no codec for ${name}` };
  try {
    const r = new MsgReader(bytes);
    const value = codec.decode(r);
    return r.atEnd() ? { value } : { error: "bytes left over" };
  } catch (e) {
    return { error: (e as Error).message };
  }
}

/** Writer -> reader: every representative value of every shared type. */
export function crossDecode(w: GeneratedVersion, r: GeneratedVersion): string[] {
  const problems: string[] = [];
  for (const [wt, rt] of sharedTypes(w, r)) {
    const values = valuesOf(w.model, refTo(w.model, wt));
    values.forEach((value, i) => {
      const got = decodeWith(r, rt, encodeWith(w, wt, value));
      const where = `${w.label} -> ${r.label}: ${wt} #${i}`;
      if ("error" in got) problems.push(`${where}: reader fails: ${got.error}`);
      else {
        const d = differ({ v: w, type: refTo(w.model, wt), value }, { v: r, type: refTo(r.model, rt), value: got.value });
        if (d !== null) problems.push(`${where}: meaning changed: ${d}`);
      }
    });
  }
  return problems;
}

/**
 * Two readers of one earlier writer's bytes: they must read them alike (a
 * default both fill in for a field the writer did not have, say).
 */
export function readersAgree(w: GeneratedVersion, r1: GeneratedVersion, r2: GeneratedVersion): string[] {
  const problems: string[] = [];
  for (const [wt, t1] of sharedTypes(w, r1)) {
    const t2 = counterpart(t1, r1.model, r2.model);
    if (t2 === undefined || !r2.codecs.has(t2)) continue;
    valuesOf(w.model, refTo(w.model, wt)).forEach((value, i) => {
      const bytes = encodeWith(w, wt, value);
      const a = decodeWith(r1, t1, bytes);
      const b = decodeWith(r2, t2, bytes);
      if (!("value" in a) || !("value" in b)) return; // a reader that fails is crossDecode's finding
      const type = (v: GeneratedVersion, n: string): TypeRef => refTo(v.model, n);
      const d = differ({ v: r1, type: type(r1, t1), value: a.value }, { v: r2, type: type(r2, t2), value: b.value });
      if (d !== null) problems.push(`${w.label}'s ${wt} #${i} reads differently in ${r1.label} and ${r2.label}: ${d}`);
    });
  }
  return problems;
}
