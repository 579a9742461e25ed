/**
 * Smoke run of the RPC benchmark matrix (bench/run.ts --quick, plus a small
 * --idle-conns pass): proves the matrix builds, runs every contender that can
 * run here end to end over docs/PROTOCOL.md, and writes its JSON record and
 * SVG chart. Asserts that every run that started completed without errors and
 * served requests, never a speed. Also checks the runner's pure parts
 * (options, table ratios and flags, chart axis) on made-up records.
 */
import { expect, test } from "bun:test";
import { existsSync, readFileSync } from "node:fs";
import { cpuAtRateTable, cpuAtRateWorkload } from "../../bench/matrix/cpu_at_rate.ts";
import { markdownMatrixTable } from "../../bench/matrix/matrix_table.ts";
import { parseOptions, UsageError } from "../../bench/matrix/options.ts";
import type { RpcRunRecord } from "../../bench/matrix/rpc_run_record.ts";
import { niceCeil } from "../../bench/matrix/svg_chart.ts";
import { chooseDriver } from "../../src/runtime/select.ts";

const root = new URL("../..", import.meta.url).pathname;
const IDLE_CONNS = 200;

function uringWorks(): boolean {
  try {
    return chooseDriver("auto").driver === "uring";
  } catch {
    return false;
  }
}

function runnable(): string[] {
  const names = ["ringrpc-epoll"];
  if (uringWorks()) names.unshift("ringrpc-uring");
  if (existsSync(`${root}bench/tokio/target/release/rpc_server`)) names.push("tokio", "tokio-ct");
  if (existsSync(`${root}bench/peers/bun_listen_rpc.ts`)) names.push("bun-listen");
  return names;
}

interface Run {
  section: string;
  contender: string;
  depth: number;
  serverReadyLine: string | null;
  ok: boolean;
  error: string | null;
  rps: number;
  loadgenErrors: number;
}
interface Idle {
  contender: string;
  ready: number;
  requested: number;
  error: string | null;
}

test("bench/run.ts --quick runs every contender that can run here and writes JSON + SVG", async () => {
  const names = runnable();
  const proc = Bun.spawn([process.execPath, "bench/run.ts", "--quick", "--contenders", names.join(","), "--idle-conns", String(IDLE_CONNS)], {
    cwd: root, stdout: "pipe", stderr: "pipe",
  });
  const [out, err, code] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited]);
  expect(`${code}\n${err}`).toStartWith("0\n");
  for (const n of names) expect(out).toContain(`| ${n} |`);

  const json = /^results: (\S+\.json)$/m.exec(out)?.[1];
  const svg = /^chart: +(\S+\.svg)$/m.exec(out)?.[1];
  expect(json).toBeDefined();
  expect(svg).toBeDefined();
  const record = JSON.parse(readFileSync(json as string, "utf8")) as { machine: { kernel: string; bun: string; cpuModel: string; command: string }; runs: Run[]; idle: Idle[] };
  expect(record.machine.command).toContain("bench/run.ts --quick");
  expect(record.machine.bun.length).toBeGreaterThan(0);

  const started = record.runs.filter((r) => r.serverReadyLine !== null);
  for (const r of started) {
    expect({ contender: r.contender, depth: r.depth, error: r.error, loadgenErrors: r.loadgenErrors }).toEqual({ contender: r.contender, depth: r.depth, error: null, loadgenErrors: 0 });
    expect(r.rps).toBeGreaterThan(0);
  }
  // ringrpc's own fallback driver runs everywhere: it must have run at both quick depths.
  expect(started.filter((r) => r.contender === "ringrpc-epoll" && r.section === "matrix").map((r) => r.depth).sort((a, b) => a - b)).toEqual([1, 32]);

  const epollIdle = record.idle.find((r) => r.contender === "ringrpc-epoll");
  expect(epollIdle).toMatchObject({ ready: IDLE_CONNS, requested: IDLE_CONNS, error: null });

  const chart = readFileSync(svg as string, "utf8");
  expect(chart).toStartWith("<svg ");
  expect(chart.trimEnd()).toEndWith("</svg>");
  for (const n of names) expect(chart).toContain(`>${n}</text>`);
}, 120_000);

// The runner's pure parts, on made-up records: options, the tables' ratios and flags, the chart axis.

function fakeRun(contender: string, rps: number, extra: Partial<RpcRunRecord> = {}): RpcRunRecord {
  return {
    section: "matrix", method: "echo", size: 64, conns: 16, rate: 0, depth: 32, client: "loadgen", contender, rep: 1, ok: true, error: null,
    serverReadyLine: "listening on 127.0.0.1:1 driver=x workers=1", rps, requests: rps,
    latencyUs: { p50: 10, p90: 20, p99: 30, p999: 40, max: 50 }, serverCpuPct: 100, loadgenCpuPct: 50, loadgenSaturated: false,
    loadgenErrors: 0, otherCpuPct: 0, syscallsPerRequest: null, serverRssKiB: 2048, serverHwmKiB: 4096, ...extra,
  };
}

test("options: --all turns on every extra with its default; --quick shrinks the idle run", () => {
  const all = parseOptions(["--all"]);
  expect([all.cpuAtRate, all.idleConns, all.scaling, all.codec, all.matrix]).toEqual([50000, 10000, true, true, true]);
  expect(parseOptions(["--quick", "--idle-conns"]).idleConns).toBe(500);
  expect(parseOptions(["--idle-conns", "300", "--quick"]).idleConns).toBe(300);
  expect(parseOptions(["--cpu-at-rate", "--reps", "2"])).toMatchObject({ cpuAtRate: 50000, reps: 2 });
  expect(() => parseOptions(["--contenders", "nginx"])).toThrow(new UsageError("unknown contender 'nginx'"));
  expect(() => parseOptions(["--method", "ping"])).toThrow("--method must be one of echo|text|add|order, got 'ping'");
});

test("matrix table: ratios fall back to tokio-ct when tokio failed, and flags show", () => {
  const runs = [
    fakeRun("ringrpc-uring", 1_000_000),
    fakeRun("tokio", 0, { ok: false, error: "failed to start: boom", latencyUs: null }),
    fakeRun("tokio-ct", 2_000_000, { loadgenSaturated: true }),
    fakeRun("bun-listen", 500_000, { otherCpuPct: 40 }),
  ];
  const table = markdownMatrixTable(runs, 32, ["ringrpc-uring", "tokio", "tokio-ct", "bun-listen"], [{ candidates: ["tokio", "tokio-ct"] }, { candidates: ["bun-listen"] }]);
  const lines = table.split("\n");
  expect(lines[0]).toContain("| x tokio-ct | x bun-listen |");
  expect(lines[2]).toStartWith("| ringrpc-uring | 1.00M | 1.00M-1.00M | 0.50 | 2.00 |");
  expect(lines[3]).toContain("failed 1/1: failed to start: boom");
  expect(lines[4]).toContain("loadgen saturated in 1/1 runs");
  expect(lines[5]).toContain("noisy in 1/1 runs");
});

test("cpu-at-rate table: CPU per request, and a server that fell behind is flagged", () => {
  const w = cpuAtRateWorkload(50_000, "echo", 64, 16);
  const runs = [
    fakeRun("a", 50_000, { section: "cpu-at-rate", rate: 50_000, serverCpuPct: 50 }),
    fakeRun("b", 30_000, { section: "cpu-at-rate", rate: 50_000, serverCpuPct: 100 }),
  ];
  const lines = cpuAtRateTable(runs, w, ["a", "b"]).split("\n");
  expect(lines[2]).toStartWith("| a | 50k | 50k | 50.0 | 50.0-50.0 | 10.00 |");
  expect(lines[3]).toContain("did not sustain the rate (served 30k)");
});

test("chart axis ends on a round number at or above the largest value", () => {
  expect([niceCeil(2.92e6), niceCeil(3.3e6), niceCeil(100), niceCeil(0)]).toEqual([3e6, 4e6, 100, 1]);
});
