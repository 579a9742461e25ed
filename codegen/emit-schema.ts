/**
 * Emits one exported zod schema per struct, error, enum and union
 * (`EntrySchema: z.ZodType<Entry>`), in dependency order so each schema can
 * refer to the ones before it; references that close a cycle go through
 * `z.lazy`. The schemas are for users (forms, configs, tests); the RPC
 * validation path uses the faster generated checks (codegen/emit-checks.ts).
 * An open enum's schema also accepts any i32, an open union's the unknown
 * variant `{ kind: "$unknown", id, raw }` (module-private `$unknownEnum` and
 * `$unknownVariant`, emitted when the file has one).
 */
import type { Decl, Model, TypeRef } from "../idl/model.ts";
import { declIdent, quote } from "./names.ts";
import type { Printer } from "./printer.ts";
import { lookup } from "./emit-types.ts";

const SCALAR_SCHEMA: Record<string, string> = {
  bool: "boolean()", i32: "int32()", u32: "uint32()", i64: "int64()", u64: "uint64()",
  f64: "", string: "string()", bytes: "instanceof(Uint8Array)", timestamp: "date()",
};

function refsOf(t: TypeRef, out: string[]): void {
  if (t.kind === "ref") out.push(t.qualifiedName);
  else if (t.kind === "list") refsOf(t.elem, out);
  else if (t.kind === "map") {
    refsOf(t.key, out);
    refsOf(t.value, out);
  }
}

function declRefs(d: Decl): string[] {
  const out: string[] = [];
  if (d.kind === "struct" || d.kind === "error") for (const f of d.fields) refsOf(f.type, out);
  if (d.kind === "union") for (const v of d.variants) refsOf(v.type, out);
  return out;
}

function declTypes(d: Decl): TypeRef[] {
  if (d.kind === "struct" || d.kind === "error") return d.fields.map((f) => f.type);
  if (d.kind === "union") return d.variants.map((v) => v.type);
  return [];
}

function usesF64(t: TypeRef): boolean {
  if (t.kind === "scalar") return t.name === "f64";
  if (t.kind === "list") return usesF64(t.elem);
  if (t.kind === "map") return usesF64(t.value);
  return false;
}

type SchemaDecl = Extract<Decl, { kind: "struct" | "error" | "enum" | "union" }>;

function hasSchema(d: Decl): d is SchemaDecl {
  return d.kind === "struct" || d.kind === "error" || d.kind === "enum" || d.kind === "union";
}

export class SchemaEmitter {
  /** Qualified names whose schema is being emitted (DFS stack) or is done. */
  private readonly onStack = new Set<string>();
  private readonly done = new Set<string>();

  constructor(
    private readonly p: Printer,
    private readonly model: Model,
    private readonly file: string,
  ) {}

  private schemaExpr(t: TypeRef): string {
    const z = this.p.zod();
    switch (t.kind) {
      case "scalar": return t.name === "f64" ? "$f64" : `${z}.${SCALAR_SCHEMA[t.name]}`;
      case "list": return `${z}.array(${this.schemaExpr(t.elem)})`;
      case "map":
        if (t.key.kind === "scalar" && t.key.name === "string") return `${z}.record(${z}.string(), ${this.schemaExpr(t.value)})`;
        return `${z}.map(${this.schemaExpr(t.key)}, ${this.schemaExpr(t.value)})`;
      case "ref": {
        const d = lookup(this.model, t.qualifiedName);
        const name = this.p.sym(d, "schema");
        return d.pos.file === this.file && !this.done.has(d.qualifiedName) ? `${z}.lazy(() => ${name})` : name;
      }
    }
  }

  private visit(d: SchemaDecl): void {
    if (this.done.has(d.qualifiedName) || this.onStack.has(d.qualifiedName)) return;
    this.onStack.add(d.qualifiedName);
    for (const qn of declRefs(d)) {
      const dep = lookup(this.model, qn);
      if (dep.pos.file === this.file && hasSchema(dep)) this.visit(dep);
    }
    this.onStack.delete(d.qualifiedName);
    this.emit(d);
    this.done.add(d.qualifiedName);
  }

  private emit(d: SchemaDecl): void {
    const p = this.p;
    const z = p.zod();
    const name = p.claimName(`${declIdent(d.name)}Schema`, `zod schema of ${d.qualifiedName}`);
    const type = p.sym(d, d.kind === "error" ? "fields" : "type");
    p.doc(`zod schema of ${d.qualifiedName}.`);
    switch (d.kind) {
      case "struct":
      case "error":
        if (d.fields.length === 0) {
          p.line(`export const ${name}: ${z}.ZodType<${type}> = ${z}.object({});`);
          break;
        }
        p.block(`export const ${name}: ${z}.ZodType<${type}> = ${z}.object({`, () => {
          for (const f of d.fields) p.line(`${f.name}: ${this.schemaExpr(f.type)}${f.optional ? ".optional()" : ""},`);
        }, "});");
        break;
      case "enum": {
        const members = d.values.length === 0 ? `${z}.never()` : `${z}.literal([${d.values.map((v) => `${type}.${v.name}`).join(", ")}])`;
        const schema = d.closed ? members : d.values.length === 0 ? "$unknownEnum" : `${z}.union([${members}, $unknownEnum])`;
        p.line(`export const ${name}: ${z}.ZodType<${type}> = ${schema};`);
        break;
      }
      case "union":
        if (d.variants.length === 0) {
          p.line(`export const ${name}: ${z}.ZodType<${type}> = ${d.closed ? `${z}.never()` : "$unknownVariant"};`);
          break;
        }
        p.block(`export const ${name}: ${z}.ZodType<${type}> = ${z}.discriminatedUnion("kind", [`, () => {
          for (const v of d.variants) p.line(`${z}.object({ kind: ${z}.literal(${quote(v.name)}), value: ${this.schemaExpr(v.type)} }),`);
          if (!d.closed) p.line("$unknownVariant,");
        }, "]);");
        break;
    }
    p.line();
  }

  emitAll(decls: readonly Decl[]): void {
    if (decls.some((d) => declTypes(d).some(usesF64))) {
      const z = this.p.zod();
      this.p.doc("IDL f64: any number, including NaN and the infinities (z.number() rejects those).");
      this.p.line(`const $f64 = ${z}.union([${z}.number(), ${z}.nan(), ${z}.literal([Infinity, -Infinity])]);`);
      this.p.line();
    }
    if (decls.some((d) => d.kind === "enum" && !d.closed)) {
      const z = this.p.zod();
      this.p.doc("A number of an open enum that its schema does not name (a value a newer peer added): any i32.");
      this.p.line(`const $unknownEnum = ${z}.custom<${this.p.runtime("codec", "UnknownEnum", true)}>((v) => typeof v === "number" && (v | 0) === v, "expected an i32");`);
      this.p.line();
    }
    if (decls.some((d) => d.kind === "union" && !d.closed)) {
      const z = this.p.zod();
      this.p.doc("A variant of an open union that its schema does not declare, kept as its id and its msgpack bytes.");
      this.p.line(`const $unknownVariant = ${z}.object({ kind: ${z}.literal("$unknown"), id: ${z}.int().min(1).max(${2 ** 29 - 1}), raw: ${z}.instanceof(Uint8Array) });`);
      this.p.line();
    }
    for (const d of decls) if (hasSchema(d)) this.visit(d);
  }
}
