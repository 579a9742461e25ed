/**
 * Diagnostics: the one way every stage of the front end reports a problem.
 * Owns the Diagnostic shape, the catalogue of stable codes, and the text/JSON
 * printers. A diagnostic keeps its position as an offset; line/column are
 * computed only when it is printed or asked for.
 */
import { formatLocation, lineCol, lineText, type Location, type SourceText } from "./source.ts";

export type Severity = "error" | "warning";

export interface Diagnostic {
  readonly severity: Severity;
  /** Stable code, e.g. "E0202"; see DiagnosticCode and docs/IDL.md. */
  readonly code: DiagnosticCode;
  readonly message: string;
  /** The text the offset points into; undefined when there is no text (unreadable entry file). */
  readonly source: SourceText | undefined;
  /** Path to print when `source` is undefined. */
  readonly path: string | undefined;
  readonly offset: number;
}

/** Every code the front end emits, with a one-line summary (docs/IDL.md lists them too). */
export const diagnosticCodes = {
  E0001: "unexpected character",
  E0002: "unterminated string literal",
  E0003: "unterminated block comment",
  E0004: "invalid number literal",
  E0005: "invalid escape sequence in string",
  E0010: "syntax error: expected X but found Y",
  E0011: "missing package declaration",
  E0012: "package or import in the wrong place",
  E0013: "type nesting too deep",
  E0014: "too many errors in one file",
  E0100: "cannot read entry file",
  E0101: "cannot read imported file",
  E0102: "import cycle",
  E0103: "duplicate import",
  E0201: "duplicate declaration",
  E0202: "duplicate field name",
  E0203: "duplicate field id",
  E0204: "duplicate enum value name",
  E0205: "duplicate enum value number",
  E0206: "duplicate method name",
  E0207: "duplicate union variant name",
  E0208: "duplicate union variant id",
  E0209: "declaration named like a built-in type",
  E0301: "unknown type",
  E0302: "invalid map key type",
  E0303: "method input/output is not a struct",
  E0304: "throws names a non-error type",
  E0305: "declaration is not a type",
  E0306: "type declared in a file that is not imported",
  E0401: "id out of range",
  E0402: "reserved id used",
  E0403: "reserved name used",
  E0404: "invalid reserved range",
  E0405: "enum value out of range",
  E0501: "default/const value has the wrong type",
  E0502: "default/const value out of range",
  E0503: "unknown enum value",
  E0504: "default on a type that cannot have one",
  E0505: "invalid const type",
  E0601: "unknown method option",
  E0602: "invalid deadline",
  E0603: "duplicate option",
  E0604: "option value missing or not allowed",
  E0605: "unknown error option",
  E0606: "invalid error status",
  E0607: "unknown enum or union option",
  E9999: "internal error",
  W0101: "type name is not PascalCase",
  W0102: "field or variant name is not snake_case",
  W0103: "enum value or const name is not UPPER_SNAKE_CASE",
  W0104: "method name is not lowerCamelCase",
  W0105: "package name is not lower-case dotted",
} as const;
export type DiagnosticCode = keyof typeof diagnosticCodes;

export function diagnostic(
  severity: Severity,
  code: DiagnosticCode,
  message: string,
  source: SourceText | undefined,
  offset: number,
): Diagnostic {
  return { severity, code, message, source, path: source?.path, offset };
}

/** Where a diagnostic points; line/col are 0 when it has no text. */
export function diagnosticLocation(d: Diagnostic): Location {
  if (d.source === undefined) return { file: d.path ?? "<unknown>", line: 0, col: 0 };
  return lineCol(d.source, d.offset);
}

/**
 * Text: `file:line:col: error: message`, then the source line and a
 * caret under the column. JSON: one object with file, line, col, severity,
 * code, message (one line, no trailing newline).
 */
export function formatDiagnostic(d: Diagnostic, format: "text" | "json"): string {
  const loc = diagnosticLocation(d);
  if (format === "json") {
    return JSON.stringify({
      file: loc.file, line: loc.line, col: loc.col, severity: d.severity, code: d.code, message: d.message,
    });
  }
  if (d.source === undefined) return `${loc.file}: ${d.severity}: ${d.message}`;
  const head = diagnosticHeadline(d);
  const line = lineText(d.source, loc.line).replace(/\t/g, " ");
  return `${head}\n${line}\n${" ".repeat(Math.max(0, loc.col - 1))}^`;
}

/** The first line of the text format: what tests assert. */
export function diagnosticHeadline(d: Diagnostic): string {
  const loc = diagnosticLocation(d);
  if (d.source === undefined) return `${loc.file}: ${d.severity}: ${d.message}`;
  return `${formatLocation(loc)}: ${d.severity}: ${d.message}`;
}
