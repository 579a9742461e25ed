/**
 * `ringrpc check-compat <files...> --against <git-ref|file|dir> [--format text|json]`:
 * compiles the current .ridl files and their old versions (from a git
 * revision via `git show <ref>:<path>`, from a directory holding the same
 * relative paths, or from one file) and prints every wire-breaking change
 * with locations in both versions. Exit 0: compatible; 1: breaking changes;
 * 2: usage error or a version that does not compile.
 */
import { existsSync, statSync } from "node:fs";
import { basename, dirname, isAbsolute, join } from "node:path";
import { checkCompat, compile, formatDiagnostic, formatIncompatibility, type Diagnostic, type Incompatibility } from "../../idl/index.ts";
import { parseArgs, UsageError } from "./args.ts";
import { expandRidlInputs } from "./ridl-inputs.ts";

export interface CliOutput {
  stdout(text: string): void;
  stderr(text: string): void;
}

const processOutput: CliOutput = {
  stdout: (t) => void process.stdout.write(t),
  stderr: (t) => void process.stderr.write(t),
};

const USAGE = "usage: ringrpc check-compat <files|dirs...> --against <git-ref|file|dir> [--format text|json]";

function git(cwd: string, args: string[]): { ok: boolean; stdout: string; stderr: string } {
  try {
    const r = Bun.spawnSync(["git", "-C", cwd, ...args], { stdout: "pipe", stderr: "pipe" });
    return { ok: r.exitCode === 0, stdout: r.stdout.toString(), stderr: r.stderr.toString() };
  } catch (e) {
    return { ok: false, stdout: "", stderr: e instanceof Error ? e.message : String(e) };
  }
}

/** Reads `path` as it was at `ref`, relative to the file's own directory (works for any cwd). */
function gitReader(ref: string): (path: string) => string | undefined {
  return (path) => {
    const r = git(dirname(path) || ".", ["show", `${ref}:./${basename(path)}`]);
    return r.ok ? r.stdout : undefined;
  };
}

interface OldVersion {
  /** Entry paths for compiling the old version (only those that existed). */
  entries: string[];
  readFile: ((path: string) => string | undefined) | undefined;
  /** How to show an old path in messages. */
  label: (path: string) => string;
}

function oldVersion(files: readonly string[], against: string): OldVersion {
  if (existsSync(against)) {
    if (statSync(against).isDirectory()) {
      const entries = files.map((f) => (isAbsolute(f) ? join(against, basename(f)) : join(against, f))).filter((p) => existsSync(p));
      return { entries, readFile: undefined, label: (p) => p };
    }
    if (files.length !== 1) throw new UsageError("--against <file> needs exactly one input file; use a directory or a git revision for several");
    return { entries: [against], readFile: undefined, label: (p) => p };
  }
  const probeDir = dirname(files[0] ?? ".") || ".";
  if (!git(probeDir, ["rev-parse", "--verify", "--quiet", `${against}^{commit}`]).ok) {
    throw new UsageError(`--against "${against}" is neither a file, a directory nor a git revision`);
  }
  const read = gitReader(against);
  return { entries: files.filter((f) => read(f) !== undefined), readFile: read, label: (p) => `${against}:${p}` };
}

function printDiagnostics(out: CliOutput, diags: readonly Diagnostic[], format: "text" | "json"): void {
  for (const d of diags) out.stderr(`${formatDiagnostic(d, format)}\n`);
}

export async function runCheckCompat(argv: string[], out: CliOutput = processOutput): Promise<number> {
  let format: "text" | "json" = "text";
  try {
    const args = parseArgs(argv, { values: ["against", "format"] });
    const against = args.flags.get("against");
    const fmt = args.flags.get("format") ?? "text";
    if (fmt !== "text" && fmt !== "json") throw new UsageError(`--format must be text or json (got "${fmt}")`);
    format = fmt;
    if (against === undefined) throw new UsageError("--against is required");
    if (args.positionals.length === 0) throw new UsageError("no input files");
    const files = expandRidlInputs(args.positionals);
    if (files.length === 0) throw new UsageError("no .ridl files found in the given directories");

    const cur = compile(files);
    printDiagnostics(out, cur.diagnostics, format);
    if (cur.model === null) {
      out.stderr("check-compat: the current schema has errors (see above)\n");
      return 2;
    }
    const old = oldVersion(files, against);
    if (old.entries.length === 0) {
      out.stderr(`check-compat: none of the files exist in ${against}: nothing to compare\n`);
      if (format === "json") out.stdout("[]\n");
      return 0;
    }
    const prev = compile(old.entries, old.readFile === undefined ? undefined : { readFile: old.readFile });
    if (prev.model === null) {
      printDiagnostics(out, prev.diagnostics.filter((d) => d.severity === "error"), format);
      out.stderr(`check-compat: the old schema (${against}) has errors (see above)\n`);
      return 2;
    }
    const incs = relabel(checkCompat(prev.model, cur.model), old.label);
    if (format === "json") out.stdout(`${JSON.stringify(incs)}\n`);
    else for (const inc of incs) out.stdout(`${formatIncompatibility(inc)}\n`);
    out.stderr(incs.length === 0 ? "check-compat: no breaking changes\n" : `check-compat: ${incs.length} breaking change${incs.length === 1 ? "" : "s"}\n`);
    return incs.length === 0 ? 0 : 1;
  } catch (e) {
    if (e instanceof UsageError) {
      out.stderr(`check-compat: ${e.message}\n${USAGE}\n`);
      return 2;
    }
    out.stderr(`check-compat: ${e instanceof Error ? e.message : String(e)}\n`);
    return 2;
  }
}

function relabel(incs: Incompatibility[], label: (p: string) => string): Incompatibility[] {
  return incs.map((i) => (i.old === undefined ? i : { ...i, old: { ...i.old, file: label(i.old.file) } }));
}

