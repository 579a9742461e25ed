/**
 * Emits the generated validators (`checkX(v: unknown): ValidationIssue | null`)
 * behind MessageType.validate: straight-line structural checks of a JS value
 * against its IDL type (field presence, JS types, integer ranges, enum
 * members, union kinds). A path is built only when a check fails. Enum
 * checks are inlined where an enum is used.
 */
import type { Decl, Model, TypeRef, UnionDecl } from "../idl/model.ts";
import { declIdent, quote } from "./names.ts";
import type { Printer } from "./printer.ts";
import { indent, isStringKey } from "./emit-codec.ts";
import { lookup } from "./emit-types.ts";

type StructLike = Extract<Decl, { kind: "struct" | "error" }>;

/** A JS expression for a path: a literal or a template. */
type PathExpr = string;

function subPath(parent: PathExpr, index: string): PathExpr {
  // parent is a quoted literal ("items") or a template (`items[${i1}]`)
  const inner = parent.startsWith('"') ? (JSON.parse(parent) as string).replaceAll("`", "\\`").replaceAll("${", "\\${") : parent.slice(1, -1);
  return `\`${inner}[\${${index}}]\``;
}

const SCALAR_FAIL: Record<string, (x: string) => [string, string]> = {
  bool: (x) => [`typeof ${x} !== "boolean"`, "expected a boolean"],
  i32: (x) => [`typeof ${x} !== "number" || (${x} | 0) !== ${x}`, "expected an i32 (integer in [-2^31, 2^31-1])"],
  u32: (x) => [`typeof ${x} !== "number" || ${x} >>> 0 !== ${x}`, "expected a u32 (integer in [0, 2^32-1])"],
  i64: (x) => [`typeof ${x} !== "bigint" || ${x} < -0x8000000000000000n || ${x} > 0x7fffffffffffffffn`, "expected an i64 (bigint in [-2^63, 2^63-1])"],
  u64: (x) => [`typeof ${x} !== "bigint" || ${x} < 0n || ${x} > 0xffffffffffffffffn`, "expected a u64 (bigint in [0, 2^64-1])"],
  f64: (x) => [`typeof ${x} !== "number"`, "expected a number"],
  string: (x) => [`typeof ${x} !== "string"`, "expected a string"],
  bytes: (x) => [`!(${x} instanceof Uint8Array)`, "expected a Uint8Array"],
  timestamp: (x) => [`!(${x} instanceof Date) || Number.isNaN(${x}.getTime())`, "expected a valid Date"],
};

export class CheckEmitter {
  constructor(
    private readonly p: Printer,
    private readonly model: Model,
  ) {}

  /** A string map key in a path: quoted, escaped and cut by the runtime's peerText (keys may come from a peer). */
  private keySegment(k: string): string {
    return `${this.p.runtime("codec", "peerText")}(${k}, { quote: true })`;
  }

  private issue(path: PathExpr, message: string): string {
    return `return { path: ${path}, message: ${quote(message)} };`;
  }

  /** Statements that return an issue when `x` (an unknown) is not a value of type t. */
  checkStmts(t: TypeRef, x: string, path: PathExpr, depth: number): string[] {
    switch (t.kind) {
      case "scalar": {
        const [cond, msg] = SCALAR_FAIL[t.name]!(x);
        return [`if (${cond}) ${this.issue(path, msg)}`];
      }
      case "ref": {
        const d = lookup(this.model, t.qualifiedName);
        if (d.kind === "enum") {
          const cond = d.values.length === 0 ? "true" : d.values.map((v) => `${x} !== ${v.value}`).join(" && ");
          return [`if (${cond}) ${this.issue(path, `expected a value of enum ${d.qualifiedName}`)}`];
        }
        const e = `e${depth}`;
        const join = this.p.runtime("codec", "joinPath");
        return [
          `const ${e} = ${this.p.codec(d, "check")}(${x});`,
          `if (${e} !== null) return { path: ${join}(${path}, ${e}.path), message: ${e}.message };`,
        ];
      }
      case "list": {
        const i = `i${depth}`;
        const y = `x${depth}`;
        return [
          `if (!Array.isArray(${x})) ${this.issue(path, "expected an array")}`,
          `for (let ${i} = 0; ${i} < ${x}.length; ${i}++) {`,
          `  const ${y}: unknown = ${x}[${i}];`,
          ...indent(this.checkStmts(t.elem, y, subPath(path, i), depth + 1)),
          "}",
        ];
      }
      case "map": {
        const k = `k${depth}`;
        const y = `x${depth}`;
        if (isStringKey(t)) {
          return [
            `if (typeof ${x} !== "object" || ${x} === null || Array.isArray(${x}) || ${x} instanceof Map) ${this.issue(path, "expected a plain object (string-keyed map)")}`,
            `for (const ${k} in ${x}) {`,
            `  const ${y}: unknown = (${x} as Record<string, unknown>)[${k}];`,
            ...indent(this.checkStmts(t.value, y, subPath(path, this.keySegment(k)), depth + 1)),
            "}",
          ];
        }
        return [
          `if (!(${x} instanceof Map)) ${this.issue(path, "expected a Map")}`,
          `for (const [${k}, ${y}] of ${x} as Map<unknown, unknown>) {`,
          ...indent(this.checkStmts(t.key, k, subPath(path, `String(${k})`), depth + 1)),
          ...indent(this.checkStmts(t.value, y, subPath(path, `String(${k})`), depth + 1)),
          "}",
        ];
      }
    }
  }

  emitStruct(d: StructLike): void {
    const p = this.p;
    const name = p.claimName(`check${declIdent(d.name)}`, `validator of ${d.qualifiedName}`);
    const vi = p.runtime("rpc", "ValidationIssue", true);
    p.doc(`Checks that v is a well-formed ${d.qualifiedName}; returns the first problem, or null.`);
    p.block(`function ${name}(v: unknown): ${vi} | null {`, () => {
      p.line(`if (typeof v !== "object" || v === null) ${this.issue('""', `expected an object (${d.qualifiedName})`)}`);
      if (d.fields.length > 0) p.line("const o = v as Record<string, unknown>;");
      for (const f of d.fields) {
        const x = `x_${f.name}`;
        p.line(`const ${x} = o[${quote(f.name)}];`);
        const stmts = this.checkStmts(f.type, x, quote(f.name), 1);
        if (f.optional) p.block(`if (${x} !== undefined) {`, () => p.lines_(stmts));
        else {
          p.line(`if (${x} === undefined) ${this.issue(quote(f.name), "required field is missing")}`);
          if (stmts.length === 1) p.lines_(stmts);
          else p.block("{", () => p.lines_(stmts));
        }
      }
      p.line("return null;");
    });
    p.line();
  }

  emitUnion(d: UnionDecl): void {
    const p = this.p;
    const name = p.claimName(`check${declIdent(d.name)}`, `validator of ${d.qualifiedName}`);
    const vi = p.runtime("rpc", "ValidationIssue", true);
    p.doc(`Checks that v is a well-formed ${d.qualifiedName} ({ kind, value }); returns the first problem, or null.`);
    p.block(`function ${name}(v: unknown): ${vi} | null {`, () => {
      p.line(`if (typeof v !== "object" || v === null) ${this.issue('""', `expected an object { kind, value } (${d.qualifiedName})`)}`);
      p.line("const u = v as { kind?: unknown; value?: unknown };");
      p.line("const x = u.value;");
      p.block("switch (u.kind) {", () => {
        for (const variant of d.variants) {
          p.line(`case ${quote(variant.name)}: {`);
          p.lines_(indent(this.checkStmts(variant.type, "x", quote(variant.name), 1)));
          p.line("  return null;");
          p.line("}");
        }
        p.line("default:");
        p.line(`  ${this.issue('"kind"', `unknown kind for union ${d.qualifiedName}`)}`);
      });
    });
    p.line();
  }

  /** Module-private validators of structs and unions (reached through `XType.validate`); errors have none. */
  emitAll(decls: readonly Decl[]): void {
    for (const d of decls) {
      if (d.kind === "struct") this.emitStruct(d);
      else if (d.kind === "union") this.emitUnion(d);
    }
  }
}
