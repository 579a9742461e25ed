/**
 * `ringrpc gen [files|dirs] --out DIR [--check] [--watch] [--error-format text|json] [--runtime SPEC]`:
 * compiles .ridl files (idl/) and writes one TypeScript module per file
 * (codegen/). `--check` writes nothing and fails when a generated file is
 * missing or stale, printing a unified-style diff. Exit codes: 0 ok, 1
 * diagnostics errors or stale output, 2 usage. Documented in docs/CODEGEN.md.
 */
import { mkdirSync, readFileSync, watch, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import pkg from "../../package.json" with { type: "json" };
import { CodegenError, generate, type GeneratedFile, unifiedDiff } from "../../codegen/index.ts";
import { compile, formatDiagnostic } from "../../idl/index.ts";
import { parseArgs, UsageError } from "./args.ts";
import { expandRidlInputs } from "./ridl-inputs.ts";
import { findOrphans } from "./orphans.ts";

export interface GenOutput {
  stdout(text: string): void;
  stderr(text: string): void;
}

const processOutput: GenOutput = {
  stdout: (t) => void process.stdout.write(t),
  stderr: (t) => void process.stderr.write(t),
};

const USAGE = "usage: ringrpc gen [files|dirs...] --out DIR [--check] [--watch] [--error-format text|json] [--runtime SPEC]";

interface GenConfig {
  inputs: string[];
  out: string;
  check: boolean;
  watch: boolean;
  format: "text" | "json";
  runtime: string;
}

function parseConfig(argv: readonly string[]): GenConfig {
  const args = parseArgs(argv, { values: ["out", "error-format", "runtime"], booleans: ["check", "watch"] });
  const out = args.flags.get("out");
  if (out === undefined) throw new UsageError("--out DIR is required");
  if (args.positionals.length === 0) throw new UsageError("give at least one .ridl file or directory");
  const format = args.flags.get("error-format") ?? "text";
  if (format !== "text" && format !== "json") throw new UsageError(`--error-format must be text or json (got "${format}")`);
  const runtime = args.flags.get("runtime") ?? "ringrpc";
  if (runtime === "") throw new UsageError("--runtime needs a module specifier, e.g. ringrpc");
  if (args.bools.has("check") && args.bools.has("watch")) throw new UsageError("--check and --watch cannot be combined");
  return { inputs: args.positionals, out, check: args.bools.has("check"), watch: args.bools.has("watch"), format, runtime };
}

function readOrUndefined(path: string): string | undefined {
  try {
    return readFileSync(path, "utf8");
  } catch {
    return undefined;
  }
}

/** One generation pass. Returns the exit code. */
function runOnce(cfg: GenConfig, io: GenOutput): number {
  const started = performance.now();
  const files = expandRidlInputs(cfg.inputs);
  if (files.length === 0) {
    io.stderr(`ringrpc gen: no .ridl files found in ${cfg.inputs.join(", ")}\n`);
    return 1;
  }
  const { model, diagnostics } = compile(files);
  for (const d of diagnostics) io.stderr(`${formatDiagnostic(d, cfg.format)}\n`);
  if (model === null) return 1;

  let generated: GeneratedFile[];
  try {
    generated = generate(model, { version: pkg.version, runtime: cfg.runtime, headerBase: process.cwd() });
  } catch (e) {
    if (!(e instanceof CodegenError)) throw e;
    io.stderr(cfg.format === "json" ? `${JSON.stringify({ severity: "error", code: e.code, message: e.message })}\n` : `error[${e.code}]: ${e.message}\n`);
    return 1;
  }

  let stale = 0;
  let written = 0;
  for (const f of generated) {
    const target = join(cfg.out, f.path);
    const current = readOrUndefined(target);
    if (current === f.content) continue;
    if (cfg.check) {
      stale++;
      io.stdout(current === undefined ? `missing: ${target} (generated from ${f.source})\n` : unifiedDiff(target, current, f.content));
      continue;
    }
    mkdirSync(dirname(target), { recursive: true });
    writeFileSync(target, f.content);
    written++;
  }
  if (cfg.check) {
    for (const o of findOrphans(cfg.out, process.cwd())) {
      stale++;
      io.stdout(`orphan: ${o.path} (generated from ${o.source}, which no longer exists: delete it)\n`);
    }
  }
  const services = generated.reduce((n, f) => n + f.services, 0);
  const ms = Math.round(performance.now() - started);
  const what = cfg.check ? (stale === 0 ? "up to date" : `${stale} stale`) : `${written} written`;
  io.stdout(`ringrpc gen: ${generated.length} file(s), ${services} service(s), ${what}, ${ms} ms -> ${cfg.out}\n`);
  if (stale > 0) io.stderr(`ringrpc gen: generated code is stale; run the same command without --check to update it\n`);
  return stale > 0 ? 1 : 0;
}

/** Re-runs on every change under the inputs until SIGINT; resolves 0 then. */
function watchLoop(cfg: GenConfig, io: GenOutput): Promise<number> {
  return new Promise((resolve) => {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const watchers = cfg.inputs.map((input) =>
      watch(input, { recursive: true }, (_event, name) => {
        if (name !== null && !String(name).endsWith(".ridl") && !input.endsWith(".ridl")) return;
        clearTimeout(timer);
        timer = setTimeout(() => {
          try {
            runOnce(cfg, io);
          } catch (e) {
            io.stderr(`ringrpc gen: ${e instanceof Error ? e.message : String(e)}\n`);
          }
        }, 50);
      }),
    );
    io.stdout(`ringrpc gen: watching ${cfg.inputs.join(", ")} (Ctrl-C to stop)\n`);
    process.once("SIGINT", () => {
      for (const w of watchers) w.close();
      clearTimeout(timer);
      resolve(0);
    });
  });
}

export async function runGen(argv: string[], io: GenOutput = processOutput): Promise<number> {
  let cfg: GenConfig;
  try {
    cfg = parseConfig(argv);
  } catch (e) {
    if (!(e instanceof UsageError)) throw e;
    io.stderr(`ringrpc gen: ${e.message}\n${USAGE}\n`);
    return 2;
  }
  const code = runOnce(cfg, io);
  if (!cfg.watch) return code;
  return watchLoop(cfg, io);
}
