/**
 * --cpu-at-rate: every contender serves the same fixed request rate (the load
 * generator's --rate, open loop, latency from the intended send time) and the
 * table compares the server CPU it took. Lower CPU at equal load is a win even
 * where a closed-loop run only measures the saturated client (the Monoio
 * method). Owns the workload of this section and its table.
 */
import { formatRate, median } from "../echo/summary-table.ts";
import { runInterleaved } from "./interleaved-runs.ts";
import { notesOf, summarizeRows } from "./matrix-table.ts";
import type { RpcContender } from "./rpc-contenders.ts";
import type { RpcRunRecord, Workload } from "./rpc-run-record.ts";
import type { RunSetup } from "./run-once.ts";

/** Requests in flight per connection are capped here; the rate, not the depth, sets the load. */
export const CPU_AT_RATE_DEPTH_CAP = 32;
/** A contender that served less than this share of the asked rate did not keep up. */
const SUSTAINED_SHARE = 0.97;

export function cpuAtRateWorkload(rate: number, method: string, size: number, conns: number): Workload {
  return { section: "cpu-at-rate", method, size, conns, depth: CPU_AT_RATE_DEPTH_CAP, rate };
}

export async function runCpuAtRate(
  setup: RunSetup, contenders: readonly RpcContender[], w: Workload, reps: number, broken: Map<string, string>, onRun: (r: RpcRunRecord) => void,
): Promise<RpcRunRecord[]> {
  return runInterleaved(setup, contenders, [w], reps, broken, onRun);
}

function fmt(x: number, digits = 0): string {
  return Number.isFinite(x) ? x.toFixed(digits) : "-";
}

export function cpuAtRateTable(runs: readonly RpcRunRecord[], w: Workload, contenders: readonly string[]): string {
  const rows = summarizeRows(runs, w.depth, contenders);
  const head = ["contender", "asked req/s", "served req/s", "server CPU % (median)", "min-max", "server CPU µs/req", "p50 µs", "p99 µs", "loadgen CPU %", "other CPU %", "runs ok", "notes"];
  const lines = [`| ${head.join(" | ")} |`, `|${head.map(() => "---").join("|")}|`];
  for (const r of rows) {
    const ok = runs.filter((x) => x.contender === r.contender && x.ok);
    const cpus = ok.map((x) => x.serverCpuPct).filter((x): x is number => x !== null);
    const perReq = median(ok.filter((x) => x.serverCpuPct !== null && x.rps > 0).map((x) => ((x.serverCpuPct as number) / 100) * 1e6 / x.rps));
    const notes = [notesOf(r)];
    if (r.okRuns > 0 && r.rpsMedian < w.rate * SUSTAINED_SHARE) notes.unshift(`did not sustain the rate (served ${formatRate(r.rpsMedian)})`);
    lines.push(`| ${[
      r.contender, formatRate(w.rate), r.okRuns > 0 ? formatRate(r.rpsMedian) : "-", fmt(r.serverCpuMedian, 1),
      cpus.length ? `${Math.min(...cpus).toFixed(1)}-${Math.max(...cpus).toFixed(1)}` : "-", fmt(perReq, 2),
      fmt(r.p50Median, 1), fmt(r.p99Median, 1), fmt(r.loadgenCpuMedian), fmt(r.otherCpuMedian), `${r.okRuns}/${r.totalRuns}`,
      notes.filter(Boolean).join("; "),
    ].join(" | ")} |`);
  }
  return lines.join("\n");
}
