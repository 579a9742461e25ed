/**
 * `ringrpc check-compat <files...> --against <git-ref|file|dir>`: compiles
 * the current .ridl files and their old versions (from a git revision via
 * `git show <ref>:<path>`, from a directory holding the same relative
 * paths, or from one file), checks them (idl/compat.ts), keeps the findings
 * the category and configuration ask for (src/cli/check-compat-config.ts)
 * and prints them in the chosen format (src/cli/check-compat-format.ts).
 * Exit 0: compatible; 1: breaking changes; 2: usage or configuration error,
 * or a version that does not compile.
 */
import { existsSync, statSync } from "node:fs";
import { basename, dirname, isAbsolute, join } from "node:path";
import { checkCompat, COMPAT_CATEGORIES, compatRule, compile, formatDiagnostic, type CompatCategory, type Diagnostic, type Incompatibility, type Location } from "../../idl/index.ts";
import { parseArgs, UsageError } from "./args.ts";
import { activeRules, loadCompatConfig, selectFindings, unknownRuleMessage, type CompatConfig } from "./check-compat-config.ts";
import { COMPAT_FORMATS, formatFindings, type CompatFormat } from "./check-compat-format.ts";
import { checkCompatHelp, USAGE } from "./check-compat-help.ts";
import { expandRidlInputs } from "./ridl-inputs.ts";

export interface CliOutput {
  stdout(text: string): void;
  stderr(text: string): void;
}

const processOutput: CliOutput = {
  stdout: (t) => void process.stdout.write(t),
  stderr: (t) => void process.stderr.write(t),
};

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

function printDiagnostics(out: CliOutput, diags: readonly Diagnostic[], format: CompatFormat): void {
  for (const d of diags) out.stderr(`${formatDiagnostic(d, format === "json" ? "json" : "text")}\n`);
}

interface Options {
  against: string;
  files: string[];
  format: CompatFormat;
  config: CompatConfig;
}

function options(argv: string[], cwd: string): Options {
  const args = parseArgs(argv, { values: ["against", "format", "error-format", "category", "config"], repeated: ["except"] });
  const fmt = args.flags.get("error-format") ?? args.flags.get("format") ?? "text";
  if (!(COMPAT_FORMATS as readonly string[]).includes(fmt)) throw new UsageError(`--error-format must be ${COMPAT_FORMATS.join(", ")} (got "${fmt}")`);
  const category = args.flags.get("category");
  if (category !== undefined && !COMPAT_CATEGORIES.includes(category as CompatCategory)) throw new UsageError(`--category must be ${COMPAT_CATEGORIES.join(" or ")} (got "${category}")`);
  const except = args.lists.get("except") ?? [];
  for (const e of except) if (compatRule(e) === undefined) throw new UsageError(`--except: ${unknownRuleMessage(e)}`);
  const against = args.flags.get("against");
  if (against === undefined) throw new UsageError("--against is required");
  if (args.positionals.length === 0) throw new UsageError("no input files");
  const files = expandRidlInputs(args.positionals);
  if (files.length === 0) throw new UsageError("no .ridl files found in the given directories");
  const loaded = loadCompatConfig(args.flags.get("config"), cwd);
  const config = { ...loaded, use: category === undefined ? loaded.use : [category], except: [...loaded.except, ...except] };
  return { against, files, format: fmt as CompatFormat, config };
}

/** `cwd` is where the nearest package.json's configuration is looked for. */
export async function runCheckCompat(argv: string[], out: CliOutput = processOutput, cwd: string = process.cwd()): Promise<number> {
  if (argv.includes("--help") || argv.includes("-h")) {
    out.stdout(checkCompatHelp());
    return 0;
  }
  try {
    const { against, files, format, config } = options(argv, cwd);

    const cur = compile(files);
    printDiagnostics(out, cur.diagnostics, format);
    if (cur.model === null) {
      out.stderr("check-compat: the current schema has errors (see above)\n");
      return 2;
    }
    const old = oldVersion(files, against);
    let all: Incompatibility[] = [];
    if (old.entries.length === 0) {
      out.stderr(`check-compat: none of the files exist in ${against}: nothing to compare\n`);
    } else {
      const prev = compile(old.entries, old.readFile === undefined ? undefined : { readFile: old.readFile });
      if (prev.model === null) {
        printDiagnostics(out, prev.diagnostics.filter((d) => d.severity === "error"), format);
        out.stderr(`check-compat: the old schema (${against}) has errors (see above)\n`);
        return 2;
      }
      all = checkCompat(prev.model, cur.model);
    }
    const { findings: raw, ignored } = selectFindings(all, config);
    const findings = relabel(raw, old.label);
    const rawOld = new Map(findings.map((f, i) => [f, raw[i]?.old]));
    const workspaceLocation = (f: Incompatibility): Location | undefined => f.new ?? rawOld.get(f);
    out.stdout(formatFindings(format, findings, { rules: activeRules(config), workspaceLocation }));
    const accepted = ignored === 0 ? "" : ` (${ignored} more ignored by ${config.from})`;
    const n = findings.length;
    out.stderr(n === 0 ? `check-compat: no breaking changes${accepted}\n` : `check-compat: ${n} breaking change${n === 1 ? "" : "s"}${accepted}\n`);
    return n === 0 ? 0 : 1;
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
