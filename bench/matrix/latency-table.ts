/**
 * The tables of the 1-connection section (latency-section.ts): at depth 1
 * every server under bench/loadgen and the JS clients, with p50/p90/p99/max,
 * req/s and the STALLED flag; at each other JS-client depth the JS clients
 * next to bench/loadgen on the same server. `x loadgen` is a row's req/s over
 * bench/loadgen's against the same server at the same depth. Pure functions
 * over run records.
 */
import { formatRate, median, summarize } from "../echo/summary-table.ts";
import type { LoadClientName } from "./load-clients.ts";
import { notesOf, oneLine } from "./matrix-table.ts";
import type { RpcRunRecord } from "./rpc-run-record.ts";
import { flagStalls, type StallFinding } from "./stall-flag.ts";
import { LATENCY_DEPTH } from "./latency-section.ts";

export interface LatencyRow {
  readonly server: string;
  readonly client: LoadClientName;
  readonly depth: number;
  readonly okRuns: number;
  readonly totalRuns: number;
  readonly rps: number;
  readonly p50: number;
  readonly p90: number;
  readonly p99: number;
  readonly max: number;
  readonly clientCpu: number;
  readonly serverCpu: number;
  readonly otherCpu: number;
  readonly notes: string;
}

export function rowName(r: { server: string; client: LoadClientName }): string {
  return `${r.client} -> ${r.server}`;
}

export function latencyRows(runs: readonly RpcRunRecord[], depth: number): LatencyRow[] {
  const mine = runs.filter((r) => r.section === "latency" && r.depth === depth);
  const pairs: { server: string; client: LoadClientName }[] = [];
  for (const r of mine) if (!pairs.some((p) => p.server === r.contender && p.client === r.client)) pairs.push({ server: r.contender, client: r.client });
  return pairs.map(({ server, client }) => {
    const sub = mine.filter((r) => r.client === client);
    const s = summarize(sub, depth, server);
    const ok = sub.filter((r) => r.contender === server && r.ok && r.latencyUs !== null);
    // A JS client is what this section measures: its own core being busy is the result, not a caveat.
    const notes = notesOf(client === "loadgen" ? s : { ...s, saturatedRuns: 0 });
    return {
      server, client, depth, okRuns: s.okRuns, totalRuns: s.totalRuns, rps: s.rpsMedian,
      p50: s.p50Median, p90: median(ok.map((r) => r.latencyUs?.p90 ?? Number.NaN)), p99: s.p99Median,
      max: median(ok.map((r) => r.latencyUs?.max ?? Number.NaN)),
      clientCpu: s.loadgenCpuMedian, serverCpu: s.serverCpuMedian, otherCpu: s.otherCpuMedian,
      notes,
    };
  });
}

/**
 * STALLED at depth 1, judged within each kind of client: bench/loadgen rows
 * against each other, JS-client rows (both drivers) against each other, so
 * the JS client's own per-call cost is never mistaken for a stall.
 */
export function latencyStalls(rows: readonly LatencyRow[]): StallFinding[] {
  const findings: StallFinding[] = [];
  const groups: [string, readonly LatencyRow[]][] = [
    ["1 connection, depth 1, bench/loadgen", rows.filter((r) => r.client === "loadgen")],
    ["1 connection, depth 1, JS client", rows.filter((r) => r.client !== "loadgen")],
  ];
  for (const [where, group] of groups) {
    const { best, verdicts } = flagStalls(group.map((r) => ({ name: rowName(r), p50Us: r.okRuns > 0 ? r.p50 : Number.NaN })));
    for (const v of verdicts) if (v.stalled && best !== null) findings.push({ where, verdict: v, best });
  }
  return findings;
}

function fmt(x: number, digits = 0): string {
  return Number.isFinite(x) ? x.toFixed(digits) : "-";
}

function xLoadgen(rows: readonly LatencyRow[], r: LatencyRow): string {
  const base = rows.find((b) => b.server === r.server && b.client === "loadgen" && b.okRuns > 0);
  return base !== undefined && r.okRuns > 0 ? (r.rps / base.rps).toFixed(2) : "-";
}

/** The table of one depth; at depth 1 with the `x best p50` column and STALLED flags. */
export function latencyTable(runs: readonly RpcRunRecord[], depth: number): string {
  const rows = latencyRows(runs, depth);
  const atDepth1 = depth === LATENCY_DEPTH;
  const stalls = atDepth1 ? latencyStalls(rows) : [];
  const xBest = new Map<string, number>();
  if (atDepth1) {
    for (const group of [rows.filter((r) => r.client === "loadgen"), rows.filter((r) => r.client !== "loadgen")]) {
      for (const v of flagStalls(group.map((r) => ({ name: rowName(r), p50Us: r.okRuns > 0 ? r.p50 : Number.NaN }))).verdicts) xBest.set(v.name, v.xBest);
    }
  }
  const head = [
    "server", "client", "req/s", "x loadgen", "p50 µs", "p90 µs", "p99 µs", "max µs", ...(atDepth1 ? ["x best p50"] : []),
    "client CPU %", "server CPU %", "other CPU %", "runs ok", "notes",
  ];
  const lines = [`| ${head.join(" | ")} |`, `|${head.map(() => "---").join("|")}|`];
  for (const r of rows) {
    const stalled = stalls.some((s) => s.verdict.name === rowName(r));
    const cells = [
      stalled ? `**${r.server}**` : r.server, r.client, r.okRuns > 0 ? formatRate(r.rps) : "-", xLoadgen(rows, r),
      fmt(r.p50, 1), fmt(r.p90, 1), fmt(r.p99, 1), fmt(r.max, 0),
      ...(atDepth1 ? [fmt(xBest.get(rowName(r)) ?? Number.NaN, 1)] : []),
      fmt(r.clientCpu), fmt(r.serverCpu), fmt(r.otherCpu), `${r.okRuns}/${r.totalRuns}`,
      oneLine([stalled ? "**STALLED**" : "", r.notes].filter(Boolean).join("; "), 120),
    ];
    lines.push(`| ${cells.join(" | ")} |`);
  }
  return lines.join("\n");
}
