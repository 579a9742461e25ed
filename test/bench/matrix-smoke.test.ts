/**
 * Smoke run of the RPC benchmark matrix (bench/run.ts --quick, plus a small
 * --idle-conns pass): every contender that should run
 * here must run and is checked, in the 16-connection matrix and in the
 * 1-connection section, and so is the JS client on each driver. A contender
 * that cannot run here (no io_uring, no cargo) is a skip with the reason,
 * never a silent drop. Bounds are relative (A against B in the same run) or
 * far below a stall, each with the value measured. Also checks the runner's
 * pure parts (options, table ratios and flags, chart axis) on made-up records.
 */
import { describe, expect, test } from "bun:test";
import { existsSync, readFileSync } from "node:fs";
import { cpuAtRateTable, cpuAtRateWorkload } from "../../bench/matrix/cpu-at-rate.ts";
import { jsTargets } from "../../bench/matrix/latency-section.ts";
import { markdownMatrixTable } from "../../bench/matrix/matrix-table.ts";
import { parseOptions, UsageError, latencyWindow } from "../../bench/matrix/options.ts";
import type { RpcRunRecord } from "../../bench/matrix/rpc-run-record.ts";
import { niceCeil } from "../../bench/matrix/svg-chart.ts";
import { probeUring } from "../../src/runtime/uring/probe.ts";

const root = new URL("../..", import.meta.url).pathname;
const IDLE_CONNS = 200;
const RUN_LIMIT_MS = 180_000;

const uring = probeUring();
const NO_URING = uring.ok ? null : `io_uring unavailable here (${uring.reason})`;
const NO_TOKIO = existsSync(`${root}bench/tokio/target/release/rpc_server`) || Bun.which("cargo") !== null
  ? null : "cargo missing and no prebuilt bench/tokio rpc_server: the Tokio baseline cannot be built here";
/** Every contender the smoke run expects, with why it cannot run here (null = it must run). */
const EXPECTED: readonly { name: string; skip: string | null }[] = [
  { name: "ringrpc-uring", skip: NO_URING },
  { name: "ringrpc-epoll", skip: null },
  { name: "tokio", skip: NO_TOKIO },
  { name: "tokio-ct", skip: NO_TOKIO },
  { name: "bun-listen", skip: null },
];
const names = EXPECTED.filter((e) => e.skip === null).map((e) => e.name);

interface Run {
  section: string;
  contender: string;
  client: string;
  conns: number;
  depth: number;
  serverReadyLine: string | null;
  ok: boolean;
  error: string | null;
  rps: number;
  loadgenErrors: number;
  latencyUs: { p50: number; p99: number } | null;
}
interface Idle {
  contender: string;
  ready: number;
  requested: number;
  error: string | null;
}
interface Outcome {
  code: number;
  out: string;
  err: string;
  svgs: string[];
  record: { machine: { kernel: string; bun: string; cpuModel: string; command: string }; runs: Run[]; idle: Idle[]; stalled: string[] };
}

let outcome: Promise<Outcome> | null = null;
/** The one smoke run every test below reads (started by whichever test comes first). */
function smokeRun(): Promise<Outcome> {
  outcome ??= (async () => {
    // 1 s windows (--quick): a 0.3 s descheduling of a server by other processes on a busy 2-core
    // machine (seen once: other CPU 121%) cost 0.5 s windows half their requests.
    const argv = [process.execPath, "bench/run.ts", "--quick", "--contenders", names.join(","), "--idle-conns", String(IDLE_CONNS)];
    const proc = Bun.spawn(argv, { cwd: root, stdout: "pipe", stderr: "pipe" });
    const killer = setTimeout(() => proc.kill("SIGKILL"), RUN_LIMIT_MS);
    const [out, err, code] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited]);
    clearTimeout(killer);
    const json = /^results: (\S+\.json)$/m.exec(out)?.[1];
    if (json === undefined) throw new Error(`bench/run.ts wrote no results (exit ${code}):\n${err}\n${out.slice(-3000)}`);
    const svgs = [...out.matchAll(/^chart: +(\S+\.svg)$/gm)].map((m) => m[1] as string);
    return { code, out, err, svgs, record: JSON.parse(readFileSync(json, "utf8")) as Outcome["record"] };
  })();
  return outcome;
}

function runsOf(o: Outcome, contender: string, section: string, client: string, depth: number): Run[] {
  return o.record.runs.filter((r) => r.contender === contender && r.section === section && r.client === client && r.depth === depth);
}

/** The one run of a (contender, section, client, depth), checked clean: started, no errors, served calls. */
function cleanRun(o: Outcome, contender: string, section: string, client: string, depth: number): Run {
  const mine = runsOf(o, contender, section, client, depth);
  expect(mine.map((r) => ({ contender: r.contender, section: r.section, client: r.client, depth: r.depth, error: r.error, loadgenErrors: r.loadgenErrors, started: r.serverReadyLine !== null })))
    .toEqual([{ contender, section, client, depth, error: null, loadgenErrors: 0, started: true }]);
  const r = mine[0] as Run;
  expect(r.ok).toBe(true);
  expect(r.rps).toBeGreaterThan(0);
  return r;
}

describe("bench/run.ts --quick", () => {
  test("exits 0 with nothing STALLED, prints every table, writes JSON and both charts", async () => {
    const o = await smokeRun();
    expect(`${o.code}\n${o.err}`).toBe("0\n");
    expect(o.record.stalled).toEqual([]);
    expect(o.out).not.toContain("STALLED:");
    expect(o.record.machine.command).toContain("bench/run.ts --quick");
    expect(o.record.machine.bun.length).toBeGreaterThan(0);
    for (const heading of ["### depth 1", "### depth 32", "### 1 connection, depth 1:", "### 1 connection, depth 32:"]) expect(o.out).toContain(heading);
    for (const n of names) expect(o.out).toContain(`| ${n} |`);
    expect(o.svgs.length).toBe(2);
    expect(o.svgs[1]).toBe(o.svgs[0]!.replace(/\.svg$/, "-latency.svg"));
    for (const f of o.svgs) {
      const chart = readFileSync(f, "utf8");
      expect(chart).toStartWith("<svg ");
      expect(chart.trimEnd()).toEndWith("</svg>");
      for (const n of names) expect(chart).toContain(`>${n}</text>`);
    }
  }, RUN_LIMIT_MS + 10_000);

  for (const { name, skip } of EXPECTED) {
    test.skipIf(skip !== null)(`${name} ran cleanly: matrix depth 1 and 32, 1 connection depth 1, idle connections${skip ? ` (skipped: ${skip})` : ""}`, async () => {
      const o = await smokeRun();
      cleanRun(o, name, "matrix", "loadgen", 32);
      const d1 = cleanRun(o, name, "matrix", "loadgen", 1);
      const single = cleanRun(o, name, "latency", "loadgen", 1);
      // Measured 2026-12-05 (Xeon, 2 vCPU, shared and busy, "other CPU" 50-170%): p50 at 16 connections
      // depth 1 58-156 µs, at 1 connection 58-70 µs; a lost wake-up gave 12-16 ms. Bounds ~10x below a stall.
      expect(d1.latencyUs!.p50).toBeLessThan(2000);
      expect(single.latencyUs!.p50).toBeLessThan(1000);
      expect(o.record.idle.find((r) => r.contender === name)).toMatchObject({ ready: IDLE_CONNS, requested: IDLE_CONNS, error: null });
    }, RUN_LIMIT_MS + 10_000);
  }

  test.skipIf(NO_URING !== null)(`ringrpc-uring keeps up with ringrpc-epoll in the same run${NO_URING ? ` (skipped: ${NO_URING})` : ""}`, async () => {
    const o = await smokeRun();
    const rps = (c: string, section: string, depth: number) => runsOf(o, c, section, "loadgen", depth)[0]?.rps ?? 0;
    // Measured uring/epoll: 16 conns depth 1 0.76-1.01 (72k/71k), depth 32 1.0-1.5 (1.22M/826k),
    // 1 conn depth 1 ~1.0 (12k/12k). With the 16 ms wake-up stall: 0.36, 0.006 and 0.005.
    for (const [section, depth] of [["matrix", 1], ["matrix", 32], ["latency", 1]] as const) {
      const [uringRps, epollRps] = [rps("ringrpc-uring", section, depth), rps("ringrpc-epoll", section, depth)];
      expect({ section, depth, uringRps, epollRps, ok: uringRps >= 0.5 * epollRps }).toEqual({ section, depth, uringRps, epollRps, ok: true });
    }
  }, RUN_LIMIT_MS + 10_000);

  for (const client of ["js-uring", "js-epoll"] as const) {
    const skip = client === "js-uring" ? NO_URING : null;
    test.skipIf(skip !== null)(`the JS client on ${client.slice(3)} calls ${jsTargets(names).join(", ")} at 1 connection, depth 1 and 32${skip ? ` (skipped: ${skip})` : ""}`, async () => {
      const o = await smokeRun();
      expect(jsTargets(names).length).toBe(NO_TOKIO === null ? 3 : 2);
      for (const server of jsTargets(names)) {
        const d1 = cleanRun(o, server, "latency", client, 1);
        const d32 = cleanRun(o, server, "latency", client, 32);
        cleanRun(o, server, "latency", "loadgen", 32);
        // Measured: JS client p50 at depth 1 61-80 µs (loadgen's 58-69 µs on the same servers); 16-32 ms when stalled.
        expect(d1.latencyUs!.p50).toBeLessThan(1000);
        // Measured: depth 32 130k-242k calls/s against depth 1's 7k-13k (13-20x); a stalled client stays near depth 1.
        expect({ server, d1: d1.rps, d32: d32.rps, ok: d32.rps > 3 * d1.rps }).toEqual({ server, d1: d1.rps, d32: d32.rps, ok: true });
      }
    }, RUN_LIMIT_MS + 10_000);
  }

  test.skipIf(NO_URING !== null)(`the JS client on uring keeps up with the JS client on epoll${NO_URING ? ` (skipped: ${NO_URING})` : ""}`, async () => {
    const o = await smokeRun();
    for (const server of jsTargets(names)) {
      for (const depth of [1, 32]) {
        const onUring = runsOf(o, server, "latency", "js-uring", depth)[0]?.rps ?? 0;
        const onEpoll = runsOf(o, server, "latency", "js-epoll", depth)[0]?.rps ?? 0;
        // Measured js-uring/js-epoll: depth 1 0.7-1.1, depth 32 0.8-1.3 (noisy); stalled: 0.005.
        expect({ server, depth, onUring, onEpoll, ok: onUring >= 0.4 * onEpoll }).toEqual({ server, depth, onUring, onEpoll, ok: true });
      }
    }
  }, RUN_LIMIT_MS + 10_000);
});

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

test("options: the 1-connection section is on by default, windows at most 2 s (+0.5 s warm-up) unless given", () => {
  const d = parseOptions([]);
  expect([d.latency, d.jsClient, d.jsDepths, latencyWindow(d)]).toEqual([true, true, [1, 32], { durationS: 2, warmupS: 0.5 }]);
  expect(latencyWindow(parseOptions(["--quick"]))).toEqual({ durationS: 1, warmupS: 0.3 });
  expect(latencyWindow(parseOptions(["--latency-duration", "3"]))).toEqual({ durationS: 3, warmupS: 0.5 });
  const off = parseOptions(["--no-latency", "--no-js-client", "--js-depths", "1,8"]);
  expect([off.latency, off.jsClient, off.jsDepths]).toEqual([false, false, [1, 8]]);
  expect(() => parseOptions(["--js-depths", "0"])).toThrow("--js-depths needs an integer >= 1, got '0'");
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
