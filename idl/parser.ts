/**
 * Recursive-descent parser: tokens -> AstFile. Reports syntax errors as
 * diagnostics and recovers at the next member (`;` or `}`) or the next
 * declaration keyword, so one run reports several errors. Never throws: the
 * internal Bail signal used to unwind one member is always caught here.
 * Checks only syntax; names, types and ids are the resolver's job.
 */
import type {
  AstDecl, AstEnumValue, AstField, AstFile, AstLiteral, AstMethod, AstName, AstOption, AstReserved, AstType, AstVariant,
} from "./ast.ts";
import { diagnostic, type Diagnostic, type DiagnosticCode } from "./diagnostics.ts";
import { DECLARATION_KEYWORDS } from "./keywords.ts";
import { describeToken, lex, type Token } from "./lexer.ts";
import { formatLocation, lineCol, type SourceText } from "./source.ts";

const DECL_KEYWORDS = new Set<string>(DECLARATION_KEYWORDS);
const MAX_ERRORS_PER_FILE = 50;
const MAX_TYPE_DEPTH = 32;

/** Unwinds to the nearest recovery point; a diagnostic was already recorded. */
class Bail {}

/** Parses an integer literal (decimal or 0x hex); undefined when malformed. */
export function parseIntText(text: string): bigint | undefined {
  if (/^[0-9]+$/.test(text) || /^0[xX][0-9a-fA-F]+$/.test(text)) return BigInt(text);
  return undefined;
}

function isFloatText(text: string): boolean {
  return /^[0-9]+(\.[0-9]+)?([eE][+-]?[0-9]+)?$/.test(text) && /[.eE]/.test(text);
}

export function parse(src: SourceText, diags: Diagnostic[]): AstFile {
  const startErrors = diags.length;
  const tokens = lex(src, diags);
  const eof = tokens[tokens.length - 1] as Token;
  let pos = 0;
  let errorCount = diags.length - startErrors;
  let stopped = false;

  const peek = (k = 0): Token => tokens[pos + k] ?? eof;
  const advance = (): Token => {
    const t = peek();
    if (pos < tokens.length - 1) pos++;
    return t;
  };
  const isPunct = (text: string, k = 0): boolean => {
    const t = peek(k);
    return t.kind === "punct" && t.text === text;
  };
  const isWord = (text: string, k = 0): boolean => {
    const t = peek(k);
    return t.kind === "ident" && t.text === text;
  };
  let lastErrorOffset = -1;
  const report = (code: DiagnosticCode, message: string, offset: number): void => {
    // A cascade at the same place (typically end of file) adds nothing.
    if (offset === lastErrorOffset) return;
    lastErrorOffset = offset;
    errorCount++;
    if (errorCount > MAX_ERRORS_PER_FILE) {
      if (!stopped) diags.push(diagnostic("error", "E0014", `too many errors in this file (more than ${MAX_ERRORS_PER_FILE}); stopped parsing`, src, offset));
      stopped = true;
      return;
    }
    diags.push(diagnostic("error", code, message, src, offset));
  };
  const fail = (code: DiagnosticCode, message: string, offset: number): never => {
    report(code, message, offset);
    throw new Bail();
  };
  const expected = (what: string): never => fail("E0010", `expected ${what} but found ${describeToken(peek())}`, peek().offset);
  const expectPunct = (text: string): Token => {
    if (!isPunct(text)) expected(`"${text}"`);
    return advance();
  };
  const expectIdent = (what: string): AstName => {
    const t = peek();
    if (t.kind !== "ident") expected(what);
    advance();
    return { name: t.text, offset: t.offset };
  };
  const dottedName = (what: string): AstName => {
    const first = expectIdent(what);
    let name = first.name;
    while (isPunct(".")) {
      advance();
      name += `.${expectIdent(`a name after "."`).name}`;
    }
    return { name, offset: first.offset };
  };
  const intLiteral = (what: string): { value: bigint; offset: number } => {
    const t = peek();
    if (t.kind !== "number") expected(what);
    advance();
    const v = parseIntText(t.text);
    if (v === undefined) fail("E0004", `invalid integer literal "${t.text}"`, t.offset);
    return { value: v as bigint, offset: t.offset };
  };

  const type = (depth: number): AstType => {
    const t = peek();
    if (depth > MAX_TYPE_DEPTH) fail("E0013", `type nesting is too deep (more than ${MAX_TYPE_DEPTH} levels)`, t.offset);
    if (t.kind === "ident" && (t.text === "list" || t.text === "map") && isPunct("<", 1)) {
      advance();
      advance();
      if (t.text === "list") {
        const elem = type(depth + 1);
        expectPunct(">");
        return { kind: "list", elem, offset: t.offset };
      }
      const key = type(depth + 1);
      expectPunct(",");
      const value = type(depth + 1);
      expectPunct(">");
      return { kind: "map", key, value, offset: t.offset };
    }
    const n = dottedName("a type");
    return { kind: "named", name: n.name, offset: n.offset };
  };

  const literal = (): AstLiteral => {
    const t = peek();
    if (t.kind === "string") {
      advance();
      return { kind: "string", value: t.value, text: t.text, offset: t.offset };
    }
    const negative = isPunct("-");
    if (negative || t.kind === "number") {
      if (negative) advance();
      const num = peek();
      if (num.kind !== "number") expected("a number after \"-\"");
      advance();
      const text = (negative ? "-" : "") + num.text;
      const i = parseIntText(num.text);
      if (i !== undefined) return { kind: "int", value: negative ? -i : i, text, offset: t.offset };
      if (isFloatText(num.text)) {
        const f = Number(num.text);
        return { kind: "float", value: negative ? -f : f, text, offset: t.offset };
      }
      return fail("E0004", `invalid number literal "${num.text}"`, num.offset);
    }
    if (t.kind === "ident") {
      if (t.text === "true" || t.text === "false") {
        advance();
        return { kind: "bool", value: t.text === "true", text: t.text, offset: t.offset };
      }
      const n = dottedName("a value");
      return { kind: "ident", name: n.name, text: n.name, offset: n.offset };
    }
    return expected("a value");
  };

  const options = (): AstOption[] => {
    const out: AstOption[] = [];
    if (!isPunct("[")) return out;
    advance();
    for (;;) {
      const name = expectIdent("an option name");
      let value: AstOption["value"];
      if (isPunct("=")) {
        advance();
        const t = peek();
        if (t.kind !== "number" && t.kind !== "ident" && t.kind !== "string") expected("an option value");
        advance();
        value = { text: t.kind === "string" ? t.value : t.text, offset: t.offset };
      }
      out.push({ name, value });
      if (isPunct(",")) {
        advance();
        continue;
      }
      expectPunct("]");
      return out;
    }
  };

  const reserved = (): AstReserved => {
    const kw = advance();
    const ids: { from: bigint; to: bigint; offset: number }[] = [];
    const names: AstName[] = [];
    if (peek().kind === "string") {
      for (;;) {
        const t = peek();
        if (t.kind !== "string") expected("a reserved name in quotes");
        advance();
        names.push({ name: t.value, offset: t.offset });
        if (!isPunct(",")) break;
        advance();
      }
    } else {
      for (;;) {
        const from = intLiteral("a reserved id or a quoted name");
        let to = from.value;
        if (isWord("to")) {
          advance();
          to = intLiteral("the end of the reserved range").value;
        }
        ids.push({ from: from.value, to, offset: from.offset });
        if (!isPunct(",")) break;
        advance();
      }
    }
    expectPunct(";");
    return { ids, names, offset: kw.offset };
  };

  const syncMember = (): void => {
    let depth = 0;
    const start = pos;
    while (peek().kind !== "eof") {
      if (isPunct("{")) depth++;
      else if (isPunct("}")) {
        if (depth === 0) break;
        depth--;
      } else if (isPunct(";") && depth === 0) {
        advance();
        return;
      }
      advance();
    }
    if (pos === start && peek().kind !== "eof" && !isPunct("}")) advance();
  };

  /** Parses `{ member* }`, recovering per member. */
  const body = (member: () => void): void => {
    expectPunct("{");
    while (!isPunct("}")) {
      if (stopped) throw new Bail();
      if (peek().kind === "eof") expected(`"}"`);
      try {
        member();
      } catch (e) {
        if (!(e instanceof Bail)) throw e;
        if (stopped) throw e;
        syncMember();
      }
    }
    advance();
  };

  const field = (): AstField => {
    const doc = peek().doc;
    const id = intLiteral("a field id (a number) or \"reserved\"");
    expectPunct(":");
    const name = expectIdent("a field name");
    const optional = isPunct("?");
    if (optional) advance();
    expectPunct(":");
    const ty = type(0);
    let dflt: AstLiteral | undefined;
    if (isPunct("=")) {
      advance();
      dflt = literal();
    }
    expectPunct(";");
    return { id: id.value, idOffset: id.offset, name, optional, type: ty, default: dflt, doc };
  };

  const structLike = (kind: "struct" | "error", name: AstName, doc: string | undefined): AstDecl => {
    const opts = kind === "error" ? options() : [];
    const fields: AstField[] = [];
    const res: AstReserved[] = [];
    body(() => {
      if (isWord("reserved")) res.push(reserved());
      else fields.push(field());
    });
    if (kind === "struct") return { kind, name, doc, fields, reserved: res };
    return { kind, name, doc, fields, reserved: res, options: opts };
  };

  const enumDecl = (name: AstName, doc: string | undefined): AstDecl => {
    const opts = options();
    const values: AstEnumValue[] = [];
    const res: AstReserved[] = [];
    body(() => {
      if (isWord("reserved") && !isPunct("=", 1)) {
        res.push(reserved());
        return;
      }
      const vdoc = peek().doc;
      const vname = expectIdent("an enum value name or \"reserved\"");
      expectPunct("=");
      const neg = isPunct("-");
      if (neg) advance();
      const num = intLiteral("an enum value number");
      expectPunct(";");
      values.push({ name: vname, value: neg ? -num.value : num.value, valueOffset: num.offset, doc: vdoc });
    });
    return { kind: "enum", name, doc, values, reserved: res, options: opts };
  };

  const unionDecl = (name: AstName, doc: string | undefined): AstDecl => {
    const opts = options();
    const variants: AstVariant[] = [];
    const res: AstReserved[] = [];
    body(() => {
      if (isWord("reserved")) {
        res.push(reserved());
        return;
      }
      const vdoc = peek().doc;
      const id = intLiteral("a variant id (a number) or \"reserved\"");
      expectPunct(":");
      const vname = expectIdent("a variant name");
      expectPunct(":");
      const ty = type(0);
      expectPunct(";");
      variants.push({ id: id.value, idOffset: id.offset, name: vname, type: ty, doc: vdoc });
    });
    return { kind: "union", name, doc, variants, reserved: res, options: opts };
  };

  const method = (): AstMethod => {
    const doc = peek().doc;
    const name = expectIdent("a method name");
    expectPunct("(");
    const inputStream = isWord("stream") && peek(1).kind === "ident";
    if (inputStream) advance();
    const input = dottedName("the input struct name");
    expectPunct(")");
    expectPunct("->");
    const outputStream = isWord("stream") && peek(1).kind === "ident";
    if (outputStream) advance();
    const output = dottedName("the output struct name");
    const throws: AstName[] = [];
    if (isWord("throws")) {
      advance();
      throws.push(dottedName("an error name"));
      while (isPunct(",")) {
        advance();
        throws.push(dottedName("an error name"));
      }
    }
    const opts = options();
    expectPunct(";");
    return { name, inputStream, input, outputStream, output, throws, options: opts, doc };
  };

  const serviceDecl = (name: AstName, doc: string | undefined): AstDecl => {
    const methods: AstMethod[] = [];
    body(() => methods.push(method()));
    return { kind: "service", name, doc, methods };
  };

  const syncTop = (): void => {
    let depth = 0;
    const start = pos;
    while (peek().kind !== "eof") {
      const t = peek();
      if (depth === 0 && pos > start && t.kind === "ident" && DECL_KEYWORDS.has(t.text)) return;
      if (isPunct("{")) depth++;
      else if (isPunct("}")) {
        if (depth <= 1) {
          advance();
          if (depth === 1) return;
          continue;
        }
        depth--;
      }
      advance();
    }
  };

  let pkg: AstName | undefined;
  const imports: { spec: string; offset: number }[] = [];
  const decls: AstDecl[] = [];
  let sawOther = false;

  while (peek().kind !== "eof" && !stopped) {
    const t = peek();
    try {
      if (t.kind !== "ident" || !DECL_KEYWORDS.has(t.text)) {
        expected("a declaration (package, import, const, enum, struct, error, union or service)");
      }
      advance();
      if (t.text === "package") {
        const name = dottedName("a package name");
        expectPunct(";");
        if (pkg !== undefined) {
          report("E0012", `duplicate package declaration (first declared at ${formatLocation(lineCol(src, pkg.offset))})`, t.offset);
        } else if (sawOther) {
          report("E0012", "the package declaration must come before imports and declarations", t.offset);
          pkg = name;
        } else {
          pkg = name;
        }
        continue;
      }
      sawOther = true;
      if (t.text === "import") {
        const s = peek();
        if (s.kind !== "string") expected("a quoted file path");
        advance();
        expectPunct(";");
        imports.push({ spec: s.value, offset: s.offset });
        continue;
      }
      const doc = t.doc;
      if (t.text === "const") {
        const name = expectIdent("a const name");
        expectPunct(":");
        const ty = type(0);
        expectPunct("=");
        const value = literal();
        expectPunct(";");
        decls.push({ kind: "const", name, doc, type: ty, value });
        continue;
      }
      const name = expectIdent(`a name for the ${t.text}`);
      if (t.text === "struct" || t.text === "error") decls.push(structLike(t.text, name, doc));
      else if (t.text === "enum") decls.push(enumDecl(name, doc));
      else if (t.text === "union") decls.push(unionDecl(name, doc));
      else decls.push(serviceDecl(name, doc));
    } catch (e) {
      if (!(e instanceof Bail)) throw e;
      if (stopped) break;
      if (pos === 0 || peek() === t) advance();
      syncTop();
    }
  }
  return { path: src.path, pkg, imports, decls };
}
