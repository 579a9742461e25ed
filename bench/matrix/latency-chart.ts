/**
 * The chart of the 1-connection section (bench/results/rpc-<ts>-latency.svg):
 * p50 and req/s per server, one group per client and depth (bench/loadgen,
 * js-uring, js-epoll), STALLED rows marked. Pure: runs in, SVG text out.
 */
import type { LoadClientName } from "./load-clients.ts";
import { LATENCY_DEPTH } from "./latency-section.ts";
import { latencyRows, latencyStalls, rowName } from "./latency-table.ts";
import { summarizeRows } from "./matrix-table.ts";
import type { RpcRunRecord } from "./rpc-run-record.ts";
import { barChartSvg, P50_PANEL, RPS_PANEL, type ChartGroup } from "./svg-chart.ts";

export function latencyGroups(runs: readonly RpcRunRecord[], servers: readonly string[]): ChartGroup[] {
  const mine = runs.filter((r) => r.section === "latency");
  const depths = [...new Set(mine.map((r) => r.depth))].sort((a, b) => a - b);
  const groups: ChartGroup[] = [];
  for (const depth of depths) {
    const stalls = depth === LATENCY_DEPTH ? latencyStalls(latencyRows(mine, depth)) : [];
    const clients = [...new Set(mine.filter((r) => r.depth === depth).map((r) => r.client))];
    for (const client of clients) {
      const runsOf = mine.filter((r) => r.client === client);
      const stalled = new Set(servers.filter((server) => stalls.some((s) => s.verdict.name === rowName({ server, client: client as LoadClientName }))));
      groups.push({ label: `${client} d${depth}`, rows: summarizeRows(runsOf, depth, servers), stalled });
    }
  }
  return groups;
}

export function latencySvg(subtitle: string, runs: readonly RpcRunRecord[], servers: readonly string[]): string {
  return barChartSvg(
    "ringrpc: 1 connection, bench/loadgen and the JS client (group = client, depth)", subtitle, latencyGroups(runs, servers), servers,
    [P50_PANEL, RPS_PANEL], "STALLED: p50 at depth 1 more than 10x the best of the same kind of client; n/a = not run against that server",
  );
}
