/**
 * `ringrpc gen --watch`: regenerates when a watched .ridl changes, whether
 * the file is rewritten in place or replaced by rename (as editors do), and
 * exits 0 on SIGINT.
 */
import { expect, test } from "bun:test";
import { existsSync, mkdtempSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

const main = new URL("../../src/cli/main.ts", import.meta.url).pathname;

async function until(cond: () => boolean, ms: number): Promise<boolean> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (cond()) return true;
    await Bun.sleep(20);
  }
  return cond();
}

test("gen --watch regenerates on in-place edits and on rename-replace, and stops on SIGINT", async () => {
  const dir = mkdtempSync(join(tmpdir(), "ringrpc-watch-"));
  const src = join(dir, "w.ridl");
  const out = join(dir, "gen");
  writeFileSync(src, "package w.v1;\nstruct First { 1: a: string; }\n");
  const proc = Bun.spawn([process.execPath, main, "gen", src, "--out", out, "--watch"], { stdout: "pipe", stderr: "pipe" });
  const generated = join(out, "w.ts");
  const text = () => (existsSync(generated) ? readFileSync(generated, "utf8") : "");
  try {
    expect(await until(() => text().includes("interface First"), 5000)).toBe(true);
    await Bun.sleep(100);
    writeFileSync(src, "package w.v1;\nstruct Second { 1: a: string; }\n");
    expect(await until(() => text().includes("interface Second"), 5000)).toBe(true);
    await Bun.sleep(100);
    writeFileSync(`${src}.tmp`, "package w.v1;\nstruct Third { 1: a: string; }\n");
    renameSync(`${src}.tmp`, src);
    expect(await until(() => text().includes("interface Third"), 5000)).toBe(true);
  } finally {
    proc.kill("SIGINT");
  }
  expect(await proc.exited).toBe(0);
}, 20_000);
