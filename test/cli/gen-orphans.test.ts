/**
 * `ringrpc gen --check` reports generated files whose .ridl source is gone,
 * and leaves alone generated files of other, still existing sources that
 * share the --out directory.
 */
import { afterAll, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { runGen } from "../../src/cli/gen.ts";

const tmp = mkdtempSync(join(tmpdir(), "ringrpc-orphans-"));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

async function run(argv: string[]): Promise<{ code: number; out: string }> {
  let out = "";
  const code = await runGen(argv, { stdout: (t) => void (out += t), stderr: () => {} });
  return { code, out };
}

test("--check flags an orphan only when its source no longer exists", async () => {
  const a = join(tmp, "a.ridl");
  const b = join(tmp, "b.ridl");
  const out = join(tmp, "gen");
  await Bun.write(a, "package a.v1;\nstruct A { 1: x: u32; }\n");
  await Bun.write(b, "package b.v1;\nstruct B { 1: y: u32; }\n");
  // Two separate gen commands share one --out directory.
  expect((await run([a, "--out", out])).code).toBe(0);
  expect((await run([b, "--out", out])).code).toBe(0);
  expect((await run([a, "--out", out, "--check"])).code).toBe(0); // b.ts is not a's orphan

  rmSync(b);
  const res = await run([a, "--out", out, "--check"]);
  expect(res.code).toBe(1);
  expect(res.out).toContain(`orphan: ${join(out, "b.ts")} (generated from `);
  expect(res.out).toContain("b.ridl, which no longer exists: delete it)");
  expect(res.out).toContain("1 stale");
});
