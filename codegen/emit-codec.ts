/**
 * Emits the specialised msgpack encode/decode functions of structs, errors,
 * enums and unions (wire format: docs/ENCODING.md), all module-private: other
 * modules reach them through `XType` (generate.ts); an enum's decoder is
 * emitted in every file that decodes it. Straight-line code per
 * message: no reflection, no per-field closures; one try/catch per message
 * turns a failure into a DecodeError whose path names the field. Encoders
 * have one try/catch per message too and nothing per field: MsgWriter's
 * primitives check what they write (no coercion; sized integers and, here,
 * enum members are checked before they are sent) and the catch rebuilds the
 * field path by running the message's validator on the value
 * (EncodeError.locate), off the hot path.
 * Open enums and unions (the default; docs/ENCODING.md, sections 3 and 4):
 * an open enum is read and written as any i32, with no member switch; an
 * open union's decoder keeps an unknown variant id with its value's bytes
 * (`{ kind: "$unknown", id, raw }`) and its encoder writes them back as they
 * were. Both cost a branch only where a closed type would have thrown.
 */
import type { Decl, EnumDecl, Field, Model, TypeRef, UnionDecl } from "../idl/model.ts";
import { declIdent, literalKey, quote } from "./names.ts";
import type { Printer } from "./printer.ts";
import { lookup, tsType, valueLiteral } from "./emit-types.ts";

type StructLike = Extract<Decl, { kind: "struct" | "error" }>;

const SCALAR_WRITE: Record<string, string> = {
  bool: "bool", i32: "i32", u32: "u32", i64: "i64", u64: "u64", f64: "f64",
  string: "str", bytes: "bin", timestamp: "timestamp",
};
const SCALAR_READ: Record<string, string> = {
  bool: "bool", i32: "i32", u32: "u32", i64: "i64", u64: "u64", f64: "f64",
  string: "str", bytes: "bin", timestamp: "timestamp",
};

export class CodecEmitter {
  constructor(
    private readonly p: Printer,
    private readonly model: Model,
  ) {}

  private w(): string {
    return this.p.runtime("codec", "MsgWriter", true);
  }

  private r(): string {
    return this.p.runtime("codec", "MsgReader", true);
  }

  private decodeError(): string {
    return this.p.runtime("codec", "DecodeError");
  }

  private encodeError(): string {
    return this.p.runtime("codec", "EncodeError");
  }

  // ------------------------------------------------------------ encode

  /** Statements that append `expr` (of type t) to `w`. */
  encodeStmts(t: TypeRef, expr: string, depth: number): string[] {
    switch (t.kind) {
      case "scalar":
        return [`w.${SCALAR_WRITE[t.name]}(${expr});`];
      case "ref": {
        const d = lookup(this.model, t.qualifiedName);
        if (d.kind === "enum") return [`${this.enumEncoder(d)}(w, ${expr});`];
        return [`${this.p.codec(d, "encode")}(w, ${expr});`];
      }
      case "list": {
        const a = `a${depth}`;
        const i = `i${depth}`;
        return [
          `const ${a} = ${expr};`,
          `w.arrayHeaderOf(${a});`,
          `for (let ${i} = 0; ${i} < ${a}.length; ${i}++) {`,
          ...indent(this.encodeStmts(t.elem, `${a}[${i}]!`, depth + 1)),
          "}",
        ];
      }
      case "map": {
        const m = `m${depth}`;
        const k = `k${depth}`;
        if (isStringKey(t)) {
          const ks = `ks${depth}`;
          return [
            `const ${m} = ${expr};`,
            `const ${ks} = w.mapHeaderOfRecord(${m});`,
            `for (const ${k} of ${ks}) {`,
            `  w.str(${k});`,
            ...indent(this.encodeStmts(t.value, `${m}[${k}]!`, depth + 1)),
            "}",
          ];
        }
        const v = `v${depth}`;
        return [
          `const ${m} = ${expr};`,
          `w.mapHeaderOfMap(${m});`,
          `for (const [${k}, ${v}] of ${m}) {`,
          ...indent(this.encodeStmts(t.key, k, depth + 1)),
          ...indent(this.encodeStmts(t.value, v, depth + 1)),
          "}",
        ];
      }
    }
  }

  // ------------------------------------------------------------ decode

  /** A single expression that reads a value of type t, or null when statements are needed. */
  private decodeExpr(t: TypeRef): string | null {
    if (t.kind === "scalar") return `r.${SCALAR_READ[t.name]}()`;
    if (t.kind === "ref") {
      const d = lookup(this.model, t.qualifiedName);
      return d.kind === "enum" ? `${this.enumDecoder(d)}(r)` : `${this.p.codec(d, "decode")}(r)`;
    }
    return null;
  }

  /** Statements that read a value of type t into `target`. */
  decodeStmts(t: TypeRef, target: string, depth: number): string[] {
    const simple = this.decodeExpr(t);
    if (simple !== null) return [`${target} = ${simple};`];
    const de = this.decodeError();
    const n = `n${depth}`;
    const i = `i${depth}`;
    if (t.kind === "list") {
      const a = `a${depth}`;
      const e = `e${depth}`;
      const et = tsType(this.p, this.model, t.elem);
      const elem = this.decodeExpr(t.elem);
      const body = elem !== null ? [`${a}.push(${elem});`] : [`let ${e}: ${et};`, ...this.decodeStmts(t.elem, e, depth + 1), `${a}.push(${e});`];
      return [
        `const ${n} = r.arrayHeader();`,
        `const ${a}: ${et}[] = [];`,
        `for (let ${i} = 0; ${i} < ${n}; ${i}++) {`,
        "  try {",
        ...indent(indent(body)),
        "  } catch (err) {",
        `    throw ${de}.at(err, \`[\${${i}}]\`);`,
        "  }",
        "}",
        `${target} = ${a};`,
      ];
    }
    if (t.kind !== "map") throw new Error("codegen: unexpected type");
    const m = `m${depth}`;
    const k = `k${depth}`;
    const e = `e${depth}`;
    const vt = tsType(this.p, this.model, t.value);
    const valueExpr = this.decodeExpr(t.value);
    const keyExpr = this.decodeExpr(t.key)!;
    const stringKey = isStringKey(t);
    const store = (v: string) => (stringKey ? `${m}[${k}] = ${v};` : `${m}.set(${k}, ${v});`);
    const body = valueExpr !== null ? [store(valueExpr)] : [`let ${e}: ${vt};`, ...this.decodeStmts(t.value, e, depth + 1), store(e)];
    // A string key may be a peer's: its path segment is quoted, escaped and cut by peerText.
    const keyPath = stringKey ? `\`[\${${this.p.runtime("codec", "peerText")}(${k}, { quote: true })}]\`` : `\`[\${${k}}]\``;
    return [
      `const ${n} = r.mapHeader();`,
      stringKey
        ? `const ${m}: Record<string, ${vt}> = Object.create(null) as Record<string, ${vt}>;`
        : `const ${m} = new Map<${tsType(this.p, this.model, t.key)}, ${vt}>();`,
      `for (let ${i} = 0; ${i} < ${n}; ${i}++) {`,
      `  const ${k} = ${keyExpr};`,
      "  try {",
      ...indent(indent(body)),
      "  } catch (err) {",
      `    throw ${de}.at(err, ${keyPath});`,
      "  }",
      "}",
      `${target} = ${m};`,
    ];
  }

  /** Enums decoded by this file (local or imported), in order of first use: each gets a private decoder. */
  private readonly enumsUsed = new Map<string, { decl: EnumDecl; name: string }>();

  /** Enums encoded by this file (local or imported), in order of first use: each gets a private encoder. */
  private readonly enumsEncoded = new Map<string, { decl: EnumDecl; name: string }>();

  /** The private encoder of an enum this file encodes (emitted by emitAll, after the other codecs). */
  private enumEncoder(d: EnumDecl): string {
    let e = this.enumsEncoded.get(d.qualifiedName);
    if (e === undefined) {
      const name = this.p.claimName(`encode${this.p.sym(d, "type", true)}`, `encoder of ${d.qualifiedName}`);
      e = { decl: d, name };
      this.enumsEncoded.set(d.qualifiedName, e);
    }
    return e.name;
  }

  /** The private decoder of an enum this file decodes (emitted by emitAll, after the other codecs). */
  private enumDecoder(d: EnumDecl): string {
    let e = this.enumsUsed.get(d.qualifiedName);
    if (e === undefined) {
      const name = this.p.claimName(`decode${this.p.sym(d, "type", true)}`, `decoder of ${d.qualifiedName}`);
      e = { decl: d, name };
      this.enumsUsed.set(d.qualifiedName, e);
    }
    return e.name;
  }

  // ------------------------------------------------------------ declarations

  emitStruct(d: StructLike): void {
    const p = this.p;
    const typeName = p.sym(d, d.kind === "error" ? "fields" : "type");
    const fields = [...d.fields].sort((a, b) => a.id - b.id);
    const required = fields.filter((f) => !f.optional).length;
    const optional = fields.filter((f) => f.optional);
    const enc = p.claimName(`encode${declIdent(d.name)}`, `encoder of ${d.qualifiedName}`);
    const dec = p.claimName(`decode${declIdent(d.name)}`, `decoder of ${d.qualifiedName}`);
    const de = this.decodeError();

    p.doc(`Appends ${d.qualifiedName} as a msgpack map keyed by field id. Throws EncodeError naming the field.`);
    p.block(`function ${enc}(w: ${this.w()}, v: ${typeName}): void {`, () => {
      p.tryCatch(() => {
        // Reading a required field of a non-object already fails; without one, 7 would be written as an empty struct.
        if (required === 0) p.line(`if (typeof v !== "object" || v === null) throw new ${this.encodeError()}(\`expected an object, got \${${p.runtime("codec", "describeValue")}(v)}\`);`);
        if (optional.length === 0) p.line(`w.mapHeader(${required});`);
        else {
          p.line(`let n = ${required};`);
          for (const f of optional) p.line(`if (v.${f.name} !== undefined) n++;`);
          p.line("w.mapHeader(n);");
        }
        for (const f of fields) {
          const body = [`w.int(${f.id});`, ...this.encodeStmts(f.type, `v.${f.name}`, 1)];
          if (f.optional) {
            p.block(`if (v.${f.name} !== undefined) {`, () => p.lines_(body));
          } else if (body.length > 2) p.block("{", () => p.lines_(body));
          else p.lines_(body);
        }
      }, () => p.line(this.located(d)));
    });
    p.line();

    p.doc(`Reads ${d.qualifiedName}; unknown field ids are skipped. Throws DecodeError with the field path.`);
    p.block(`function ${dec}(r: ${this.r()}): ${typeName} {`, () => {
      p.line("const n = r.mapHeader();");
      for (const f of fields) p.line(this.fieldVarDecl(f));
      p.line('let at = "";');
      p.line("r.enter();");
      p.tryCatch(() => {
        p.block("for (let i = 0; i < n; i++) {", () => {
          p.block("switch (r.int()) {", () => {
            for (const f of fields) {
              p.line(`case ${f.id}:`);
              p.line(`  at = ${quote(f.name)};`);
              const stmts = this.decodeStmts(f.type, `f_${f.name}`, 1);
              if (f.optional) {
                p.line("  if (r.peekNil()) r.nil();");
                if (stmts.length === 1) p.line(`  else ${stmts[0]}`);
                else {
                  p.line("  else {");
                  p.lines_(indent(indent(stmts)));
                  p.line("  }");
                }
              } else if (stmts.length === 1) p.line(`  ${stmts[0]}`);
              else {
                p.line("  {");
                p.lines_(indent(indent(stmts)));
                p.line("  }");
              }
              p.line("  break;");
            }
            p.line("default:");
            p.line('  at = "";');
            p.line("  r.skip();");
          });
        });
      }, () => p.line(`throw ${de}.at(err, at);`));
      p.line("r.leave();");
      for (const f of fields) {
        if (f.optional || f.default !== undefined) continue;
        p.line(`if (f_${f.name} === undefined) throw new ${de}(${quote(`required field ${f.name} (id ${f.id}) is missing`)}, ${quote(f.name)});`);
      }
      const props = d.fields.map((f) => `${literalKey(f.name)}: f_${f.name}`);
      p.line(`return { ${props.join(", ")} };`);
    });
    p.line();
  }

  private fieldVarDecl(f: Field): string {
    const t = tsType(this.p, this.model, f.type);
    if (f.default !== undefined) return `let f_${f.name}: ${t} = ${valueLiteral(this.p, this.model, f.default, f.type)};`;
    return `let f_${f.name}: ${t} | undefined;`;
  }

  private emitEnumDecoder(d: EnumDecl, dec: string): void {
    const p = this.p;
    const type = p.sym(d, "type", true);
    if (!d.closed) {
      p.doc(`Reads ${d.qualifiedName}, an open enum: any i32, a number that is not a member kept as an UnknownEnum.`);
      p.block(`function ${dec}(r: ${this.r()}): ${type} {`, () => p.line(`return r.i32() as ${type};`));
      p.line();
      return;
    }
    const de = this.decodeError();
    p.doc(`Reads ${d.qualifiedName}; a number that is not a member is a DecodeError.`);
    p.block(`function ${dec}(r: ${this.r()}): ${type} {`, () => {
      p.line("const v = r.int();");
      p.block("switch (v) {", () => {
        for (const v of d.values) p.line(`case ${v.value}:`);
        if (d.values.length > 0) p.line(`  return v;`);
        p.line("default:");
        p.line(`  throw new ${de}(\`\${v} is not a value of enum ${d.qualifiedName}\`);`);
      });
    });
    p.line();
  }

  emitUnion(d: UnionDecl): void {
    const p = this.p;
    const type = p.sym(d, "type");
    const enc = p.claimName(`encode${declIdent(d.name)}`, `encoder of ${d.qualifiedName}`);
    const dec = p.claimName(`decode${declIdent(d.name)}`, `decoder of ${d.qualifiedName}`);
    const de = this.decodeError();
    p.doc(`Appends ${d.qualifiedName} as a 1-entry msgpack map {variant id: value}. Throws EncodeError naming the variant.`);
    p.block(`function ${enc}(w: ${this.w()}, v: ${type}): void {`, () => {
      p.tryCatch(() => {
        p.line("w.mapHeader(1);");
        p.block("switch (v.kind) {", () => {
          for (const variant of d.variants) {
            p.line(`case ${quote(variant.name)}: {`);
            p.lines_(indent([`w.int(${variant.id});`, ...this.encodeStmts(variant.type, "v.value", 1), "return;"]));
            p.line("}");
          }
          if (!d.closed) {
            // The unknown variant's bytes go out as they came in, once its validator has checked them.
            p.line(`case "$unknown": {`);
            p.lines_(indent([
              `const issue = ${this.p.codec(d, "check")}(v);`,
              `if (issue !== null) throw new ${this.encodeError()}(issue.message);`,
              "w.int(v.id);",
              "w.raw(v.raw);",
              "return;",
            ]));
            p.line("}");
          }
          p.line("default:");
          p.line(`  throw new ${this.encodeError()}(\`unknown kind \${String((v as { kind: unknown }).kind)} for union ${d.qualifiedName}\`);`);
        });
      }, () => p.line(this.located(d)));
    });
    p.line();
    p.doc(d.closed
      ? `Reads ${d.qualifiedName}; an unknown variant id is a DecodeError.`
      : `Reads ${d.qualifiedName}; an unknown variant id is kept with its value's bytes ({ kind: "$unknown", id, raw }).`);
    p.block(`function ${dec}(r: ${this.r()}): ${type} {`, () => {
      p.line("const n = r.mapHeader();");
      p.line(`if (n !== 1) throw new ${de}(\`union ${d.qualifiedName} must be a map with 1 entry, found \${n}\`);`);
      p.line("const id = r.int();");
      p.line(`let at = "";`);
      p.line("r.enter();");
      p.tryCatch(() => {
        p.block("switch (id) {", () => {
          for (const variant of d.variants) {
            const vt = tsType(p, this.model, variant.type);
            p.line(`case ${variant.id}: {`);
            p.line(`  at = ${quote(variant.name)};`);
            const simple = this.decodeExpr(variant.type);
            if (simple !== null) p.line(`  const value = ${simple};`);
            else {
              p.line(`  let value: ${vt};`);
              p.lines_(indent(this.decodeStmts(variant.type, "value", 1)));
            }
            p.line("  r.leave();");
            p.line(`  return { kind: ${quote(variant.name)}, value };`);
            p.line("}");
          }
          if (d.closed) {
            p.line("default:");
            p.line(`  throw new ${de}(\`unknown variant id \${id} for union ${d.qualifiedName}\`);`);
          } else {
            p.line("default: {");
            p.lines_(indent([
              `if (id < 1 || id > ${2 ** 29 - 1}) throw new ${de}(\`variant id \${id} of union ${d.qualifiedName} is out of range (1 to ${2 ** 29 - 1})\`);`,
              "const raw = r.rawValue();",
              "r.leave();",
              `return { kind: "$unknown", id, raw };`,
            ]));
            p.line("}");
          }
        });
      }, () => p.line(`throw ${de}.at(err, at);`));
    });
    p.line();
  }

  /**
   * The one catch of an encoder: rethrow as an EncodeError naming this
   * message, with the path its validator finds. An enclosing message's catch
   * does the same for the whole value, so the outermost names the full path.
   */
  private located(d: StructLike | UnionDecl): string {
    return `throw ${this.encodeError()}.locate(err, ${quote(d.qualifiedName)}, v, ${this.p.codec(d, "check")});`;
  }

  private emitEnumEncoder(d: EnumDecl, enc: string): void {
    const p = this.p;
    const type = p.sym(d, "type", true);
    if (!d.closed) {
      p.doc(`Appends ${d.qualifiedName}, an open enum: any i32 (an unknown number read from a peer is passed on as it came).`);
      p.block(`function ${enc}(w: ${this.w()}, v: ${type}): void {`, () => p.line("w.i32(v);"));
      p.line();
      return;
    }
    const describe = p.runtime("codec", "describeValue");
    p.doc(`Appends ${d.qualifiedName}; a number that is not a member is an EncodeError.`);
    p.block(`function ${enc}(w: ${this.w()}, v: ${type}): void {`, () => {
      p.block("switch (v) {", () => {
        for (const v of d.values) p.line(`case ${v.value}:`);
        if (d.values.length > 0) {
          p.line("  w.int(v);");
          p.line("  return;");
        }
        p.line("default:");
        p.line(`  throw new ${this.encodeError()}(\`expected a value of enum ${d.qualifiedName}, got \${${describe}(v)}\`);`);
      });
    });
    p.line();
  }

  /**
   * Emits the module-private codec functions of one file's structs, errors
   * and unions in source order, then an encoder for each enum they encode
   * and a decoder for each enum they decode.
   */
  emitAll(decls: readonly Decl[]): void {
    for (const d of decls) {
      if (d.kind === "struct" || d.kind === "error") this.emitStruct(d);
      else if (d.kind === "union") this.emitUnion(d);
    }
    for (const { decl, name } of this.enumsEncoded.values()) this.emitEnumEncoder(decl, name);
    for (const { decl, name } of this.enumsUsed.values()) this.emitEnumDecoder(decl, name);
  }
}

export function isStringKey(t: Extract<TypeRef, { kind: "map" }>): boolean {
  return t.key.kind === "scalar" && t.key.name === "string";
}

export function indent(lines: readonly string[]): string[] {
  return lines.map((l) => (l === "" ? l : `  ${l}`));
}
