/**
 * Emits the TypeScript types of a file's declarations: struct interfaces,
 * error field interfaces, enum objects + types, discriminated unions, consts.
 * An open enum's type adds `UnknownEnum` and an open union's adds
 * `UnknownVariant` (src/codec/unknown-values.ts): what a reader keeps of a
 * value a newer peer added, so code must handle it; `[closed]` types have
 * neither.
 * Type mapping (docs/CODEGEN.md): i32/u32/f64 -> number, i64/u64 -> bigint,
 * timestamp -> Date, bytes -> Uint8Array, list<T> -> T[], map<string, V> ->
 * Record<string, V>, map<integer, V> -> Map<number | bigint, V>.
 */
import type { ConstDecl, Decl, EnumDecl, Field, Model, StructDecl, ErrorDecl, TypeRef, UnionDecl, Value } from "../idl/model.ts";
import { declIdent, quote } from "./names.ts";
import type { Printer } from "./printer.ts";

export function lookup(model: Model, qualifiedName: string): Decl {
  const d = model.byName.get(qualifiedName);
  if (d === undefined) throw new Error(`codegen: unresolved reference ${qualifiedName} (the IDL front end should have reported it)`);
  return d;
}

/** The TypeScript type for an IDL type reference. */
export function tsType(p: Printer, model: Model, t: TypeRef): string {
  switch (t.kind) {
    case "scalar":
      switch (t.name) {
        case "bool": return "boolean";
        case "i32": case "u32": case "f64": return "number";
        case "i64": case "u64": return "bigint";
        case "string": return "string";
        case "bytes": return "Uint8Array";
        case "timestamp": return "Date";
      }
      break;
    case "list": {
      const e = tsType(p, model, t.elem);
      return /^[\w.]+$/.test(e) ? `${e}[]` : `Array<${e}>`;
    }
    case "map": {
      const v = tsType(p, model, t.value);
      if (t.key.kind === "scalar" && t.key.name === "string") return `Record<string, ${v}>`;
      return `Map<${tsType(p, model, t.key)}, ${v}>`;
    }
    case "ref": {
      const d = lookup(model, t.qualifiedName);
      return p.sym(d, d.kind === "error" ? "fields" : "type", true);
    }
  }
  throw new Error("codegen: unknown type");
}

/** A literal Value as a TypeScript expression of the declared type. */
export function valueLiteral(p: Printer, model: Model, v: Value, t: TypeRef): string {
  switch (v.kind) {
    case "bool": return String(v.value);
    case "string": return quote(v.value);
    case "float": return Number.isFinite(v.value) ? String(v.value) : v.value > 0 ? "Infinity" : v.value < 0 ? "-Infinity" : "NaN";
    case "int":
      if (t.kind === "scalar" && (t.name === "i64" || t.name === "u64")) return `${v.value}n`;
      return String(Number(v.value));
    case "enum": {
      const d = lookup(model, v.enum);
      return `${p.sym(d, "type")}.${v.name}`;
    }
  }
}

function fieldDoc(f: Field): string[] {
  const extra: string[] = [];
  if (f.default !== undefined) extra.push(`Default when absent on the wire: ${defaultText(f.default)}.`);
  return extra;
}

function defaultText(v: Value): string {
  return v.kind === "enum" ? v.name : v.kind === "string" ? quote(v.value) : String(v.value);
}

function emitFields(p: Printer, model: Model, fields: readonly Field[]): void {
  for (const f of fields) {
    p.doc(f.doc, fieldDoc(f));
    const t = tsType(p, model, f.type);
    p.line(f.optional ? `${f.name}?: ${t} | undefined;` : `${f.name}: ${t};`);
  }
}

function emitStruct(p: Printer, model: Model, d: StructDecl): void {
  p.doc(d.doc);
  p.block(`export interface ${p.claimName(declIdent(d.name), d.qualifiedName)} {`, () => emitFields(p, model, d.fields));
}

function emitErrorFields(p: Printer, model: Model, d: ErrorDecl): void {
  p.doc(`Fields of the error ${d.qualifiedName}.`);
  const name = p.claimName(`${declIdent(d.name)}Fields`, `fields of ${d.qualifiedName}`);
  if (d.fields.length === 0) {
    p.line(`export type ${name} = Record<never, never>;`);
    return;
  }
  p.block(`export interface ${name} {`, () => emitFields(p, model, d.fields));
}

function emitEnum(p: Printer, d: EnumDecl): void {
  const name = p.claimName(declIdent(d.name), d.qualifiedName);
  p.doc(d.doc);
  p.block(`export const ${name} = {`, () => {
    for (const v of d.values) {
      p.doc(v.doc);
      p.line(`${v.name}: ${v.value},`);
    }
  }, "} as const;");
  p.doc(d.doc);
  const unknown = d.closed ? "" : ` | ${p.runtime("codec", "UnknownEnum", true)}`;
  p.line(`export type ${name} = (typeof ${name})[keyof typeof ${name}]${unknown};`);
}

function emitUnion(p: Printer, model: Model, d: UnionDecl): void {
  const name = p.claimName(declIdent(d.name), d.qualifiedName);
  p.doc(d.doc);
  const unknown = d.closed ? [] : [p.runtime("codec", "UnknownVariant", true)];
  if (d.variants.length === 0) {
    p.line(`export type ${name} = ${unknown[0] ?? "never"};`);
    return;
  }
  p.line(`export type ${name} =`);
  const arms = d.variants.map((v) => ({ doc: v.doc, text: `{ kind: ${quote(v.name)}; value: ${tsType(p, model, v.type)} }` }));
  for (const u of unknown) arms.push({ doc: "A variant this schema does not declare (a newer peer's), kept to be passed on unchanged.", text: u });
  arms.forEach((a, i) => {
    p.doc(a.doc);
    p.line(`  | ${a.text}${i === arms.length - 1 ? ";" : ""}`);
  });
}

function emitConst(p: Printer, model: Model, d: ConstDecl): void {
  p.doc(d.doc);
  p.line(`export const ${p.claimName(declIdent(d.name), d.qualifiedName)} = ${valueLiteral(p, model, d.value, d.type)};`);
}

/** Emits the types section for the declarations of one file, in source order. */
export function emitTypes(p: Printer, model: Model, decls: readonly Decl[]): void {
  for (const d of decls) {
    switch (d.kind) {
      case "struct": emitStruct(p, model, d); break;
      case "error": emitErrorFields(p, model, d); break;
      case "enum": emitEnum(p, d); break;
      case "union": emitUnion(p, model, d); break;
      case "const": emitConst(p, model, d); break;
      case "service": continue;
    }
    p.line();
  }
}
