/**
 * Lays the docs' snippets out as a user's project inside the repository, so
 * they type-check and run the way a user's code would: a scratch directory
 * with `node_modules/ringrpc` linked to the repository (imports of `ringrpc`,
 * `ringrpc/rpc`, ... resolve through package.json `exports`; other packages
 * resolve from the repository's node_modules above it) and a tsconfig that
 * extends the repository's strict one. Each markdown file gets its own folder
 * holding:
 *   - every ts snippet, as `<name>` from its `// name.ts` first line or as
 *     `snippet-<line>.ts`;
 *   - `gen/<name>.ts` generated from each named ridl block (`// kv.ridl`);
 *   - otherwise the kv example's `gen/kv.ts` and `store.ts` (class KvStore),
 *     which the docs' `./gen/kv.ts` and `./store.ts` imports mean;
 *   - links `src`, `idl` and `codegen` to the repository's folders, for the
 *     docs that name repository files (`./src/runtime/uring/runtime.ts`).
 * Owns the layout and the mapping of tsc's messages back to doc lines; the
 * test decides what passes.
 */
import { copyFileSync, mkdirSync, mkdtempSync, symlinkSync, writeFileSync } from "node:fs";
import { dirname, join, relative } from "node:path";
import { generate } from "../../codegen/index.ts";
import { compile, formatDiagnostic } from "../../idl/index.ts";
import type { Snippet } from "./snippet-extractor.ts";

export interface SnippetProject {
  /** The scratch directory (remove it when done). */
  readonly dir: string;
  /** Each ts snippet's file, relative to dir. */
  readonly files: Map<Snippet, string>;
  /** Problems found while laying out (a named ridl block that does not compile), by snippet. */
  readonly layoutErrors: Map<Snippet, string[]>;
}

/** One tsc error: where it is and what it says. */
export interface TscError {
  readonly file: string;
  readonly line: number;
  readonly col: number;
  readonly code: string;
  readonly message: string;
}

const REPO_LINKS = ["src", "idl", "codegen"];
const DEFAULT_FILES: Record<string, string> = { "gen/kv.ts": "examples/kv/gen/kv.ts", "store.ts": "examples/kv/store.ts" };

function folderFor(doc: string): string {
  return doc.replace(/[^A-Za-z0-9]+/g, "-");
}

function write(path: string, text: string): void {
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, text);
}

/** Generates gen/<name>.ts from a named ridl block; returns its diagnostics when it does not compile. */
function generateRidl(repo: string, docDir: string, s: Snippet, version: string): string[] {
  const path = s.name!;
  const { model, diagnostics } = compile([path], { readFile: (p) => (p === path ? s.code : undefined) });
  if (model === null) return diagnostics.map((d) => formatDiagnostic(d, "text"));
  for (const f of generate(model, { version, runtime: "ringrpc", headerBase: repo })) write(join(docDir, "gen", f.path), f.content);
  return [];
}

/** Writes the project for these snippets under `<repo>/.doc-snippets-*`. */
export function writeSnippetProject(repo: string, snippets: readonly Snippet[], version: string): SnippetProject {
  const dir = mkdtempSync(join(repo, ".doc-snippets-"));
  mkdirSync(join(dir, "node_modules"));
  symlinkSync(repo, join(dir, "node_modules", "ringrpc"), "dir");
  const files = new Map<Snippet, string>();
  const layoutErrors = new Map<Snippet, string[]>();
  for (const doc of [...new Set(snippets.map((s) => s.doc))]) {
    const docDir = join(dir, folderFor(doc));
    mkdirSync(docDir, { recursive: true });
    for (const link of REPO_LINKS) symlinkSync(join(repo, link), join(docDir, link), "dir");
    for (const [to, from] of Object.entries(DEFAULT_FILES)) {
      mkdirSync(dirname(join(docDir, to)), { recursive: true });
      copyFileSync(join(repo, from), join(docDir, to));
    }
    for (const s of snippets.filter((x) => x.doc === doc)) {
      if (s.lang === "ridl") {
        if (s.name !== null && s.mode !== "fragment") {
          const errors = generateRidl(repo, docDir, s, version);
          if (errors.length > 0) layoutErrors.set(s, errors);
        }
        continue;
      }
      if (s.mode === "fragment") continue;
      const file = join(folderFor(doc), s.name ?? `snippet-${s.line}.ts`);
      write(join(dir, file), s.code);
      files.set(s, file);
    }
  }
  const tsconfig = {
    extends: join(repo, "tsconfig.json"),
    compilerOptions: { moduleDetection: "force" },
    files: [...files.values()],
  };
  write(join(dir, "tsconfig.json"), `${JSON.stringify(tsconfig, null, 2)}\n`);
  return { dir, files, layoutErrors };
}

/** Parses `tsc --pretty false` output (paths relative to the project). */
export function parseTscOutput(out: string): TscError[] {
  const errors: TscError[] = [];
  for (const m of out.matchAll(/^(.+?)\((\d+),(\d+)\): error (TS\d+): (.*)$/gm)) {
    errors.push({ file: m[1]!, line: Number(m[2]), col: Number(m[3]), code: m[4]!, message: m[5]! });
  }
  return errors;
}

/** Runs the repository's tsc over the project; resolves with every error it printed and its raw output. */
export async function typecheckProject(repo: string, project: SnippetProject): Promise<{ errors: TscError[]; output: string; exitCode: number }> {
  const proc = Bun.spawn([join(repo, "node_modules/.bin/tsc"), "--noEmit", "--pretty", "false", "-p", "tsconfig.json"], {
    cwd: project.dir,
    stdout: "pipe",
    stderr: "pipe",
  });
  const [stdout, stderr, exitCode] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited]);
  const output = stdout + stderr;
  return { errors: parseTscOutput(output).map((e) => ({ ...e, file: relative(project.dir, join(project.dir, e.file)) })), output, exitCode };
}

/** An error as `doc:line: TSxxxx message`, at the line of the markdown file it came from. */
export function docLocation(s: Snippet, e: TscError): string {
  return `${s.doc}:${s.line + e.line - 1}:${e.col}: ${e.code} ${e.message}`;
}
