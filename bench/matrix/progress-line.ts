/**
 * The live progress line printed after each run: what ran, its throughput,
 * latency, CPU and memory, and its flags. Pure formatting.
 */
import { NOISY_OTHER_PCT } from "../echo/run-record.ts";
import { formatRate } from "../echo/summary-table.ts";
import type { RpcRunRecord } from "./rpc-run-record.ts";

export function progressLine(r: RpcRunRecord, reps: number): string {
  const what = r.rate > 0 ? `rate ${formatRate(r.rate)}` : `${r.section === "latency" ? `${r.conns} conn ` : ""}depth ${String(r.depth).padStart(2)}`;
  const who = r.client === "loadgen" ? r.contender.padEnd(16) : `${r.client} -> ${r.contender}`.padEnd(28);
  const head = `[${r.section}] ${what} rep ${r.rep}/${reps} ${who}`;
  if (r.latencyUs === null) return `${head} FAILED ${(r.error ?? "").split("\n")[0]}`;
  const cpu = r.serverCpuPct === null ? "-" : r.serverCpuPct.toFixed(0);
  const rss = r.serverRssKiB === null ? "-" : (r.serverRssKiB / 1024).toFixed(0);
  const flags = [
    r.otherCpuPct === null ? "" : `other ${r.otherCpuPct.toFixed(0)}%`,
    r.loadgenSaturated && r.client === "loadgen" ? "LOADGEN SATURATED" : "",
    r.otherCpuPct !== null && r.otherCpuPct > NOISY_OTHER_PCT ? "NOISY" : "",
    r.ok ? "" : `FAILED ${(r.error ?? "").split("\n")[0]}`,
  ].filter(Boolean).join(" ");
  return `${head} ${formatRate(r.rps).padStart(6)} req/s  p50 ${r.latencyUs.p50.toFixed(0)} µs  p99 ${r.latencyUs.p99.toFixed(0)} µs  ` +
    `server ${cpu}% ${rss} MiB  ${r.client === "loadgen" ? "loadgen" : "client"} ${(r.loadgenCpuPct ?? 0).toFixed(0)}%  ${flags}`;
}
