/**
 * Resolver: parsed files -> Model. Resolves every type name (local names
 * within the file's package, package-qualified names across imports; only the
 * file itself and the files it imports directly are visible), and checks
 * duplicates, ids and reserved ids/names, defaults and consts, map keys,
 * method types, `throws`, and options. Reports problems as diagnostics and
 * always returns a model (with placeholders where something failed); the
 * caller discards it when any error was reported.
 */
import type { AstDecl, AstField, AstOption, AstReserved, AstType } from "./ast.ts";
import { diagnostic, type Diagnostic, type DiagnosticCode, type Severity } from "./diagnostics.ts";
import { ENUM_OPTIONS, METHOD_OPTIONS, SCALAR_TYPES, UNION_OPTIONS } from "./keywords.ts";
import type { LoadedFile } from "./loader.ts";
import type {
  ConstDecl, Decl, EnumDecl, EnumValue, ErrorStatusName, Field, IdRange, Method, MethodKind, Model, Package, Reserved,
  ScalarName, ServiceDecl, SourceFile, TypeRef, UnionVariant,
} from "./model.ts";
import { formatLocation, lineCol, type SourceText } from "./source.ts";
import { lowerCamelWarning, packageWarning, pascalCaseWarning, snakeCaseWarning, upperSnakeWarning } from "./style.ts";
import { checkValue, INT_RANGES } from "./values.ts";

const SCALARS = new Set<string>(SCALAR_TYPES);
const MAP_KEYS = new Set<string>(["string", "i32", "i64", "u32", "u64"]);
export const MAX_FIELD_ID = 2 ** 29 - 1;
const ERROR_STATUSES = new Set<string>([
  "CANCELLED", "UNKNOWN", "INVALID_ARGUMENT", "DEADLINE_EXCEEDED", "NOT_FOUND", "ALREADY_EXISTS", "PERMISSION_DENIED",
  "RESOURCE_EXHAUSTED", "FAILED_PRECONDITION", "ABORTED", "OUT_OF_RANGE", "UNIMPLEMENTED", "INTERNAL", "UNAVAILABLE",
  "DATA_LOSS", "UNAUTHENTICATED",
]);
const MAX_DEADLINE_MS = 2 ** 31 - 1;

/** A declaration known by name before its body is resolved. */
interface Shell {
  readonly ast: AstDecl;
  readonly file: LoadedFile;
  readonly qualifiedName: string;
  readonly pkg: string;
}

const A_KIND: Record<AstDecl["kind"], string> = {
  struct: "a struct", error: "an error", enum: "an enum", union: "a union", const: "a const", service: "a service",
};

/** The type as written, for messages. */
export function astTypeText(t: AstType): string {
  switch (t.kind) {
    case "named": return t.name;
    case "list": return `list<${astTypeText(t.elem)}>`;
    case "map": return `map<${astTypeText(t.key)}, ${astTypeText(t.value)}>`;
  }
}

export function resolve(files: readonly LoadedFile[], entryFiles: readonly string[], diags: Diagnostic[]): Model {
  const shells = new Map<string, Shell>();
  const pkgOf = new Map<LoadedFile, string>();
  const visible = new Map<LoadedFile, Set<string>>();
  const enums = new Map<string, EnumDecl>();

  const report = (sev: Severity, code: DiagnosticCode, msg: string, src: SourceText, offset: number): void => {
    diags.push(diagnostic(sev, code, msg, src, offset));
  };
  const at = (src: SourceText, offset: number): string => formatLocation(lineCol(src, offset));
  const warn = (msg: string | undefined, code: DiagnosticCode, src: SourceText, offset: number): void => {
    if (msg !== undefined) report("warning", code, msg, src, offset);
  };

  // Phase 1: packages and declaration shells.
  for (const f of files) {
    const pkg = f.ast.pkg;
    if (pkg === undefined) {
      report("error", "E0011", `missing package declaration: add "package <name>;" at the top of ${f.source.path}`, f.source, 0);
    } else {
      warn(packageWarning(pkg.name), "W0105", f.source, pkg.offset);
    }
    const pkgName = pkg?.name ?? "";
    pkgOf.set(f, pkgName);
    visible.set(f, new Set([f.source.path, ...f.imports]));
    for (const d of f.ast.decls) {
      const qn = pkgName === "" ? d.name.name : `${pkgName}.${d.name.name}`;
      if (SCALARS.has(d.name.name) || d.name.name === "list" || d.name.name === "map") {
        report("error", "E0209", `"${d.name.name}" is a built-in type name and cannot name a declaration`, f.source, d.name.offset);
        continue;
      }
      const prev = shells.get(qn);
      if (prev !== undefined) {
        report("error", "E0201", `duplicate declaration "${d.name.name}" (first defined at ${at(prev.file.source, prev.ast.name.offset)})`, f.source, d.name.offset);
        continue;
      }
      shells.set(qn, { ast: d, file: f, qualifiedName: qn, pkg: pkgName });
      if (d.kind === "const") warn(upperSnakeWarning("const", d.name.name), "W0103", f.source, d.name.offset);
      else warn(pascalCaseWarning(d.kind === "service" ? "service" : "type", d.name.name), "W0101", f.source, d.name.offset);
    }
  }

  /** Finds the declaration a name refers to from file f, reporting E0301/E0306. */
  const lookup = (f: LoadedFile, name: string, offset: number): Shell | undefined => {
    const pkg = pkgOf.get(f) ?? "";
    const candidates = name.includes(".") ? [name, `${pkg}.${name}`] : [pkg === "" ? name : `${pkg}.${name}`];
    const vis = visible.get(f);
    let hidden: Shell | undefined;
    for (const qn of candidates) {
      const s = shells.get(qn);
      if (s === undefined) continue;
      if (vis?.has(s.file.source.path)) return s;
      hidden ??= s;
    }
    if (hidden !== undefined) {
      report("error", "E0306", `"${name}" is declared in ${hidden.file.source.path}, which ${f.source.path} does not import`, f.source, offset);
    } else {
      report("error", "E0301", `unknown type "${name}"`, f.source, offset);
    }
    return undefined;
  };

  const placeholder: TypeRef = { kind: "scalar", name: "bool" };
  const resolveType = (f: LoadedFile, t: AstType): TypeRef => {
    switch (t.kind) {
      case "list": return { kind: "list", elem: resolveType(f, t.elem) };
      case "map": {
        const key = resolveType(f, t.key);
        if (!(key.kind === "scalar" && MAP_KEYS.has(key.name))) {
          report("error", "E0302", `map key type must be string, i32, i64, u32 or u64, found "${astTypeText(t.key)}"`, f.source, t.key.offset);
        }
        return { kind: "map", key, value: resolveType(f, t.value) };
      }
      case "named": {
        if (SCALARS.has(t.name)) return { kind: "scalar", name: t.name as ScalarName };
        const s = lookup(f, t.name, t.offset);
        if (s === undefined) return placeholder;
        const k = s.ast.kind;
        if (k === "const" || k === "service") {
          report("error", "E0305", `"${t.name}" is ${A_KIND[k]}, not a type`, f.source, t.offset);
          return placeholder;
        }
        return { kind: "ref", qualifiedName: s.qualifiedName, target: k };
      }
    }
  };

  const lookupEnum = (qn: string): EnumDecl | undefined => enums.get(qn);

  /** Checks reserved statements; `min`/`max` bound the ids. */
  const reservedOf = (f: LoadedFile, list: readonly AstReserved[], min: bigint, max: bigint, what: string): Reserved => {
    const ids: IdRange[] = [];
    const names: string[] = [];
    for (const r of list) {
      for (const range of r.ids) {
        if (range.from < min || range.from > max || range.to < min || range.to > max) {
          const v = range.from < min || range.from > max ? range.from : range.to;
          report("error", "E0401", `reserved ${what} ${v} is out of range (must be ${min} to ${max})`, f.source, range.offset);
        } else if (range.from > range.to) {
          report("error", "E0404", `invalid reserved range ${range.from} to ${range.to} (the start must not exceed the end)`, f.source, range.offset);
        } else {
          ids.push({ from: Number(range.from), to: Number(range.to) });
        }
      }
      for (const n of r.names) names.push(n.name);
    }
    return { ids, names, pos: list.map((r) => ({ file: f.source.path, offset: r.offset })) };
  };
  /** Where the reservation covering `id`/`name` was written, for messages. */
  const reservedAt = (f: LoadedFile, list: readonly AstReserved[], id: bigint | undefined, name: string | undefined): string | undefined => {
    for (const r of list) {
      if (id !== undefined && r.ids.some((x) => x.from <= id && id <= x.to)) return at(f.source, r.offset);
      if (name !== undefined && r.names.some((x) => x.name === name)) return at(f.source, r.offset);
    }
    return undefined;
  };

  /** Shared checks for an id+name member (fields and union variants). */
  const checkMember = (
    f: LoadedFile, kind: "field" | "variant", id: bigint, idOffset: number, name: string, nameOffset: number,
    seenNames: Map<string, number>, seenIds: Map<bigint, { name: string; offset: number }>, reserved: readonly AstReserved[],
  ): void => {
    const dupName: DiagnosticCode = kind === "field" ? "E0202" : "E0207";
    const dupId: DiagnosticCode = kind === "field" ? "E0203" : "E0208";
    warn(snakeCaseWarning(kind, name), "W0102", f.source, nameOffset);
    const firstName = seenNames.get(name);
    if (firstName !== undefined) report("error", dupName, `duplicate ${kind} name "${name}" (first defined at ${at(f.source, firstName)})`, f.source, nameOffset);
    else seenNames.set(name, nameOffset);
    if (id < 1n || id > BigInt(MAX_FIELD_ID)) {
      report("error", "E0401", `${kind} id ${id} is out of range (must be 1 to ${MAX_FIELD_ID})`, f.source, idOffset);
    } else {
      const firstId = seenIds.get(id);
      if (firstId !== undefined) report("error", dupId, `duplicate ${kind} id ${id} (first used by "${firstId.name}" at ${at(f.source, firstId.offset)})`, f.source, idOffset);
      else seenIds.set(id, { name, offset: nameOffset });
    }
    const rid = reservedAt(f, reserved, id, undefined);
    if (rid !== undefined) report("error", "E0402", `${kind} id ${id} is reserved (at ${rid})`, f.source, idOffset);
    const rname = reservedAt(f, reserved, undefined, name);
    if (rname !== undefined) report("error", "E0403", `${kind} name "${name}" is reserved (at ${rname})`, f.source, nameOffset);
  };

  const fieldsOf = (f: LoadedFile, ast: readonly AstField[], reserved: readonly AstReserved[]): Field[] => {
    const seenNames = new Map<string, number>();
    const seenIds = new Map<bigint, { name: string; offset: number }>();
    return ast.map((a) => {
      checkMember(f, "field", a.id, a.idOffset, a.name.name, a.name.offset, seenNames, seenIds, reserved);
      const type = resolveType(f, a.type);
      let dflt: Field["default"];
      if (a.default !== undefined) {
        const r = checkValue(a.default, type, astTypeText(a.type), `default for field "${a.name.name}"`, lookupEnum);
        if (r.ok) dflt = r.value;
        else report("error", r.code, r.message, f.source, a.default.offset);
      }
      return {
        id: Number(a.id), name: a.name.name, type, optional: a.optional, default: dflt, doc: a.doc,
        pos: { file: f.source.path, offset: a.name.offset },
      };
    });
  };

  /** The options in order, each name once: a repeated one is reported (E0603) and left out. */
  const distinctOptions = (f: LoadedFile, options: readonly AstOption[]): AstOption[] => {
    const seen = new Map<string, number>();
    const out: AstOption[] = [];
    for (const o of options) {
      const first = seen.get(o.name.name);
      if (first !== undefined) report("error", "E0603", `duplicate option "${o.name.name}" (first given at ${at(f.source, first)})`, f.source, o.name.offset);
      else {
        seen.set(o.name.name, o.name.offset);
        out.push(o);
      }
    }
    return out;
  };

  const errorStatus = (f: LoadedFile, options: readonly AstOption[]): ErrorStatusName => {
    let status: ErrorStatusName = "FAILED_PRECONDITION";
    for (const o of distinctOptions(f, options)) {
      if (o.name.name !== "status") {
        report("error", "E0605", `unknown error option "${o.name.name}" (known: status)`, f.source, o.name.offset);
      } else if (o.value === undefined) {
        report("error", "E0604", `option "status" needs a value, e.g. status = NOT_FOUND`, f.source, o.name.offset);
      } else if (!ERROR_STATUSES.has(o.value.text)) {
        report("error", "E0606", `unknown status "${o.value.text}" (use a status name from src/rpc/status.ts other than OK, e.g. NOT_FOUND)`, f.source, o.value.offset);
      } else {
        status = o.value.text as ErrorStatusName;
      }
    }
    return status;
  };

  /** `[closed]` after an enum's or a union's name: the one option they take, with no value. */
  const closedOption = (f: LoadedFile, kind: "enum" | "union", options: readonly AstOption[]): boolean => {
    const known: readonly string[] = kind === "enum" ? ENUM_OPTIONS : UNION_OPTIONS;
    let closed = false;
    for (const o of distinctOptions(f, options)) {
      if (!known.includes(o.name.name)) {
        report("error", "E0607", `unknown ${kind} option "${o.name.name}" (known: ${known.join(", ")})`, f.source, o.name.offset);
      } else if (o.value !== undefined) {
        report("error", "E0604", `option "${o.name.name}" takes no value`, f.source, o.value.offset);
      } else {
        closed = true;
      }
    }
    return closed;
  };

  const enumOf = (s: Shell & { ast: Extract<AstDecl, { kind: "enum" }> }): EnumDecl => {
    const f = s.file;
    const [min, max] = INT_RANGES.i32 as readonly [bigint, bigint];
    const seenNames = new Map<string, number>();
    const seenNums = new Map<bigint, { name: string; offset: number }>();
    const values: EnumValue[] = [];
    for (const v of s.ast.values) {
      warn(upperSnakeWarning("enum value", v.name.name), "W0103", f.source, v.name.offset);
      const first = seenNames.get(v.name.name);
      if (first !== undefined) report("error", "E0204", `duplicate enum value name "${v.name.name}" (first defined at ${at(f.source, first)})`, f.source, v.name.offset);
      else seenNames.set(v.name.name, v.name.offset);
      if (v.value < min || v.value > max) {
        report("error", "E0405", `enum value ${v.value} is out of range (must fit in i32: ${min} to ${max})`, f.source, v.valueOffset);
      } else {
        const firstNum = seenNums.get(v.value);
        if (firstNum !== undefined) report("error", "E0205", `duplicate enum value number ${v.value} (already used by "${firstNum.name}" at ${at(f.source, firstNum.offset)})`, f.source, v.valueOffset);
        else seenNums.set(v.value, { name: v.name.name, offset: v.name.offset });
      }
      const rid = reservedAt(f, s.ast.reserved, v.value, undefined);
      if (rid !== undefined) report("error", "E0402", `enum value number ${v.value} is reserved (at ${rid})`, f.source, v.valueOffset);
      const rname = reservedAt(f, s.ast.reserved, undefined, v.name.name);
      if (rname !== undefined) report("error", "E0403", `enum value name "${v.name.name}" is reserved (at ${rname})`, f.source, v.name.offset);
      values.push({ name: v.name.name, value: Number(v.value), doc: v.doc, pos: { file: f.source.path, offset: v.name.offset } });
    }
    return {
      kind: "enum", ...base(s), values, reserved: reservedOf(f, s.ast.reserved, min, max, "enum number"),
      closed: closedOption(f, "enum", s.ast.options),
    };
  };

  const base = (s: Shell) => ({
    name: s.ast.name.name, qualifiedName: s.qualifiedName, package: s.pkg, doc: s.ast.doc,
    pos: { file: s.file.source.path, offset: s.ast.name.offset },
  });

  const methodStruct = (f: LoadedFile, role: string, n: { name: string; offset: number }): string => {
    const s = lookup(f, n.name, n.offset);
    if (s === undefined) return n.name;
    if (s.ast.kind !== "struct") {
      report("error", "E0303", `method ${role} "${n.name}" must be a struct, but it is ${A_KIND[s.ast.kind]}`, f.source, n.offset);
    }
    return s.qualifiedName;
  };

  const serviceOf = (s: Shell & { ast: Extract<AstDecl, { kind: "service" }> }): ServiceDecl => {
    const f = s.file;
    const seen = new Map<string, number>();
    const methods: Method[] = s.ast.methods.map((m) => {
      warn(lowerCamelWarning("method", m.name.name), "W0104", f.source, m.name.offset);
      const first = seen.get(m.name.name);
      if (first !== undefined) report("error", "E0206", `duplicate method name "${m.name.name}" (first defined at ${at(f.source, first)})`, f.source, m.name.offset);
      else seen.set(m.name.name, m.name.offset);
      const input = methodStruct(f, "input", m.input);
      const output = methodStruct(f, "output", m.output);
      const throws: string[] = [];
      for (const t of m.throws) {
        const e = lookup(f, t.name, t.offset);
        if (e === undefined) continue;
        if (e.ast.kind !== "error") {
          report("error", "E0304", `throws "${t.name}": must be an error declaration, but it is ${A_KIND[e.ast.kind]}`, f.source, t.offset);
        } else if (!throws.includes(e.qualifiedName)) {
          throws.push(e.qualifiedName);
        }
      }
      let idempotent = false;
      let deadlineMs: number | undefined;
      const seenOpt = new Map<string, number>();
      for (const o of m.options) {
        const firstOpt = seenOpt.get(o.name.name);
        if (firstOpt !== undefined) {
          report("error", "E0603", `duplicate option "${o.name.name}" (first given at ${at(f.source, firstOpt)})`, f.source, o.name.offset);
          continue;
        }
        seenOpt.set(o.name.name, o.name.offset);
        if (o.name.name === "idempotent") {
          if (o.value !== undefined) report("error", "E0604", `option "idempotent" takes no value`, f.source, o.value.offset);
          idempotent = true;
        } else if (o.name.name === "deadline") {
          if (o.value === undefined) {
            report("error", "E0604", `option "deadline" needs a value, e.g. deadline = 500ms`, f.source, o.name.offset);
            continue;
          }
          const d = /^([0-9]+)(ms|s)$/.exec(o.value.text);
          const ms = d === null ? NaN : Number(d[1]) * (d[2] === "s" ? 1000 : 1);
          if (!(ms >= 1 && ms <= MAX_DEADLINE_MS)) {
            report("error", "E0602", `invalid deadline "${o.value.text}": use a whole number of ms or s from 1ms to ${MAX_DEADLINE_MS}ms, e.g. 500ms or 2s`, f.source, o.value.offset);
          } else {
            deadlineMs = ms;
          }
        } else {
          report("error", "E0601", `unknown method option "${o.name.name}" (known: ${METHOD_OPTIONS.join(", ")})`, f.source, o.name.offset);
        }
      }
      const kind: MethodKind = m.inputStream
        ? (m.outputStream ? "bidi" : "client_stream")
        : (m.outputStream ? "server_stream" : "unary");
      return {
        name: m.name.name, kind, input, output, idempotent, deadlineMs, throws, doc: m.doc,
        pos: { file: f.source.path, offset: m.name.offset },
      };
    });
    return { kind: "service", ...base(s), methods };
  };

  const constOf = (s: Shell & { ast: Extract<AstDecl, { kind: "const" }> }): ConstDecl => {
    const f = s.file;
    const type = resolveType(f, s.ast.type);
    const okType = (type.kind === "scalar" && type.name !== "bytes" && type.name !== "timestamp") || (type.kind === "ref" && type.target === "enum");
    let value: ConstDecl["value"] = { kind: "bool", value: false };
    if (!okType) {
      report("error", "E0505", `const "${s.ast.name.name}" has type ${astTypeText(s.ast.type)}; a const must be bool, an integer type, f64, string or an enum`, f.source, s.ast.type.offset);
    } else {
      const r = checkValue(s.ast.value, type, astTypeText(s.ast.type), `value of const "${s.ast.name.name}"`, lookupEnum);
      if (r.ok) value = r.value;
      else report("error", r.code, r.message, f.source, s.ast.value.offset);
    }
    return { kind: "const", ...base(s), type, value };
  };

  // Phase 2: enums first (defaults refer to their values), then the rest in source order.
  const all = [...shells.values()];
  for (const s of all) {
    if (s.ast.kind === "enum") enums.set(s.qualifiedName, enumOf(s as Shell & { ast: Extract<AstDecl, { kind: "enum" }> }));
  }
  const fieldMin = 1n;
  const fieldMax = BigInt(MAX_FIELD_ID);
  const decls: Decl[] = all.map((s): Decl => {
    const a = s.ast;
    switch (a.kind) {
      case "enum": return enums.get(s.qualifiedName) as EnumDecl;
      case "struct":
        return { kind: "struct", ...base(s), fields: fieldsOf(s.file, a.fields, a.reserved), reserved: reservedOf(s.file, a.reserved, fieldMin, fieldMax, "field id") };
      case "error": {
        const status = errorStatus(s.file, a.options);
        return { kind: "error", ...base(s), fields: fieldsOf(s.file, a.fields, a.reserved), reserved: reservedOf(s.file, a.reserved, fieldMin, fieldMax, "field id"), status };
      }
      case "union": {
        const seenNames = new Map<string, number>();
        const seenIds = new Map<bigint, { name: string; offset: number }>();
        const variants: UnionVariant[] = a.variants.map((v) => {
          checkMember(s.file, "variant", v.id, v.idOffset, v.name.name, v.name.offset, seenNames, seenIds, a.reserved);
          return { id: Number(v.id), name: v.name.name, type: resolveType(s.file, v.type), doc: v.doc, pos: { file: s.file.source.path, offset: v.name.offset } };
        });
        return {
          kind: "union", ...base(s), variants, reserved: reservedOf(s.file, a.reserved, fieldMin, fieldMax, "variant id"),
          closed: closedOption(s.file, "union", a.options),
        };
      }
      case "const": return constOf(s as Shell & { ast: typeof a });
      case "service": return serviceOf(s as Shell & { ast: typeof a });
    }
  });

  const sourceFiles: SourceFile[] = files.map((f) => ({
    path: f.source.path, text: f.source.text, package: pkgOf.get(f) ?? "", imports: [...f.imports],
  }));
  const packages = new Map<string, { name: string; files: string[]; decls: Decl[] }>();
  for (const f of sourceFiles) {
    let p = packages.get(f.package);
    if (p === undefined) packages.set(f.package, (p = { name: f.package, files: [], decls: [] }));
    p.files.push(f.path);
  }
  for (const d of decls) packages.get(d.package)?.decls.push(d);
  return {
    files: sourceFiles,
    packages: [...packages.values()] as Package[],
    decls,
    byName: new Map(decls.map((d) => [d.qualifiedName, d])),
    services: decls.filter((d): d is ServiceDecl => d.kind === "service"),
    entryFiles: [...entryFiles],
  };
}
