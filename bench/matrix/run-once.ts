/**
 * One measured run: a fresh server pinned to its CPU(s), a load client
 * (bench/loadgen or the JS client) pinned to another, warm-up, then the
 * measured window. Samples the server's CPU time (/proc/<pid>/stat), its
 * memory (/proc/<pid>/status) and the whole machine's busy time (the "other"
 * CPU: noise). `measureOn` measures one window against a server that is
 * already running, so a section may put several clients on one server.
 * Owns no ordering of runs and no tables.
 */
import { READY_LINE } from "../echo/contenders.ts";
import { measureWindow } from "../echo/measured-window.ts";
import { SATURATED_PCT } from "../echo/run-record.ts";
import { ServerProcess } from "../echo/server-process.ts";
import { clientDriver, startLoadClient } from "./load-clients.ts";
import type { RpcContender } from "./rpc-contenders.ts";
import { failedRun, type RpcRunRecord, type Workload } from "./rpc-run-record.ts";
import { serverMemory } from "./server-memory.ts";
import { freePort, portOf } from "./server-port.ts";

const SERVER_START_TIMEOUT_MS = 20_000;
const MEMORY_SAMPLE_MS = 250;

export interface RunSetup {
  readonly loadgen: string;
  readonly serverCpu: number;
  readonly loadgenCpu: number;
  readonly durationS: number;
  readonly warmupS: number;
}

export function errorText(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

/** Starts the contender pinned (taskset execs, so the pid is the server's) and checks its ready line. */
export async function startPinned(c: RpcContender, serverCpu: number): Promise<ServerProcess> {
  const cpus = c.serverCpus ?? String(serverCpu);
  const server = await ServerProcess.start(["taskset", "-c", cpus, ...c.command(freePort())], READY_LINE, SERVER_START_TIMEOUT_MS);
  if (c.readyMustMatch !== undefined && !c.readyMustMatch.test(server.readyLine)) {
    await server.stop();
    throw new Error(`started as something else: its ready line '${server.readyLine}' does not match ${c.readyMustMatch}`);
  }
  return server;
}

/** One measured window of workload w against a running server; never throws (a failure is a failed record). */
export async function measureOn(s: RunSetup, server: ServerProcess, contender: string, w: Workload, rep: number): Promise<RpcRunRecord> {
  let peakRss = 0;
  const sampler = setInterval(() => {
    const m = serverMemory(server.pid);
    if (m !== null && m.rssKiB > peakRss) peakRss = m.rssKiB;
  }, MEMORY_SAMPLE_MS);
  const client = w.client ?? "loadgen";
  try {
    const run = startLoadClient(client, {
      loadgen: s.loadgen, port: portOf(server.readyLine), cpu: s.loadgenCpu, conns: w.conns, size: w.size, depth: w.depth,
      method: w.method, rate: w.rate, durationS: s.durationS, warmupS: s.warmupS,
    });
    const { report, alive, serverCpuPct, otherCpuPct, problems } = await measureWindow(server, run, s.warmupS);
    const driver = clientDriver(client);
    if (driver !== null && report.driver !== driver) problems.push(`${client} ran on driver '${report.driver ?? "?"}', not ${driver}`);
    const end = alive ? serverMemory(server.pid) : null;
    const l = report.latency_us;
    return {
      section: w.section, method: w.method, size: w.size, conns: w.conns, rate: w.rate, depth: w.depth, client,
      contender, rep, ok: problems.length === 0, error: problems.length ? problems.join("; ") : null,
      serverReadyLine: server.readyLine, rps: report.rps, requests: report.requests,
      latencyUs: { p50: l.p50, p90: l.p90, p99: l.p99, p999: l.p999, max: l.max },
      serverCpuPct, loadgenCpuPct: report.loadgen_cpu_pct, loadgenSaturated: report.loadgen_cpu_pct >= SATURATED_PCT,
      loadgenErrors: report.errors, otherCpuPct, syscallsPerRequest: null,
      serverRssKiB: peakRss > 0 ? Math.max(peakRss, end?.rssKiB ?? 0) : end?.rssKiB ?? null,
      serverHwmKiB: end?.hwmKiB ?? null,
    };
  } catch (e) {
    return failedRun(w, contender, rep, errorText(e), server.readyLine);
  } finally {
    clearInterval(sampler);
  }
}

export async function runOnce(s: RunSetup, c: RpcContender, w: Workload, rep: number): Promise<{ record: RpcRunRecord; startFailed: boolean }> {
  let server: ServerProcess;
  try {
    server = await startPinned(c, s.serverCpu);
  } catch (e) {
    return { record: failedRun(w, c.name, rep, `failed to start: ${errorText(e)}`), startFailed: true };
  }
  try {
    return { record: await measureOn(s, server, c.name, w, rep), startFailed: false };
  } finally {
    await server.stop();
  }
}
