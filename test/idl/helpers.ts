/**
 * Test helpers for the IDL front end: compile in-memory files through the
 * readFile hook, and render diagnostics as their one-line headlines.
 */
import { compile, diagnosticHeadline, type CompileResult, type Model } from "../../idl/index.ts";

/** Compiles `files` (path -> text) starting from `entries` (default: the first file). */
export function compileFiles(files: Record<string, string>, entries?: string[]): CompileResult {
  const first = Object.keys(files)[0] ?? "t.ridl";
  return compile(entries ?? [first], { readFile: (p) => files[p] });
}

/** Compiles one file named t.ridl. */
export function compileText(text: string): CompileResult {
  return compileFiles({ "t.ridl": text });
}

export function headlines(r: CompileResult): string[] {
  return r.diagnostics.map(diagnosticHeadline);
}

/** Compiles and requires success without any diagnostic. */
export function modelOf(files: Record<string, string> | string): Model {
  const r = typeof files === "string" ? compileText(files) : compileFiles(files);
  if (r.model === null || r.diagnostics.length > 0) {
    throw new Error(`expected a clean compile, got:\n${headlines(r).join("\n")}`);
  }
  return r.model;
}
