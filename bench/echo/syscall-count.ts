/**
 * Counts a running server's syscalls with `strace -c -f -p PID` over one
 * separate load run, for the optional syscalls-per-request column. strace
 * slows the traced server a lot, so this run's throughput is never reported;
 * only total syscalls divided by the requests served while traced.
 */
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

export function straceAvailable(): boolean {
  return Bun.which("strace") !== null;
}

export interface StraceSession {
  /** Stops tracing and returns the total number of syscalls seen. */
  stop(): Promise<number>;
}

/** Total `calls` from strace -c's summary (the line ending in "total"). */
export function parseStraceTotal(summary: string): number {
  const total = summary.split("\n").find((l) => /\btotal\s*$/.test(l));
  if (total === undefined) throw new Error(`strace printed no summary total:\n${summary.slice(-500)}`);
  // "100.00    0.123456           1    123456      12 total": calls is the 4th column.
  const calls = Number(total.trim().split(/\s+/)[3]);
  if (!Number.isFinite(calls)) throw new Error(`cannot read the calls column of: ${total}`);
  return calls;
}

export async function startStrace(pid: number): Promise<StraceSession> {
  const dir = mkdtempSync(join(tmpdir(), "echo-strace-"));
  const out = join(dir, "summary.txt");
  const proc = Bun.spawn(["strace", "-c", "-f", "-q", "-o", out, "-p", String(pid)], { stdout: "ignore", stderr: "pipe" });
  await Bun.sleep(300); // attaching to every thread takes a moment
  return {
    async stop() {
      proc.kill("SIGINT");
      await proc.exited;
      try {
        return parseStraceTotal(readFileSync(out, "utf8"));
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    },
  };
}
