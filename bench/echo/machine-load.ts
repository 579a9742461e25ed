/**
 * Whole-machine CPU time from /proc/stat, so the runner can tell how much CPU
 * processes other than the benchmarked pair used during a run. On a shared
 * machine (other builds and tests running) that is the main source of noise.
 */
import { readFileSync } from "node:fs";

const CLOCK_TICKS_PER_SECOND = Number(Bun.spawnSync(["getconf", "CLK_TCK"]).stdout.toString().trim()) || 100;

/** CPU-seconds all CPUs spent busy (not idle, not waiting for I/O) since boot. */
export function machineBusySeconds(): number {
  const line = readFileSync("/proc/stat", "utf8").split("\n", 1)[0] ?? "";
  // cpu  user nice system idle iowait irq softirq steal guest guest_nice
  const f = line.trim().split(/\s+/).slice(1).map(Number);
  const at = (i: number): number => f[i] ?? 0;
  const busy = at(0) + at(1) + at(2) + at(5) + at(6) + at(7);
  return busy / CLOCK_TICKS_PER_SECOND;
}
