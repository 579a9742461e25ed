/**
 * Emits the generated validators (`checkX(v: unknown): ValidationIssue | null`)
 * behind MessageType.validate: straight-line structural checks of a JS value
 * against its IDL type (field presence, JS types, integer ranges, enum
 * members, union kinds). A path and a message saying what was expected and
 * what was there (`expected u32 (...), got -5`) are built only when a check
 * fails. Enum checks are inlined where an enum is used. Errors get one too:
 * their encoders re-run it to name the bad field when encoding fails
 * (EncodeError.locate), the RPC layer never validates an error.
 * An open enum accepts any i32 (an unknown number read from a peer passes);
 * an open union also accepts `{ kind: "$unknown", id, raw }` with an id it
 * does not declare and one msgpack value in `raw` (unknownVariantIssue).
 */
import { typeRefText } from "../idl/compat.ts";
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

/** Per scalar: the failing condition and what was expected (the same words as MsgWriter's EncodeErrors). */
const SCALAR_FAIL: Record<string, (x: string) => [string, string]> = {
  bool: (x) => [`typeof ${x} !== "boolean"`, "bool"],
  i32: (x) => [`typeof ${x} !== "number" || (${x} | 0) !== ${x}`, "i32 (an integer in [-2^31, 2^31-1])"],
  u32: (x) => [`typeof ${x} !== "number" || ${x} >>> 0 !== ${x}`, "u32 (an integer in [0, 2^32-1])"],
  i64: (x) => [`typeof ${x} !== "bigint" || ${x} < -0x8000000000000000n || ${x} > 0x7fffffffffffffffn`, "i64 (a bigint in [-2^63, 2^63-1])"],
  u64: (x) => [`typeof ${x} !== "bigint" || ${x} < 0n || ${x} > 0xffffffffffffffffn`, "u64 (a bigint in [0, 2^64-1])"],
  f64: (x) => [`typeof ${x} !== "number"`, "f64 (a number)"],
  string: (x) => [`typeof ${x} !== "string"`, "string"],
  bytes: (x) => [`!(${x} instanceof Uint8Array)`, "bytes (a Uint8Array)"],
  timestamp: (x) => [`!(${x} instanceof Date) || Number.isNaN(${x}.getTime())`, "timestamp (a valid Date)"],
};

/** `s` as the text of a template literal. */
function templateText(s: string): string {
  return s.replaceAll("\\", "\\\\").replaceAll("`", "\\`").replaceAll("${", "\\${");
}

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

  /** Returns the issue `expected <expected>, got <what x is>`. */
  private got(path: PathExpr, expected: string, x: string): string {
    const describe = this.p.runtime("codec", "describeValue");
    return `return { path: ${path}, message: \`expected ${templateText(expected)}, got \${${describe}(${x})}\` };`;
  }

  /** Statements that return an issue when `x` (an unknown) is not a value of type t. */
  checkStmts(t: TypeRef, x: string, path: PathExpr, depth: number): string[] {
    switch (t.kind) {
      case "scalar": {
        const [cond, expected] = SCALAR_FAIL[t.name]!(x);
        return [`if (${cond}) ${this.got(path, expected, x)}`];
      }
      case "ref": {
        const d = lookup(this.model, t.qualifiedName);
        if (d.kind === "enum" && !d.closed) {
          return [`if (typeof ${x} !== "number" || (${x} | 0) !== ${x}) ${this.got(path, `a value of enum ${d.qualifiedName} (an i32: the enum is open)`, x)}`];
        }
        if (d.kind === "enum") {
          const cond = d.values.length === 0 ? "true" : d.values.map((v) => `${x} !== ${v.value}`).join(" && ");
          return [`if (${cond}) ${this.got(path, `a value of enum ${d.qualifiedName}`, x)}`];
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
          `if (!Array.isArray(${x})) ${this.got(path, `${typeRefText(t)} (an array)`, x)}`,
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
            `if (typeof ${x} !== "object" || ${x} === null || Array.isArray(${x}) || ${x} instanceof Map) ${this.got(path, `${typeRefText(t)} (a plain object)`, x)}`,
            `for (const ${k} in ${x}) {`,
            `  const ${y}: unknown = (${x} as Record<string, unknown>)[${k}];`,
            ...indent(this.checkStmts(t.value, y, subPath(path, this.keySegment(k)), depth + 1)),
            "}",
          ];
        }
        return [
          `if (!(${x} instanceof Map)) ${this.got(path, `${typeRefText(t)} (a Map)`, x)}`,
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
      p.line(`if (typeof v !== "object" || v === null) ${this.got('""', `an object (${d.qualifiedName})`, "v")}`);
      if (d.fields.length > 0) p.line("const o = v as Record<string, unknown>;");
      for (const f of d.fields) {
        const x = `x_${f.name}`;
        p.line(`const ${x} = o[${quote(f.name)}];`);
        const stmts = this.checkStmts(f.type, x, quote(f.name), 1);
        if (f.optional) p.block(`if (${x} !== undefined) {`, () => p.lines_(stmts));
        else {
          p.line(`if (${x} === undefined) ${this.issue(quote(f.name), `required field is missing (expected ${typeRefText(f.type)})`)}`);
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
      p.line(`if (typeof v !== "object" || v === null) ${this.got('""', `an object { kind, value } (${d.qualifiedName})`, "v")}`);
      p.line(`const u = v as { kind?: unknown; value?: unknown${d.closed ? "" : "; id?: unknown"} };`);
      p.line("const x = u.value;");
      p.block("switch (u.kind) {", () => {
        for (const variant of d.variants) {
          p.line(`case ${quote(variant.name)}: {`);
          p.lines_(indent(this.checkStmts(variant.type, "x", quote(variant.name), 1)));
          p.line("  return null;");
          p.line("}");
        }
        if (!d.closed) {
          p.line(`case "$unknown":`);
          if (d.variants.length > 0) {
            p.line("  switch (u.id) {");
            for (const variant of d.variants) p.line(`    case ${variant.id}:`);
            p.line(`      ${this.got('"id"', `an id that union ${d.qualifiedName} does not declare (a declared variant is written with its kind)`, "u.id")}`);
            p.line("  }");
          }
          p.line(`  return ${p.runtime("codec", "unknownVariantIssue")}(u);`);
        }
        p.line("default:");
        const names = [...d.variants.map((v) => quote(v.name)), ...(d.closed ? [] : [quote("$unknown")])];
        const kinds = names.length < 2 ? names.join("") : `${names.slice(0, -1).join(", ")} or ${names[names.length - 1]}`;
        p.line(`  ${this.got('"kind"', `kind ${kinds === "" ? "(none: the union has no variants)" : kinds} of union ${d.qualifiedName}`, "u.kind")}`);
      });
    });
    p.line();
  }

  /** Module-private validators of structs and unions (reached through `XType.validate`) and of errors (for their encoders only). */
  emitAll(decls: readonly Decl[]): void {
    for (const d of decls) {
      if (d.kind === "struct" || d.kind === "error") this.emitStruct(d);
      else if (d.kind === "union") this.emitUnion(d);
    }
  }
}
