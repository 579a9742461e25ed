/**
 * Smoke run of the raw echo benchmark (bench/echo/run.ts --quick): proves the
 * bench builds and runs end to end against the C epoll echo and ringrpc's own
 * echo server, and writes its JSON record. It asserts that runs completed
 * without errors, never a speed.
 */
import { expect, test } from "bun:test";
import { mkdirSync, readdirSync, readFileSync } from "node:fs";

const root = new URL("../..", import.meta.url).pathname;

test("bench/echo/run.ts --quick completes for c-epoll and ringrpc", async () => {
  mkdirSync(`${root}bench/results`, { recursive: true }); // absent in a fresh clone
  const before = new Set(readdirSync(`${root}bench/results`));
  const proc = Bun.spawn([process.execPath, "bench/echo/run.ts", "--quick", "--depths", "16", "--contenders", "c-epoll,ringrpc-epoll,ringrpc-uring"], {
    cwd: root, stdout: "pipe", stderr: "pipe",
  });
  const [out, err, code] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited]);
  expect(`${code}\n${err}`).toStartWith("0\n");
  expect(out).toContain("| c-epoll |");
  expect(out).toContain("| ringrpc-epoll |");
  const fresh = readdirSync(`${root}bench/results`).filter((f) => f.startsWith("echo-") && !before.has(f));
  expect(fresh.length).toBe(1);
  const record = JSON.parse(readFileSync(`${root}bench/results/${fresh[0]}`, "utf8")) as { runs: { contender: string; ok: boolean; rps?: number; errors?: number }[] };
  const byName = new Map(record.runs.map((r) => [r.contender, r]));
  for (const name of ["c-epoll", "ringrpc-epoll"]) {
    const r = byName.get(name);
    expect(r?.ok).toBe(true);
    expect(r?.rps ?? 0).toBeGreaterThan(0);
  }
}, 120_000);
