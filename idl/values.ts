/**
 * Literal checking: converts a parsed literal to a model Value of a declared
 * type (const values and field defaults), with range checks for the integer
 * types and enum member lookup. Returns a Value or an error description; the
 * caller turns the error into a diagnostic at the literal.
 */
import type { AstLiteral } from "./ast.ts";
import type { DiagnosticCode } from "./diagnostics.ts";
import type { EnumDecl, ScalarName, TypeRef, Value } from "./model.ts";

export const INT_RANGES: Partial<Record<ScalarName, readonly [bigint, bigint]>> = {
  i32: [-(2n ** 31n), 2n ** 31n - 1n],
  u32: [0n, 2n ** 32n - 1n],
  i64: [-(2n ** 63n), 2n ** 63n - 1n],
  u64: [0n, 2n ** 64n - 1n],
};

export type ValueResult = { ok: true; value: Value } | { ok: false; code: DiagnosticCode; message: string };

function describeLiteral(lit: AstLiteral): string {
  switch (lit.kind) {
    case "string": return `string ${lit.text}`;
    case "int": return `integer ${lit.text}`;
    case "float": return `number ${lit.text}`;
    case "bool": return lit.text;
    case "ident": return `identifier "${lit.name}"`;
  }
}

const bad = (code: DiagnosticCode, message: string): ValueResult => ({ ok: false, code, message });

/**
 * `what` names the thing in messages, e.g. `default for "ttl_ms"`.
 * `lookupEnum` returns the enum a ref points at.
 */
export function checkValue(
  lit: AstLiteral,
  type: TypeRef,
  typeText: string,
  what: string,
  lookupEnum: (qualifiedName: string) => EnumDecl | undefined,
): ValueResult {
  if (type.kind === "ref") {
    const en = type.target === "enum" ? lookupEnum(type.qualifiedName) : undefined;
    if (en === undefined) {
      return bad("E0504", `${what}: ${typeText} cannot have a default (only bool, integer, f64, string and enum types can)`);
    }
    if (lit.kind !== "ident") return bad("E0501", `${what} must be a value of enum ${typeText}, found ${describeLiteral(lit)}`);
    // "GREEN", or qualified by the enum: "Color.GREEN" / "kv.v1.Color.GREEN".
    const dot = lit.name.lastIndexOf(".");
    const prefix = dot < 0 ? undefined : lit.name.slice(0, dot);
    const member = dot < 0 ? lit.name : lit.name.slice(dot + 1);
    const prefixOk = prefix === undefined || prefix === en.name || prefix === en.qualifiedName || prefix === typeText;
    const v = prefixOk ? en.values.find((x) => x.name === member) : undefined;
    if (v === undefined) return bad("E0503", `"${lit.name}" is not a value of enum ${typeText}`);
    return { ok: true, value: { kind: "enum", enum: en.qualifiedName, name: v.name, value: v.value } };
  }
  if (type.kind !== "scalar" || type.name === "bytes" || type.name === "timestamp") {
    return bad("E0504", `${what}: ${typeText} cannot have a default (only bool, integer, f64, string and enum types can)`);
  }
  const name = type.name;
  if (name === "bool") {
    if (lit.kind !== "bool") return bad("E0501", `${what} must be true or false, found ${describeLiteral(lit)}`);
    return { ok: true, value: { kind: "bool", value: lit.value } };
  }
  if (name === "string") {
    if (lit.kind !== "string") return bad("E0501", `${what} must be a string, found ${describeLiteral(lit)}`);
    return { ok: true, value: { kind: "string", value: lit.value } };
  }
  if (name === "f64") {
    if (lit.kind === "int") return { ok: true, value: { kind: "float", value: Number(lit.value) } };
    if (lit.kind !== "float") return bad("E0501", `${what} must be a number (f64), found ${describeLiteral(lit)}`);
    if (!Number.isFinite(lit.value)) return bad("E0502", `${what} (${lit.text}) is out of range for f64`);
    return { ok: true, value: { kind: "float", value: lit.value } };
  }
  const range = INT_RANGES[name];
  if (range === undefined) return bad("E0504", `${what}: ${typeText} cannot have a default`);
  if (lit.kind !== "int") return bad("E0501", `${what} must be an integer (${name}), found ${describeLiteral(lit)}`);
  if (lit.value < range[0] || lit.value > range[1]) {
    return bad("E0502", `${what} (${lit.text}) is out of range for ${name} (${range[0]} to ${range[1]})`);
  }
  return { ok: true, value: { kind: "int", value: lit.value } };
}
