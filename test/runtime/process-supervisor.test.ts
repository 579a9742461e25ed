/**
 * The process supervisor's restart loop (src/runtime/process-supervisor.ts)
 * against a child that dies ~100 ms after every start: one line per death
 * with its exit code, waits that double up to the cap, the crash loop said
 * once, no spinning, and stop() ends it with no child left. A short back-off
 * policy keeps the test under 3 s; the default one is in restart-backoff.test.ts.
 */
import { afterAll, expect, test } from "bun:test";
import { ProcessSupervisor } from "../../src/runtime/process-supervisor.ts";

const FIXTURE = new URL("./fixtures/dies-after-ready.ts", import.meta.url).pathname;
const pids = new Set<number>();
let sup: ProcessSupervisor | null = null;
afterAll(async () => {
  await sup?.stop();
  for (const pid of pids) {
    try {
      process.kill(pid, "SIGKILL");
    } catch {
      // already gone: the expected case
    }
  }
});

test("a crash-looping child is restarted after 20, 40, 80, 80 ... ms, the loop is logged once, and stop() ends it", async () => {
  const lines: string[] = [];
  sup = new ProcessSupervisor(
    { processes: 1, workers: 1, driver: "epoll", entry: FIXTURE, graceMs: 500, log: (l) => lines.push(l) },
    { firstMs: 20, maxMs: 80, stableMs: 10_000 },
  );
  await sup.start();
  // Each cycle is a Bun start + ~100 ms alive + the wait: measured 1.0-1.2 s for 5 restarts.
  const deadline = performance.now() + 8000;
  while (sup.restarts < 5 && performance.now() < deadline) {
    pids.add(sup.processes[0]!.pid);
    await Bun.sleep(5);
  }
  await sup.stop();
  const deaths = lines.filter((l) => / exited with code 7 after [\d.]+ s; restarting in \d+ ms \(restart \d+\)$/.test(l));
  expect(deaths.length).toBeGreaterThanOrEqual(5);
  expect(deaths.slice(0, 5).map((l) => Number(l.match(/restarting in (\d+) ms/)![1]))).toEqual([20, 40, 80, 80, 80]);
  expect(lines.filter((l) => l.includes("crash-looping"))).toEqual([
    "process 0 is crash-looping: 3 deaths in a row, each within 10.0 s of its start; restarting it every 80 ms until one lives 10.0 s (its own lines above say why it dies)",
  ]);
  expect(sup.processes[0]!.serving).toBe(false);
  // stop() resolves after the last child exited: nothing left, and no restart after it.
  const after = lines.length;
  await Bun.sleep(200);
  expect(lines.slice(after)).toEqual([]);
  for (const pid of pids) expect(() => process.kill(pid, 0)).toThrow();
}, 15_000);
