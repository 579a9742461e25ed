/**
 * Public entry point of the IDL front end: compile .ridl files into a Model
 * (loader -> parser -> resolver) and print diagnostics. compile() never
 * throws: an unexpected internal exception becomes one E9999 diagnostic.
 */
import { diagnostic, type Diagnostic } from "./diagnostics.ts";
import { defaultReadFile, loadFiles, normalizePath, type ReadFile } from "./loader.ts";
import type { Model } from "./model.ts";
import { resolve } from "./resolver.ts";

export type * from "./model.ts";
export { diagnosticCodes, diagnosticHeadline, diagnosticLocation, formatDiagnostic } from "./diagnostics.ts";
export type { Diagnostic, DiagnosticCode, Severity } from "./diagnostics.ts";
export { formatLocation, lineCol, locate } from "./source.ts";
export type { Location, SourceText } from "./source.ts";
export { checkCompat, formatIncompatibility } from "./compat.ts";
export type { Incompatibility } from "./compat.ts";
export { COMPAT_CATEGORIES, COMPAT_RULES, compatRule, rulesIn } from "./compat-rules.ts";
export type { CompatCategory, CompatRule, CompatRuleInfo } from "./compat-rules.ts";

export interface CompileOptions {
  /** Returns a file's text, or undefined when it cannot be read. Defaults to the file system. */
  readFile?: (path: string) => string | undefined;
}

export interface CompileResult {
  /** null when any error was reported; warnings do not block. */
  model: Model | null;
  /** Errors and warnings in the order found (files in load order). */
  diagnostics: Diagnostic[];
}

/** Orders diagnostics by file (load order) then offset; stable for ties. */
function sortDiagnostics(diags: Diagnostic[], order: readonly string[]): void {
  const rank = new Map(order.map((p, i) => [p, i]));
  const fileRank = (d: Diagnostic): number => rank.get(d.source?.path ?? d.path ?? "") ?? order.length;
  diags.sort((a, b) => fileRank(a) - fileRank(b) || a.offset - b.offset);
}

export function compile(entryFiles: string[], opts?: CompileOptions): CompileResult {
  const diags: Diagnostic[] = [];
  const readFile: ReadFile = opts?.readFile ?? defaultReadFile;
  try {
    const files = loadFiles(entryFiles, readFile, diags);
    const model = resolve(files, entryFiles.map(normalizePath), diags);
    sortDiagnostics(diags, files.map((f) => f.source.path));
    const failed = diags.some((d) => d.severity === "error");
    return { model: failed ? null : model, diagnostics: diags };
  } catch (e) {
    const detail = e instanceof Error ? `${e.name}: ${e.message}` : String(e);
    diags.push({ ...diagnostic("error", "E9999", `internal error in the IDL compiler (please report it): ${detail}`, undefined, 0), path: entryFiles[0] ?? "<input>" });
    return { model: null, diagnostics: diags };
  }
}
