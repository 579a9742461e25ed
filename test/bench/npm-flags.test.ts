/**
 * `npm run bench --quick` (no `--`): npm keeps the flag as npm_config_quick
 * and bench/matrix/npm-flags.ts gives it back to the runner. Checked on the
 * pure function, against every flag of the runner's usage text (a new flag
 * must be classified), and end to end with the real npm on a scratch
 * package whose `bench` script prints what it recovers.
 */
import { afterAll, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { NEGATED, npmSwallowedFlags, SWITCHES, VALUED } from "../../bench/matrix/npm-flags.ts";
import { USAGE } from "../../bench/matrix/options.ts";
import { skipTitle } from "../helpers/skip.ts";

const root = new URL("../..", import.meta.url).pathname;

describe("npmSwallowedFlags", () => {
  test("gives back switches, --no-x flags and --name=value flags when npm runs the bench script", () => {
    const r = npmSwallowedFlags({
      npm_lifecycle_event: "bench", npm_config_quick: "true", npm_config_matrix: "", npm_config_reps: "2", npm_config_cpu_at_rate: "true",
    });
    expect(r.argv).toEqual(["--quick", "--no-matrix", "--reps", "2", "--cpu-at-rate"]);
    expect(r.problems).toEqual([]);
    expect(r.notes).toEqual([
      "bench: npm passed --quick --no-matrix --reps 2 --cpu-at-rate to the script as npm_config_* variables; using them (`npm run bench -- --quick --no-matrix --reps 2 --cpu-at-rate` passes them directly)",
    ]);
  });

  test("a value flag npm split from its value is a problem, not a silent default", () => {
    const r = npmSwallowedFlags({ npm_lifecycle_event: "bench", npm_config_depths: "true" });
    expect(r.argv).toEqual([]);
    expect(r.problems).toEqual(["npm took --depths without its value (write `npm run bench -- --depths VALUE`, or --depths=VALUE)"]);
  });

  test("nothing is taken from the environment unless npm is running the bench script", () => {
    expect(npmSwallowedFlags({ npm_lifecycle_event: "test", npm_config_quick: "true" })).toEqual({ argv: [], notes: [], problems: [] });
    expect(npmSwallowedFlags({ npm_config_quick: "true" })).toEqual({ argv: [], notes: [], problems: [] });
    expect(npmSwallowedFlags({ npm_lifecycle_event: "bench", npm_config_cache: "/root/.npm" }).argv).toEqual([]);
  });

  test("every flag of the runner's usage text is classified", () => {
    const flags = [...new Set([...USAGE.matchAll(/^\s+--([a-z-]+)/gm)].map((m) => m[1]!))];
    expect(flags.length).toBeGreaterThan(20);
    const known = new Set<string>([...SWITCHES, ...NEGATED.map((f) => `no-${f}`), ...VALUED]);
    expect(flags.filter((f) => !known.has(f))).toEqual([]);
  });
});

const npm = Bun.which("npm");
const scratch = mkdtempSync(join(tmpdir(), "ringrpc-npm-flags-"));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

async function npmRunBench(args: string[]): Promise<{ code: number; out: string; err: string }> {
  const proc = Bun.spawn([npm!, "run", "--silent", "bench", ...args], { cwd: scratch, stdout: "pipe", stderr: "pipe" });
  const [out, err, code] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited]);
  return { code, out, err };
}

test.skipIf(npm === null)(skipTitle("with the real npm: `npm run bench --quick --no-matrix --reps=2` reaches the script as those flags", npm === null && "npm is not installed"), async () => {
  writeFileSync(join(scratch, "print-flags.ts"), `import { npmSwallowedFlags } from ${JSON.stringify(`${root}bench/matrix/npm-flags.ts`)};\nconsole.log(JSON.stringify({ ...npmSwallowedFlags(process.env), argv2: process.argv.slice(2) }));\n`);
  writeFileSync(join(scratch, "package.json"), JSON.stringify({ name: "npm-flags-probe", private: true, scripts: { bench: `${process.execPath} print-flags.ts` } }));
  const ok = await npmRunBench(["--quick", "--no-matrix", "--reps=2"]);
  expect(ok.code).toBe(0);
  expect(JSON.parse(ok.out)).toMatchObject({ argv: ["--quick", "--no-matrix", "--reps", "2"], problems: [], argv2: [] });
  const direct = await npmRunBench(["--", "--quick"]);
  expect(JSON.parse(direct.out)).toMatchObject({ argv: [], argv2: ["--quick"] });
  const split = await npmRunBench(["--depths", "1,32"]);
  expect(JSON.parse(split.out)).toMatchObject({ argv: [], argv2: ["1,32"], problems: [expect.stringContaining("npm took --depths without its value")] });
}, 20_000);

describe("bench/run.ts reads them before its own arguments", () => {
  async function runner(env: Record<string, string>, args: string[]): Promise<{ code: number; out: string; err: string }> {
    const proc = Bun.spawn([process.execPath, `${root}bench/run.ts`, ...args], {
      cwd: root, env: { ...process.env, npm_lifecycle_event: "bench", ...env }, stdout: "pipe", stderr: "pipe",
    });
    const [out, err, code] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited]);
    return { code, out, err };
  }

  test("a recovered flag is announced and used (shown with --help, which stops before any run)", async () => {
    const r = await runner({ npm_config_quick: "true" }, ["--help"]);
    expect(r.code).toBe(0);
    expect(r.out).toContain("usage: bun bench/run.ts");
    expect(r.err).toContain("bench: npm passed --quick to the script");
  });

  test("a value npm split off stops the run with exit 2 before anything is built", async () => {
    const r = await runner({ npm_config_depths: "true" }, []);
    expect(r.code).toBe(2);
    expect(r.err).toContain("bench: npm took --depths without its value");
    expect(r.out).toBe("");
  });
});
