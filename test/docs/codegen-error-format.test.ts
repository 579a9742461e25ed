/**
 * docs/CODEGEN.md shows what `ringrpc gen --error-format text|json` prints
 * for an unknown type; the command must print exactly those lines (the doc
 * once showed `error[E0301]:`, a form the tool never printed).
 */
import { afterAll, expect, test } from "bun:test";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

const repo = new URL("../..", import.meta.url).pathname;
const tmp = mkdtempSync(join(tmpdir(), "ringrpc-doc-errors-"));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

/** The code spans of the `--error-format` row of CODEGEN.md's option table that show output. */
function documented(): string[] {
  const row = readFileSync(`${repo}docs/CODEGEN.md`, "utf8").split("\n").find((l) => l.startsWith("| `--error-format` |"));
  expect(row).toBeDefined();
  return [...row!.matchAll(/`([^`]+)`/g)].map((m) => m[1]!).filter((c) => c.startsWith("kv.ridl:") || c.startsWith("{"));
}

async function gen(format: string): Promise<string> {
  const proc = Bun.spawn([process.execPath, `${repo}src/cli/main.ts`, "gen", "kv.ridl", "--out", "gen", "--error-format", format], {
    cwd: tmp,
    stdout: "pipe",
    stderr: "pipe",
  });
  const [err, code] = await Promise.all([new Response(proc.stderr).text(), proc.exited]);
  expect(code).toBe(1);
  return err;
}

test("the --error-format examples in docs/CODEGEN.md are what ringrpc gen prints", async () => {
  // The example's schema: an unknown type "Bee" on line 2, column 22.
  writeFileSync(join(tmp, "kv.ridl"), "package kv.v1;\nstruct Entry { 1: b: Bee; }\n");
  const [text, json] = documented();
  expect(text).toBeDefined();
  expect(json).toBeDefined();
  expect((await gen("text")).split("\n")[0]).toBe(text!);
  expect((await gen("json")).trim()).toBe(json!);
});
