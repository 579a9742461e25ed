/**
 * Docs that run: every ```ts block of README.md and docs/*.md is written into
 * a scratch project inside the repository (test/docs/snippet-project.ts)
 * and type-checked with the repository's strict tsc settings, one test per
 * block, with each error reported at its line in the markdown file. Blocks
 * marked `fragment` are skipped and counted (a skipped test naming the
 * reason); blocks marked `run` are run against the same document's `server`
 * block, bounded in time, and must exit 0 printing what their marker says.
 * Conventions: CONTRIBUTING.md, "Docs that run".
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { readdirSync, readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { skipTitle } from "../helpers/skip.ts";
import { extractSnippets, type Snippet } from "./snippet-extractor.ts";
import { docLocation, typecheckProject, writeSnippetProject, type SnippetProject, type TscError } from "./snippet-project.ts";
import { runSnippet, startServer } from "./snippet-runner.ts";

const repo = new URL("../..", import.meta.url).pathname.replace(/\/$/, "");
const version = (JSON.parse(readFileSync(join(repo, "package.json"), "utf8")) as { version: string }).version;
const docs = ["README.md", ...readdirSync(join(repo, "docs")).filter((f) => f.endsWith(".md")).sort().map((f) => `docs/${f}`)];
const snippets = docs.flatMap((d) => extractSnippets(d, readFileSync(join(repo, d), "utf8")));
const ts = snippets.filter((s) => s.lang === "ts");
const fragments = ts.filter((s) => s.mode === "fragment");
const checked = ts.filter((s) => s.mode !== "fragment");
const runs = ts.filter((s) => s.mode === "run");

/** The bound on type-checking the whole project (about 3 s on the 2-vCPU dev machine, 2026-12-05). */
const TSC_LIMIT_MS = 30_000;
/** Start-up of a server snippet: serve() on every core plus the wake-up self-test took 0.5-1 s. */
const SERVER_READY_MS = 10_000;
/** One client snippet: a Bun start, one runtime, two calls: 0.3-0.6 s measured. */
const RUN_LIMIT_MS = 10_000;

let project: SnippetProject;
let tsc: { errors: TscError[]; output: string; exitCode: number };

beforeAll(async () => {
  project = writeSnippetProject(repo, snippets, version);
  tsc = await typecheckProject(repo, project);
}, TSC_LIMIT_MS);

afterAll(() => {
  if (project) rmSync(project.dir, { recursive: true, force: true });
});

const label = (s: Snippet) => `${s.doc}:${s.line}${s.name ? ` (${s.name})` : ""}`;

test("the docs' TypeScript snippets are mostly checked, and every skip is counted", () => {
  console.log(
    `doc snippets: ${ts.length} TypeScript blocks in ${docs.length} files: ${checked.length} type-checked (${runs.length} also run), ` +
      `${fragments.length} skipped as fragments${fragments.map((f) => `\n  skipped ${label(f)}: ${f.reason}`).join("")}`,
  );
  // README and docs/RPC.md alone hold ten today; far fewer means the extractor lost them.
  expect(ts.length).toBeGreaterThan(8);
  // Policy: a fragment is the exception; at most a quarter of the blocks may be skipped.
  expect(fragments.length * 4).toBeLessThanOrEqual(ts.length);
  expect(runs.length).toBeGreaterThan(0);
});

describe("type-checks under the repository's strict settings", () => {
  for (const s of ts) {
    if (s.mode === "fragment") {
      test.skip(skipTitle(label(s), `fragment: ${s.reason}`), () => {});
      continue;
    }
    test(label(s), () => {
      const file = project.files.get(s);
      expect(file).toBeDefined();
      expect(tsc.errors.filter((e) => e.file === file).map((e) => docLocation(s, e))).toEqual([]);
    });
  }

  test("the named ridl blocks compile and what the snippets import type-checks", () => {
    const own = new Set(project.files.values());
    expect([...project.layoutErrors].map(([s, errors]) => `${label(s)}: ${errors.join("\n")}`)).toEqual([]);
    expect(tsc.errors.filter((e) => !own.has(e.file)).map((e) => `${e.file}:${e.line}: ${e.code} ${e.message}`)).toEqual([]);
    // tsc ran and judged: an exit without a parsed error would be a crash or a bad config, not a pass.
    expect(tsc.exitCode === 0 || tsc.errors.length > 0 ? "ok" : tsc.output).toBe("ok");
  });
});

describe("runnable snippets run (against their document's server, if it has one)", () => {
  for (const s of runs) {
    test(label(s), async () => {
      const server = snippets.find((x) => x.doc === s.doc && x.mode === "server");
      const cwd = project.dir;
      const srv = server === undefined ? null : await startServer(project.files.get(server)!, cwd, SERVER_READY_MS);
      let result;
      try {
        result = await runSnippet(project.files.get(s)!, cwd, srv?.port ?? null, RUN_LIMIT_MS);
      } finally {
        await srv?.stop(5000);
      }
      const shown = `exit ${result.exitCode}${result.timedOut ? ` (killed after ${RUN_LIMIT_MS} ms)` : ""}\n${result.stdout}${result.stderr}`;
      expect(result.exitCode === 0 ? "exit 0" : shown).toBe("exit 0");
      for (const line of s.prints) expect(result.stdout).toContain(line);
    }, SERVER_READY_MS + RUN_LIMIT_MS + 6000);
  }
});
