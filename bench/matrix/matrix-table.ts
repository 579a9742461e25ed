/**
 * The markdown table of one group of runs (one depth of the matrix, or the
 * scaling pair): per contender, medians with min-max ranges, ratios to the
 * baselines, CPU and memory, and flags (STALLED at depth 1: stall-flag.ts).
 * Pure functions over run records.
 */
import { NOISY_OTHER_PCT } from "../echo/run-record.ts";
import { formatRate, median, summarize, type ContenderSummary } from "../echo/summary-table.ts";
import type { RpcRunRecord } from "./rpc-run-record.ts";
import { flagStalls, STALL_FACTOR, type StallFinding, type StallReport } from "./stall-flag.ts";

/** A ratio column: against the first candidate that has a clean median. */
export interface RatioBaseline {
  readonly candidates: readonly string[];
}

export interface RowSummary extends ContenderSummary {
  readonly p999Median: number;
  readonly rssMiBMedian: number;
}

function fmt(x: number, digits = 0): string {
  return Number.isFinite(x) ? x.toFixed(digits) : "-";
}

export function oneLine(s: string, max = 90): string {
  const flat = s.replace(/\s+/g, " ").replace(/\|/g, "/");
  return flat.length > max ? `${flat.slice(0, max - 1)}…` : flat;
}

export function summarizeRows(runs: readonly RpcRunRecord[], depth: number, contenders: readonly string[]): RowSummary[] {
  return contenders.map((c) => {
    const ok = runs.filter((r) => r.depth === depth && r.contender === c && r.ok);
    const nums = (f: (r: RpcRunRecord) => number | null | undefined): number[] => ok.map(f).filter((x): x is number => typeof x === "number");
    return {
      ...summarize(runs, depth, c),
      p999Median: median(nums((r) => r.latencyUs?.p999)),
      rssMiBMedian: median(nums((r) => (r.serverRssKiB === null ? null : r.serverRssKiB / 1024))),
    };
  });
}

/** The contender a ratio column is taken against, or null when none ran cleanly. */
export function resolveBaseline(rows: readonly RowSummary[], b: RatioBaseline): RowSummary | null {
  for (const name of b.candidates) {
    const row = rows.find((r) => r.contender === name && r.okRuns > 0);
    if (row !== undefined) return row;
  }
  return null;
}

/** STALLED verdicts of a depth-1 group of rows (no verdicts at other depths: only depth 1 isolates a wake-up). */
export function rowStalls(rows: readonly RowSummary[]): StallReport {
  if (rows.every((r) => r.depth !== 1)) return { best: null, verdicts: [] };
  return flagStalls(rows.map((r) => ({ name: r.contender, p50Us: r.okRuns > 0 ? r.p50Median : Number.NaN })));
}

/** The stalled rows of the matrix table at depth 1 (16 connections by default). */
export function matrixStalls(runs: readonly RpcRunRecord[], contenders: readonly string[], conns: number): StallFinding[] {
  const { best, verdicts } = rowStalls(summarizeRows(runs.filter((r) => r.section === "matrix"), 1, contenders));
  if (best === null) return [];
  return verdicts.filter((v) => v.stalled).map((verdict) => ({ where: `matrix, ${conns} connections, depth 1`, verdict, best }));
}

export function notesOf(r: ContenderSummary, stalledXBest = Number.NaN): string {
  const notes: string[] = [];
  if (Number.isFinite(stalledXBest)) notes.push(`**STALLED** (p50 ${stalledXBest.toFixed(0)}x the best)`);
  if (r.saturatedRuns > 0) notes.push(`loadgen saturated in ${r.saturatedRuns}/${r.okRuns} runs`);
  if (r.noisyRuns > 0) notes.push(`noisy in ${r.noisyRuns}/${r.okRuns} runs`);
  if (r.okRuns < r.totalRuns && r.firstError !== null) notes.push(`failed ${r.totalRuns - r.okRuns}/${r.totalRuns}: ${oneLine(r.firstError)}`);
  return notes.join("; ");
}

export function markdownMatrixTable(runs: readonly RpcRunRecord[], depth: number, contenders: readonly string[], baselines: readonly RatioBaseline[]): string {
  const rows = summarizeRows(runs, depth, contenders);
  const bases = baselines.map((b) => resolveBaseline(rows, b));
  const stalled = new Map(rowStalls(rows).verdicts.filter((v) => v.stalled).map((v) => [v.name, v.xBest]));
  const head = [
    "contender", "req/s (median)", "min-max",
    ...baselines.map((b, i) => `x ${bases[i]?.contender ?? b.candidates[0] ?? "?"}`),
    "p50 µs", "p99 µs", "p99.9 µs", "server CPU %", "loadgen CPU %", "other CPU %", "server RSS MiB", "runs ok", "notes",
  ];
  const lines = [`| ${head.join(" | ")} |`, `|${head.map(() => "---").join("|")}|`];
  for (const r of rows) {
    const cells = [
      stalled.has(r.contender) ? `**${r.contender}**` : r.contender,
      r.okRuns > 0 ? formatRate(r.rpsMedian) : "-",
      r.okRuns > 0 ? `${formatRate(r.rpsMin)}-${formatRate(r.rpsMax)}` : "-",
      ...bases.map((b) => (b !== null && r.okRuns > 0 ? (r.rpsMedian / b.rpsMedian).toFixed(2) : "-")),
      fmt(r.p50Median, 1), fmt(r.p99Median, 1), fmt(r.p999Median, 1),
      fmt(r.serverCpuMedian), fmt(r.loadgenCpuMedian), fmt(r.otherCpuMedian), fmt(r.rssMiBMedian, 1),
      `${r.okRuns}/${r.totalRuns}`, notesOf(r, stalled.get(r.contender)),
    ];
    lines.push(`| ${cells.join(" | ")} |`);
  }
  return lines.join("\n");
}

export const FLAG_LEGEND =
  `STALLED = at depth 1 the row's median p50 is more than ${STALL_FACTOR}x the best row's in the same table: lost wake-ups, not noise (the bench then exits 3). ` +
  `loadgen saturated = the load generator's core was >= 95% busy: the number may be the generator's limit, not the server's. ` +
  `noisy = other processes used > ${NOISY_OTHER_PCT}% of a CPU during the run; "other CPU %" is their median use.`;
