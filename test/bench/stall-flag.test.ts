/**
 * The STALLED flag of `bun run bench` (bench/matrix/stall-flag.ts) and where
 * it shows: the pure verdict on made-up p50s, the matrix table at depth 1
 * only, and the 1-connection table, where bench/loadgen rows and JS-client
 * rows are judged each against their own kind.
 */
import { expect, test } from "bun:test";
import { latencyRows, latencyStalls, latencyTable } from "../../bench/matrix/latency-table.ts";
import type { LoadClientName } from "../../bench/matrix/load-clients.ts";
import { markdownMatrixTable, matrixStalls } from "../../bench/matrix/matrix-table.ts";
import type { RpcRunRecord } from "../../bench/matrix/rpc-run-record.ts";
import { flagStalls, STALL_FACTOR, stallLine } from "../../bench/matrix/stall-flag.ts";

function run(contender: string, p50: number, extra: Partial<RpcRunRecord> = {}): RpcRunRecord {
  return {
    section: "matrix", method: "echo", size: 64, conns: 16, rate: 0, depth: 1, client: "loadgen", contender, rep: 1, ok: true, error: null,
    serverReadyLine: "listening on 127.0.0.1:1 driver=x workers=1", rps: 1e6 / p50, requests: 1000,
    latencyUs: { p50, p90: p50 * 1.5, p99: p50 * 3, p999: p50 * 5, max: p50 * 10 }, serverCpuPct: 100, loadgenCpuPct: 50, loadgenSaturated: false,
    loadgenErrors: 0, otherCpuPct: 0, syscallsPerRequest: null, serverRssKiB: 2048, serverHwmKiB: 4096, ...extra,
  };
}

function latencyRun(server: string, client: LoadClientName, p50: number, depth = 1): RpcRunRecord {
  return run(server, p50, { section: "latency", conns: 1, depth, client });
}

test("a p50 more than 10x the best is STALLED; 10x exactly, a missing row and the best itself are not", () => {
  expect(STALL_FACTOR).toBe(10);
  const { best, verdicts } = flagStalls([
    { name: "tokio", p50Us: 60 },
    { name: "epoll", p50Us: 600 },
    { name: "uring", p50Us: 16_000 },
    { name: "failed", p50Us: Number.NaN },
    { name: "just-over", p50Us: 601 },
  ]);
  expect(best).toEqual({ name: "tokio", p50Us: 60 });
  expect(verdicts.map((v) => [v.name, v.stalled])).toEqual([["tokio", false], ["epoll", false], ["uring", true], ["failed", false], ["just-over", true]]);
  expect(verdicts[2]?.xBest).toBeCloseTo(16_000 / 60, 6);
  expect(Number.isNaN(verdicts[3]?.xBest)).toBe(true);
});

test("one row, or rows that are all slow together, are never STALLED", () => {
  expect(flagStalls([{ name: "only", p50Us: 16_000 }]).verdicts[0]?.stalled).toBe(false);
  expect(flagStalls([{ name: "a", p50Us: 16_000 }, { name: "b", p50Us: 15_000 }]).verdicts.some((v) => v.stalled)).toBe(false);
  expect(flagStalls([]).best).toBeNull();
  // A sub-microsecond best is floored at 1 µs, so 9 µs is not "more than 10x" of 0.1 µs.
  expect(flagStalls([{ name: "a", p50Us: 0.1 }, { name: "b", p50Us: 9 }]).verdicts[1]?.stalled).toBe(false);
});

test("the matrix table marks STALLED at depth 1 only, and matrixStalls says where", () => {
  const d1 = [run("ringrpc-uring", 16_000), run("ringrpc-epoll", 110), run("tokio", 90)];
  const d32 = d1.map((r) => ({ ...r, depth: 32 }));
  const names = ["ringrpc-uring", "ringrpc-epoll", "tokio"];
  const t1 = markdownMatrixTable(d1, 1, names, [{ candidates: ["tokio"] }]).split("\n");
  expect(t1[2]).toStartWith("| **ringrpc-uring** |");
  expect(t1[2]).toContain("**STALLED** (p50 178x the best)");
  expect(t1[3]).not.toContain("STALLED");
  expect(markdownMatrixTable(d32, 32, names, [{ candidates: ["tokio"] }])).not.toContain("STALLED");
  const found = matrixStalls([...d1, ...d32], names, 16);
  expect(found.map((f) => [f.where, f.verdict.name, f.best.name])).toEqual([["matrix, 16 connections, depth 1", "ringrpc-uring", "tokio"]]);
  expect(stallLine(found[0]!)).toBe(
    "STALLED: ringrpc-uring (matrix, 16 connections, depth 1): p50 16000 µs at depth 1 is 178x the best (tokio, 90 µs); more than 10x means lost wake-ups, not noise",
  );
});

test("1-connection table: loadgen and JS-client rows are judged each against their own kind", () => {
  const runs = [
    latencyRun("ringrpc-uring", "loadgen", 70),
    latencyRun("ringrpc-uring", "js-uring", 650), // 9.3x the best loadgen row, but the JS rows' best is 65: 10x -> not stalled
    latencyRun("ringrpc-uring", "js-epoll", 65),
    latencyRun("tokio-ct", "loadgen", 60),
    latencyRun("tokio-ct", "js-uring", 16_000), // a client-side stall
    latencyRun("tokio-ct", "js-epoll", 70),
    latencyRun("ringrpc-uring", "js-uring", 900, 32), // depth 32: never judged
  ];
  const stalls = latencyStalls(latencyRows(runs, 1));
  expect(stalls.map((s) => [s.where, s.verdict.name, s.best.name])).toEqual([["1 connection, depth 1, JS client", "js-uring -> tokio-ct", "js-epoll -> ringrpc-uring"]]);
  const lines = latencyTable(runs, 1).split("\n");
  expect(lines[0]).toBe("| server | client | req/s | x loadgen | p50 µs | p90 µs | p99 µs | max µs | x best p50 | client CPU % | server CPU % | other CPU % | runs ok | notes |");
  expect(lines.filter((l) => l.includes("STALLED"))).toEqual([expect.stringMatching(/^\| \*\*tokio-ct\*\* \| js-uring \| 63 \| 0\.00 \| 16000\.0 \| .* \| 246\.2 \| .*\*\*STALLED\*\*/)]);
  // x loadgen: the JS row's req/s over bench/loadgen's against the same server (1e6/65 over 1e6/70).
  expect(lines.find((l) => l.startsWith("| ringrpc-uring | js-epoll |"))).toContain("| 1.08 |");
  expect(latencyTable(runs, 32)).not.toContain("x best p50");
});
