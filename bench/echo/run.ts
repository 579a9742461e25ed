/**
 * Raw echo benchmark runner: builds the load generator and the contenders,
 * then for each pipeline depth runs the contenders interleaved (A B C A B C)
 * for R repetitions of D seconds, server pinned to one CPU and the load
 * generator to another. Prints live progress and a markdown table of medians
 * per depth, and writes every run to bench/results/echo-<timestamp>.json.
 *
 *   node_modules/.bin/bun bench/echo/run.ts [--depths 1,16] [--contenders a,b]
 *     [--duration 5] [--warmup 1] [--reps 3] [--conns 16] [--size 64]
 *     [--server-cpu 0] [--loadgen-cpu 1] [--syscalls] [--quick]
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { BASELINE, buildLoadgen, CONTENDERS, PROJECT_ROOT, READY_LINE, type Contender } from "./contenders.ts";
import { startLoadgen, type LoadgenOptions } from "./loadgen-client.ts";
import { machineFacts } from "./machine-facts.ts";
import { measureWindow } from "./measured-window.ts";
import { NOISY_OTHER_PCT, SATURATED_PCT, type RunRecord } from "./run-record.ts";
import { ServerProcess } from "./server-process.ts";
import { freePort, portOf } from "../matrix/server-port.ts";
import { formatRate, markdownTable } from "./summary-table.ts";
import { startStrace, straceAvailable } from "./syscall-count.ts";

interface Options {
  depths: number[];
  contenders: string[];
  durationS: number;
  warmupS: number;
  reps: number;
  conns: number;
  size: number;
  serverCpu: number;
  loadgenCpu: number;
  syscalls: boolean;
  /** Scheduling niceness for server and load generator (negative = higher priority); 0 leaves it alone. */
  nice: number;
}

const SERVER_START_TIMEOUT_MS = 20_000;
/** A contender that fails to start this many times in a row is skipped for the rest of the run. */
const MAX_START_FAILURES = 2;
const USAGE = "usage: bun bench/echo/run.ts [--depths 1,16] [--contenders " +
  CONTENDERS.map((c) => c.name).join(",") +
  "] [--duration 5] [--warmup 1] [--reps 3] [--conns 16] [--size 64] [--server-cpu 0] [--loadgen-cpu 1] [--nice -10] [--syscalls] [--quick]";

function fail(message: string): never {
  console.error(`bench/echo: ${message}`);
  process.exit(2);
}

function parseOptions(argv: readonly string[]): Options {
  const o: Options = {
    depths: [1, 16],
    contenders: CONTENDERS.map((c) => c.name),
    durationS: 5,
    warmupS: 1,
    reps: 3,
    conns: 16,
    size: 64,
    serverCpu: 0,
    loadgenCpu: 1,
    syscalls: false,
    nice: 0,
  };
  const positive = (flag: string, raw: string | undefined, integer: boolean): number => {
    const n = Number(raw);
    if (raw === undefined || !Number.isFinite(n) || n < 0 || (integer && !Number.isInteger(n))) {
      fail(`${flag} needs a ${integer ? "non-negative integer" : "non-negative number"}, got '${raw ?? ""}'\n${USAGE}`);
    }
    return n;
  };
  for (let i = 0; i < argv.length; i++) {
    const flag = argv[i] as string;
    const value = argv[i + 1];
    switch (flag) {
      case "--quick":
        o.durationS = 1;
        o.warmupS = 0.3;
        o.reps = 1;
        continue;
      case "--syscalls":
        o.syscalls = true;
        continue;
      case "--help":
        console.log(USAGE);
        process.exit(0);
    }
    i++;
    switch (flag) {
      case "--depths":
        o.depths = (value ?? "").split(",").map((d) => positive("--depths", d, true));
        break;
      case "--contenders": {
        const names = (value ?? "").split(",").filter((s) => s.length > 0);
        const unknown = names.filter((n) => !CONTENDERS.some((c) => c.name === n));
        if (names.length === 0 || unknown.length > 0) fail(`unknown contender '${unknown.join(",")}'\n${USAGE}`);
        o.contenders = names;
        break;
      }
      case "--duration": o.durationS = positive(flag, value, false); break;
      case "--warmup": o.warmupS = positive(flag, value, false); break;
      case "--reps": o.reps = positive(flag, value, true); break;
      case "--conns": o.conns = positive(flag, value, true); break;
      case "--size": o.size = positive(flag, value, true); break;
      case "--server-cpu": o.serverCpu = positive(flag, value, true); break;
      case "--loadgen-cpu": o.loadgenCpu = positive(flag, value, true); break;
      case "--nice": {
        const n = Number(value);
        if (!Number.isInteger(n) || n < -20 || n > 19) fail(`--nice needs an integer -20..19, got '${value ?? ""}'\n${USAGE}`);
        o.nice = n;
        break;
      }
      default:
        fail(`unknown option '${flag}'\n${USAGE}`);
    }
  }
  if (o.durationS <= 0 || o.reps < 1 || o.depths.some((d) => d < 1)) fail(`--duration, --reps and every depth must be > 0\n${USAGE}`);
  if (o.serverCpu === o.loadgenCpu) console.error("bench/echo: warning: server and load generator share one CPU");
  return o;
}

function message(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

function failedRun(depth: number, contender: string, rep: number, error: string, readyLine: string | null = null): RunRecord {
  return {
    depth, contender, rep, ok: false, error, serverReadyLine: readyLine, rps: 0, requests: 0, latencyUs: null,
    serverCpuPct: null, loadgenCpuPct: null, loadgenSaturated: false, loadgenErrors: 0, otherCpuPct: null, syscallsPerRequest: null,
  };
}

function loadgenOptions(o: Options, binary: string, port: number, depth: number, durationS: number, warmupS: number): LoadgenOptions {
  return { binary, port, cpu: o.loadgenCpu, conns: o.conns, size: o.size, depth, durationS, warmupS, prefix: nicePrefix(o) };
}

function nicePrefix(o: Options): string[] {
  return o.nice === 0 ? [] : ["nice", "-n", String(o.nice)];
}

function startServer(o: Options, c: Contender): Promise<ServerProcess> {
  return ServerProcess.start([...nicePrefix(o), "taskset", "-c", String(o.serverCpu), ...c.command(freePort())], READY_LINE, SERVER_START_TIMEOUT_MS);
}

async function runOnce(o: Options, loadgen: string, c: Contender, depth: number, rep: number): Promise<{ record: RunRecord; startFailed: boolean }> {
  let server: ServerProcess;
  try {
    server = await startServer(o, c);
  } catch (e) {
    return { record: failedRun(depth, c.name, rep, `failed to start: ${message(e)}`), startFailed: true };
  }
  if (c.readyMustMatch !== undefined && !c.readyMustMatch.test(server.readyLine)) {
    await server.stop();
    const why = `started as something else: its ready line '${server.readyLine}' does not match ${c.readyMustMatch}`;
    return { record: failedRun(depth, c.name, rep, why, server.readyLine), startFailed: true };
  }
  try {
    const run = startLoadgen(loadgenOptions(o, loadgen, portOf(server.readyLine), depth, o.durationS, o.warmupS));
    const { report, serverCpuPct, otherCpuPct, problems } = await measureWindow(server, run, o.warmupS);
    const record: RunRecord = {
      depth, contender: c.name, rep, ok: problems.length === 0, error: problems.length ? problems.join("; ") : null,
      serverReadyLine: server.readyLine, rps: report.rps, requests: report.requests,
      latencyUs: { p50: report.latency_us.p50, p90: report.latency_us.p90, p99: report.latency_us.p99, p999: report.latency_us.p999, max: report.latency_us.max },
      serverCpuPct, loadgenCpuPct: report.loadgen_cpu_pct, loadgenSaturated: report.loadgen_cpu_pct >= SATURATED_PCT,
      loadgenErrors: report.errors, otherCpuPct, syscallsPerRequest: null,
    };
    return { record, startFailed: false };
  } catch (e) {
    return { record: failedRun(depth, c.name, rep, message(e), server.readyLine), startFailed: false };
  } finally {
    await server.stop();
  }
}

/** One extra, traced run; returns syscalls per request or an error text. */
async function countSyscalls(o: Options, loadgen: string, c: Contender, depth: number): Promise<number | string> {
  let server: ServerProcess;
  try {
    server = await startServer(o, c);
  } catch (e) {
    return message(e);
  }
  try {
    const trace = await startStrace(server.pid);
    const report = await startLoadgen(loadgenOptions(o, loadgen, portOf(server.readyLine), depth, Math.min(o.durationS, 2), 0)).report;
    const calls = await trace.stop();
    return report.requests > 0 ? calls / report.requests : "no request completed while traced";
  } catch (e) {
    return message(e);
  } finally {
    await server.stop();
  }
}

function progressLine(r: RunRecord, reps: number): string {
  const head = `depth ${String(r.depth).padStart(2)} rep ${r.rep}/${reps} ${r.contender.padEnd(14)}`;
  if (r.latencyUs === null) return `${head} FAILED ${r.error ?? ""}`;
  const cpu = r.serverCpuPct === null ? "-" : r.serverCpuPct.toFixed(0);
  const other = r.otherCpuPct === null ? "" : `other ${r.otherCpuPct.toFixed(0)}%`;
  const flags = [other, r.loadgenSaturated ? "LOADGEN SATURATED" : "", r.otherCpuPct !== null && r.otherCpuPct > NOISY_OTHER_PCT ? "NOISY" : "", r.ok ? "" : `FAILED ${r.error ?? ""}`].filter(Boolean).join(" ");
  return `${head} ${formatRate(r.rps).padStart(6)} req/s  p50 ${r.latencyUs.p50.toFixed(1)} µs  p99 ${r.latencyUs.p99.toFixed(1)} µs  server ${cpu}%  loadgen ${(r.loadgenCpuPct ?? 0).toFixed(0)}% ${flags}`;
}

async function main(): Promise<void> {
  const o = parseOptions(Bun.argv.slice(2));
  const command = ["node_modules/.bin/bun", "bench/echo/run.ts", ...Bun.argv.slice(2)].join(" ");
  const facts = machineFacts(`${PROJECT_ROOT}node_modules/.bin/bun`, command);
  console.log(`# echo benchmark ${facts.date}\nkernel ${facts.kernel}, Bun ${facts.bun}, ${facts.cpuModel} x${facts.cpus}`);
  console.log(`${o.conns} connections, ${o.size} B, ${o.reps} x ${o.durationS} s (+${o.warmupS} s warm-up), server on CPU ${o.serverCpu}, loadgen on CPU ${o.loadgenCpu}${o.nice ? `, nice ${o.nice}` : ""}`);

  let loadgen: string;
  try {
    loadgen = buildLoadgen();
  } catch (e) {
    fail(message(e));
  }
  const contenders = o.contenders.map((n) => CONTENDERS.find((c) => c.name === n) as Contender);
  const broken = new Map<string, string>();
  const startFailures = new Map<string, number>();
  for (const c of contenders) {
    try {
      c.prepare();
    } catch (e) {
      broken.set(c.name, `build failed: ${message(e)}`);
      console.log(`${c.name}: ${message(e).split("\n")[0]} (reported as failed)`);
    }
  }
  if (o.syscalls && !straceAvailable()) {
    console.log("--syscalls: strace not found, skipping the syscall count (apt-get install strace)");
    o.syscalls = false;
  }

  const runs: RunRecord[] = [];
  const syscalls: { depth: number; contender: string; perRequest: number | null; error: string | null }[] = [];
  for (const depth of o.depths) {
    for (let rep = 1; rep <= o.reps; rep++) {
      for (const c of contenders) {
        const why = broken.get(c.name);
        if (why !== undefined) {
          runs.push(failedRun(depth, c.name, rep, why));
          continue;
        }
        const { record, startFailed } = await runOnce(o, loadgen, c, depth, rep);
        const failures = startFailed ? (startFailures.get(c.name) ?? 0) + 1 : 0;
        startFailures.set(c.name, failures);
        if (failures >= MAX_START_FAILURES && record.error !== null) {
          broken.set(c.name, `skipped after ${failures} failed starts: ${record.error}`);
        }
        runs.push(record);
        console.log(progressLine(record, o.reps));
      }
    }
    if (o.syscalls) {
      for (const c of contenders) {
        if (broken.has(c.name)) continue;
        const r = await countSyscalls(o, loadgen, c, depth);
        const entry = typeof r === "number" ? { depth, contender: c.name, perRequest: r, error: null } : { depth, contender: c.name, perRequest: null, error: r };
        syscalls.push(entry);
        console.log(`depth ${depth} ${c.name}: ${entry.perRequest !== null ? `${entry.perRequest.toFixed(3)} syscalls/request (under strace)` : `syscall count failed: ${entry.error}`}`);
      }
    }
  }

  const withSyscalls = runs.map((r) => {
    const s = syscalls.find((x) => x.depth === r.depth && x.contender === r.contender);
    return s?.perRequest != null && r.ok ? { ...r, syscallsPerRequest: s.perRequest } : r;
  });
  const names = contenders.map((c) => c.name);
  const tables = o.depths.map((d) => `### depth ${d}\n\n${markdownTable(withSyscalls, d, names, BASELINE)}`);
  const config = { ...o, baseline: BASELINE, saturatedPct: SATURATED_PCT, noisyOtherPct: NOISY_OTHER_PCT };
  mkdirSync(`${PROJECT_ROOT}bench/results`, { recursive: true });
  const file = `${PROJECT_ROOT}bench/results/echo-${facts.date.replace(/[:.]/g, "-")}.json`;
  writeFileSync(file, `${JSON.stringify({ machine: facts, config, runs: withSyscalls, syscalls, tables }, null, 2)}\n`);

  console.log(`\n## Echo: ${o.conns} conns x ${o.size} B, ${o.reps} x ${o.durationS} s per contender and depth (medians)\n`);
  console.log(`${facts.date} · kernel ${facts.kernel} · Bun ${facts.bun} · ${facts.cpuModel} x${facts.cpus} · server CPU ${o.serverCpu}, loadgen CPU ${o.loadgenCpu}`);
  console.log(`command: ${command}\n`);
  console.log(tables.join("\n\n"));
  console.log(`\nloadgen saturated = its CPU >= ${SATURATED_PCT}%: such a run may measure the generator, not the server.`);
  console.log(`noisy = other processes used > ${NOISY_OTHER_PCT}% of a CPU during the run; "other CPU %" is their median use.`);
  console.log(`results: ${file}`);
}

await main();
