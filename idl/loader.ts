/**
 * Loader: reads and parses the entry files and, depth-first, every file they
 * import (paths relative to the importing file). Detects missing files and
 * import cycles (naming the whole cycle). Produces the parsed files in load
 * order; knows nothing about types.
 */
import { readFileSync } from "node:fs";
import { posix } from "node:path";
import type { AstFile } from "./ast.ts";
import { diagnostic, type Diagnostic } from "./diagnostics.ts";
import { parse } from "./parser.ts";
import { formatLocation, lineCol, type SourceText } from "./source.ts";

export type ReadFile = (path: string) => string | undefined;

export interface LoadedFile {
  readonly source: SourceText;
  readonly ast: AstFile;
  /** Normalised paths of the files this one imports (only those that loaded). */
  readonly imports: string[];
}

export function defaultReadFile(path: string): string | undefined {
  try {
    return readFileSync(path, "utf8");
  } catch {
    return undefined;
  }
}

/** Normalises a path for use as a file key ("./a/../b.ridl" -> "b.ridl"). */
export function normalizePath(p: string): string {
  return posix.normalize(p.replace(/\\/g, "/"));
}

export function importPath(importer: string, spec: string): string {
  if (spec.startsWith("/")) return normalizePath(spec);
  return normalizePath(posix.join(posix.dirname(importer), spec));
}

export function loadFiles(entryFiles: readonly string[], readFile: ReadFile, diags: Diagnostic[]): LoadedFile[] {
  const loaded = new Map<string, LoadedFile>();
  const order: LoadedFile[] = [];
  /** Files on the current DFS path, with the import edge that led to the next one. */
  const stack: string[] = [];
  const failed = new Set<string>();

  const read = (path: string): string | undefined => {
    try {
      return readFile(path);
    } catch {
      return undefined; // a throwing hook means "cannot read", like a missing file
    }
  };
  const load = (path: string): LoadedFile | undefined => {
    const text = read(path);
    if (text === undefined) return undefined;
    const source: SourceText = { path, text };
    const ast = parse(source, diags);
    const file: LoadedFile = { source, ast, imports: [] };
    loaded.set(path, file);
    order.push(file);
    stack.push(path);
    const seen = new Map<string, number>();
    for (const imp of ast.imports) {
      const target = importPath(path, imp.spec);
      const first = seen.get(target);
      if (first !== undefined) {
        diags.push(diagnostic("error", "E0103", `duplicate import of "${imp.spec}" (first imported at ${formatLocation(lineCol(source, first))})`, source, imp.offset));
        continue;
      }
      seen.set(target, imp.offset);
      const onStack = stack.indexOf(target);
      if (onStack >= 0) {
        const cycle = [...stack.slice(onStack), target].join(" -> ");
        diags.push(diagnostic("error", "E0102", `import cycle: ${cycle}`, source, imp.offset));
        continue;
      }
      if (loaded.has(target)) {
        file.imports.push(target);
        continue;
      }
      if (failed.has(target) || load(target) === undefined) {
        failed.add(target);
        diags.push(diagnostic("error", "E0101", `cannot read imported file "${imp.spec}" (looked for ${target})`, source, imp.offset));
        continue;
      }
      file.imports.push(target);
    }
    stack.pop();
    return file;
  };

  for (const entry of entryFiles) {
    const path = normalizePath(entry);
    if (loaded.has(path)) continue;
    if (load(path) === undefined) {
      diags.push({ severity: "error", code: "E0100", message: `cannot read file ${path}`, source: undefined, path, offset: 0 });
    }
  }
  return order;
}
