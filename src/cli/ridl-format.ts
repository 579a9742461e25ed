/**
 * Prints resolved IDL declarations (idl/model.ts) back as .ridl text for
 * `ringrpc describe`: structs, errors, enums, unions, consts, services and
 * single methods, with their `///` docs, defaults, reservations and options.
 * Names from the declaration's own package are written short, others
 * qualified. Also finds every type a declaration reaches, in first-use
 * order. Display only: the output parses, but is not the server's file
 * byte for byte (comments other than docs are gone).
 */
import type { Decl, Method, Model, Reserved, TypeRef, Value } from "../../idl/index.ts";

function docLines(doc: string | undefined, indent: string): string[] {
  return doc === undefined ? [] : doc.split("\n").map((l) => `${indent}///${l === "" ? "" : ` ${l}`}`);
}

function nameIn(pkg: string, qualifiedName: string): string {
  return qualifiedName.startsWith(`${pkg}.`) && !qualifiedName.slice(pkg.length + 1).includes(".") ? qualifiedName.slice(pkg.length + 1) : qualifiedName;
}

export function formatType(t: TypeRef, pkg: string): string {
  switch (t.kind) {
    case "scalar": return t.name;
    case "list": return `list<${formatType(t.elem, pkg)}>`;
    case "map": return `map<${formatType(t.key, pkg)}, ${formatType(t.value, pkg)}>`;
    case "ref": return nameIn(pkg, t.qualifiedName);
  }
}

function formatValue(v: Value): string {
  switch (v.kind) {
    case "bool": return String(v.value);
    case "int": return v.value.toString();
    case "float": return Number.isInteger(v.value) ? v.value.toFixed(1) : String(v.value);
    case "string": return JSON.stringify(v.value);
    case "enum": return v.name;
  }
}

function reservedLines(r: Reserved): string[] {
  const out: string[] = [];
  if (r.ids.length > 0) out.push(`  reserved ${r.ids.map((x) => (x.from === x.to ? `${x.from}` : `${x.from} to ${x.to}`)).join(", ")};`);
  if (r.names.length > 0) out.push(`  reserved ${r.names.map((n) => JSON.stringify(n)).join(", ")};`);
  return out;
}

function deadline(ms: number): string {
  return ms % 1000 === 0 ? `${ms / 1000}s` : `${ms}ms`;
}

/** One method line, as written inside its service. */
export function formatMethod(m: Method, pkg: string): string {
  const input = `${m.kind === "client_stream" || m.kind === "bidi" ? "stream " : ""}${nameIn(pkg, m.input)}`;
  const output = `${m.kind === "server_stream" || m.kind === "bidi" ? "stream " : ""}${nameIn(pkg, m.output)}`;
  const throws = m.throws.length === 0 ? "" : ` throws ${m.throws.map((e) => nameIn(pkg, e)).join(", ")}`;
  const opts = [...(m.idempotent ? ["idempotent"] : []), ...(m.deadlineMs === undefined ? [] : [`deadline = ${deadline(m.deadlineMs)}`])];
  return `${m.name}(${input}) -> ${output}${throws}${opts.length === 0 ? "" : ` [${opts.join(", ")}]`};`;
}

/** A whole declaration, docs first. */
export function formatDecl(d: Decl): string {
  const pkg = d.package;
  const lines = docLines(d.doc, "");
  switch (d.kind) {
    case "struct":
    case "error": {
      lines.push(d.kind === "struct" ? `struct ${d.name} {` : `error ${d.name} [status = ${d.status}] {`);
      for (const f of d.fields) {
        lines.push(...docLines(f.doc, "  "));
        lines.push(`  ${f.id}: ${f.name}${f.optional ? "?" : ""}: ${formatType(f.type, pkg)}${f.default === undefined ? "" : ` = ${formatValue(f.default)}`};`);
      }
      lines.push(...reservedLines(d.reserved), "}");
      break;
    }
    case "enum":
      lines.push(`enum ${d.name}${d.closed ? " [closed]" : ""} {`);
      for (const v of d.values) lines.push(...docLines(v.doc, "  "), `  ${v.name} = ${v.value};`);
      lines.push(...reservedLines(d.reserved), "}");
      break;
    case "union":
      lines.push(`union ${d.name}${d.closed ? " [closed]" : ""} {`);
      for (const v of d.variants) lines.push(...docLines(v.doc, "  "), `  ${v.id}: ${v.name}: ${formatType(v.type, pkg)};`);
      lines.push(...reservedLines(d.reserved), "}");
      break;
    case "const":
      lines.push(`const ${d.name}: ${formatType(d.type, pkg)} = ${formatValue(d.value)};`);
      break;
    case "service":
      lines.push(`service ${d.name} {`);
      for (const m of d.methods) lines.push(...docLines(m.doc, "  "), `  ${formatMethod(m, pkg)}`);
      lines.push("}");
      break;
  }
  return lines.join("\n");
}

/** Every struct, union, enum and error reachable from `roots` (qualified names), roots first, each once. */
export function reachableTypes(model: Model, roots: readonly string[]): Decl[] {
  const out: Decl[] = [];
  const seen = new Set<string>();
  const visitType = (t: TypeRef): void => {
    if (t.kind === "list") visitType(t.elem);
    else if (t.kind === "map") {
      visitType(t.key);
      visitType(t.value);
    } else if (t.kind === "ref") visit(t.qualifiedName);
  };
  const visit = (name: string): void => {
    const d = model.byName.get(name);
    if (d === undefined || seen.has(name)) return;
    seen.add(name);
    out.push(d);
    if (d.kind === "struct" || d.kind === "error") for (const f of d.fields) visitType(f.type);
    else if (d.kind === "union") for (const v of d.variants) visitType(v.type);
  };
  for (const r of roots) visit(r);
  return out;
}
