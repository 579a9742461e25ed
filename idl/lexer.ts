/**
 * Lexer: .ridl text -> tokens. Hand-written, one pass, linear time. Keywords
 * are contextual, so every word is an `ident` token and the parser decides.
 * `///` doc comments are attached to the next token as `doc`; `//` and
 * `/* *\/` comments are dropped. Never throws: bad input becomes a diagnostic
 * and lexing goes on (a run of bad characters gives one diagnostic).
 */
import { diagnostic, type Diagnostic } from "./diagnostics.ts";
import type { SourceText } from "./source.ts";

export type TokenKind = "ident" | "number" | "string" | "punct" | "eof";

export interface Token {
  readonly kind: TokenKind;
  /** Raw text; for strings the raw text with quotes. */
  readonly text: string;
  /** Decoded value of a string literal. */
  readonly value: string;
  readonly offset: number;
  readonly end: number;
  /** Joined `///` lines directly above this token, if any. */
  readonly doc: string | undefined;
}

const PUNCT2 = new Set(["->"]);
const PUNCT1 = new Set(["{", "}", "(", ")", "<", ">", "[", "]", ";", ":", ",", "=", "?", ".", "-"]);

function isIdentStart(c: number): boolean {
  return (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || c === 95;
}
function isIdentPart(c: number): boolean {
  return isIdentStart(c) || (c >= 48 && c <= 57);
}
function isDigit(c: number): boolean {
  return c >= 48 && c <= 57;
}

/** Describes a token for "expected X but found Y" messages. */
export function describeToken(t: Token): string {
  if (t.kind === "eof") return "end of file";
  const text = t.text.length > 40 ? `${t.text.slice(0, 40)}...` : t.text;
  return `"${text}"`;
}

export function lex(src: SourceText, diags: Diagnostic[]): Token[] {
  const text = src.text;
  const n = text.length;
  const tokens: Token[] = [];
  let i = 0;
  let doc: string[] | undefined;
  let badStart = -1;

  const flushBad = (): void => {
    if (badStart >= 0) {
      const cp = text.codePointAt(badStart) ?? 0;
      const shown = cp >= 0x20 && cp <= 0x7e ? `"${String.fromCharCode(cp)}"` : `U+${cp.toString(16).toUpperCase().padStart(4, "0")}`;
      diags.push(diagnostic("error", "E0001", `unexpected character ${shown}`, src, badStart));
      badStart = -1;
    }
  };
  const push = (kind: TokenKind, start: number, end: number, value = ""): void => {
    flushBad();
    tokens.push({ kind, text: text.slice(start, end), value, offset: start, end, doc: doc?.join("\n") });
    doc = undefined;
  };

  while (i < n) {
    const c = text.charCodeAt(i);
    if (c === 32 || c === 9 || c === 10 || c === 13) {
      flushBad();
      i++;
      continue;
    }
    if (c === 47 && text.charCodeAt(i + 1) === 47) {
      flushBad();
      let end = text.indexOf("\n", i);
      if (end < 0) end = n;
      const isDoc = text.charCodeAt(i + 2) === 47 && text.charCodeAt(i + 3) !== 47;
      if (isDoc) {
        let line = text.slice(i + 3, end);
        if (line.endsWith("\r")) line = line.slice(0, -1);
        if (line.startsWith(" ")) line = line.slice(1);
        (doc ??= []).push(line);
      }
      i = end;
      continue;
    }
    if (c === 47 && text.charCodeAt(i + 1) === 42) {
      flushBad();
      const end = text.indexOf("*/", i + 2);
      if (end < 0) {
        diags.push(diagnostic("error", "E0003", "unterminated block comment (missing */)", src, i));
        i = n;
      } else {
        i = end + 2;
      }
      continue;
    }
    if (isIdentStart(c)) {
      const start = i;
      while (i < n && isIdentPart(text.charCodeAt(i))) i++;
      push("ident", start, i);
      continue;
    }
    if (isDigit(c)) {
      const start = i;
      while (i < n && isIdentPart(text.charCodeAt(i))) i++;
      // A fraction: "1.5" (but not "1..", which no rule uses either).
      if (text.charCodeAt(i) === 46 && isDigit(text.charCodeAt(i + 1))) {
        i++;
        while (i < n && isIdentPart(text.charCodeAt(i))) i++;
      }
      // A signed exponent: "1e-3" / "2.5E+10".
      const prev = text.charCodeAt(i - 1);
      if ((prev === 101 || prev === 69) && (text.charCodeAt(i) === 43 || text.charCodeAt(i) === 45) && isDigit(text.charCodeAt(i + 1)) && !/^0[xX]/.test(text.slice(start, start + 2))) {
        i++;
        while (i < n && isDigit(text.charCodeAt(i))) i++;
      }
      push("number", start, i);
      continue;
    }
    if (c === 34) {
      const start = i;
      i++;
      let value = "";
      let closed = false;
      while (i < n) {
        const d = text.charCodeAt(i);
        if (d === 34) {
          i++;
          closed = true;
          break;
        }
        if (d === 10) break;
        if (d === 92) {
          const e = text[i + 1];
          const simple: Record<string, string> = { n: "\n", t: "\t", r: "\r", "\\": "\\", '"': '"', "'": "'", "0": "\0" };
          const mapped = e === undefined ? undefined : simple[e];
          if (mapped !== undefined) {
            value += mapped;
            i += 2;
            continue;
          }
          const m = e === "u" ? /^\\u\{([0-9a-fA-F]{1,6})\}/.exec(text.slice(i, i + 10)) : null;
          const cp = m?.[1] === undefined ? -1 : parseInt(m[1], 16);
          if (m !== null && cp <= 0x10ffff && !(cp >= 0xd800 && cp <= 0xdfff)) {
            value += String.fromCodePoint(cp);
            i += m[0].length;
            continue;
          }
          flushBad();
          diags.push(diagnostic("error", "E0005", `invalid escape sequence "\\${e ?? ""}" (use \\n \\t \\r \\\\ \\" \\' \\0 or \\u{hex})`, src, i));
          i += e === undefined ? 1 : 2;
          continue;
        }
        value += text[i];
        i++;
      }
      if (!closed) {
        flushBad();
        diags.push(diagnostic("error", "E0002", "unterminated string literal (missing closing \")", src, start));
      }
      push("string", start, i, value);
      continue;
    }
    const two = text.slice(i, i + 2);
    if (PUNCT2.has(two)) {
      push("punct", i, i + 2);
      i += 2;
      continue;
    }
    const one = text[i] ?? "";
    if (PUNCT1.has(one)) {
      push("punct", i, i + 1);
      i++;
      continue;
    }
    if (badStart < 0) badStart = i;
    const cp = text.codePointAt(i) ?? 0;
    i += cp > 0xffff ? 2 : 1;
  }
  flushBad();
  tokens.push({ kind: "eof", text: "", value: "", offset: n, end: n, doc: doc?.join("\n") });
  return tokens;
}
