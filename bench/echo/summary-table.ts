/**
 * Turns run records into the final markdown table: per depth and contender,
 * medians with min-max ranges and the ratio to the baseline contender's median.
 * Pure functions over RunRecord; no I/O.
 */
import { NOISY_OTHER_PCT, type RunRecord } from "./run-record.ts";

export function median(xs: readonly number[]): number {
  if (xs.length === 0) return Number.NaN;
  const s = [...xs].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 === 1 ? (s[mid] as number) : ((s[mid - 1] as number) + (s[mid] as number)) / 2;
}

export function formatRate(rps: number): string {
  if (!Number.isFinite(rps)) return "-";
  if (rps >= 1e6) return `${(rps / 1e6).toFixed(2)}M`;
  if (rps >= 1e3) return `${(rps / 1e3).toFixed(0)}k`;
  return rps.toFixed(0);
}

function fmt(x: number, digits = 0): string {
  return Number.isFinite(x) ? x.toFixed(digits) : "-";
}

export interface ContenderSummary {
  readonly contender: string;
  readonly depth: number;
  readonly okRuns: number;
  readonly totalRuns: number;
  readonly rpsMedian: number;
  readonly rpsMin: number;
  readonly rpsMax: number;
  readonly p50Median: number;
  readonly p99Median: number;
  readonly serverCpuMedian: number;
  readonly loadgenCpuMedian: number;
  readonly saturatedRuns: number;
  readonly noisyRuns: number;
  readonly otherCpuMedian: number;
  readonly syscallsPerRequest: number;
  readonly firstError: string | null;
}

export function summarize(runs: readonly RunRecord[], depth: number, contender: string): ContenderSummary {
  const mine = runs.filter((r) => r.depth === depth && r.contender === contender);
  const ok = mine.filter((r) => r.ok);
  const rps = ok.map((r) => r.rps);
  const nums = (f: (r: RunRecord) => number | null | undefined): number[] =>
    ok.map(f).filter((x): x is number => typeof x === "number");
  return {
    contender,
    depth,
    okRuns: ok.length,
    totalRuns: mine.length,
    rpsMedian: median(rps),
    rpsMin: rps.length ? Math.min(...rps) : Number.NaN,
    rpsMax: rps.length ? Math.max(...rps) : Number.NaN,
    p50Median: median(nums((r) => r.latencyUs?.p50)),
    p99Median: median(nums((r) => r.latencyUs?.p99)),
    serverCpuMedian: median(nums((r) => r.serverCpuPct)),
    loadgenCpuMedian: median(nums((r) => r.loadgenCpuPct)),
    saturatedRuns: ok.filter((r) => r.loadgenSaturated).length,
    noisyRuns: ok.filter((r) => r.otherCpuPct !== null && r.otherCpuPct > NOISY_OTHER_PCT).length,
    otherCpuMedian: median(nums((r) => r.otherCpuPct)),
    syscallsPerRequest: median(nums((r) => r.syscallsPerRequest)),
    firstError: mine.find((r) => r.error !== null)?.error ?? null,
  };
}

function oneLine(s: string, max = 90): string {
  const flat = s.replace(/\s+/g, " ").replace(/\|/g, "/");
  return flat.length > max ? `${flat.slice(0, max - 1)}…` : flat;
}

export function markdownTable(runs: readonly RunRecord[], depth: number, contenders: readonly string[], baseline: string): string {
  const rows = contenders.map((c) => summarize(runs, depth, c));
  const base = rows.find((r) => r.contender === baseline)?.rpsMedian ?? Number.NaN;
  const withSyscalls = rows.some((r) => Number.isFinite(r.syscallsPerRequest));
  const head = ["contender", "req/s (median)", "min-max", `x ${baseline}`, "p50 µs", "p99 µs", "server CPU %", "loadgen CPU %", "other CPU %", "runs ok"];
  if (withSyscalls) head.push("syscalls/req");
  head.push("notes");
  const lines = [`| ${head.join(" | ")} |`, `|${head.map(() => "---").join("|")}|`];
  for (const r of rows) {
    const notes: string[] = [];
    if (r.saturatedRuns > 0) notes.push(`loadgen saturated in ${r.saturatedRuns}/${r.okRuns} runs`);
    if (r.noisyRuns > 0) notes.push(`noisy in ${r.noisyRuns}/${r.okRuns} runs`);
    if (r.okRuns < r.totalRuns && r.firstError !== null) notes.push(`failed: ${oneLine(r.firstError)}`);
    const cells = [
      r.contender,
      formatRate(r.rpsMedian),
      r.okRuns > 0 ? `${formatRate(r.rpsMin)}-${formatRate(r.rpsMax)}` : "-",
      Number.isFinite(base) && r.okRuns > 0 ? (r.rpsMedian / base).toFixed(2) : "-",
      fmt(r.p50Median, 1),
      fmt(r.p99Median, 1),
      fmt(r.serverCpuMedian),
      fmt(r.loadgenCpuMedian),
      fmt(r.otherCpuMedian),
      `${r.okRuns}/${r.totalRuns}`,
    ];
    if (withSyscalls) cells.push(fmt(r.syscallsPerRequest, 3));
    cells.push(notes.join("; "));
    lines.push(`| ${cells.join(" | ")} |`);
  }
  return lines.join("\n");
}
