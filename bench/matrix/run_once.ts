/**
 * One measured run: a fresh server pinned to its CPU(s), the load generator
 * pinned to another, warm-up, then the measured window. Samples the server's
 * CPU time (/proc/<pid>/stat), its memory (/proc/<pid>/status) and the whole
 * machine's busy time (the "other" CPU: noise). Owns no ordering of runs and
 * no tables.
 */
import { READY_LINE } from "../echo/contenders.ts";
import { startLoadgen } from "../echo/loadgen_client.ts";
import { measureWindow } from "../echo/measured_window.ts";
import { SATURATED_PCT } from "../echo/run_record.ts";
import { ServerProcess } from "../echo/server_process.ts";
import type { RpcContender } from "./rpc_contenders.ts";
import { failedRun, type RpcRunRecord, type Workload } from "./rpc_run_record.ts";
import { serverMemory } from "./server_memory.ts";
import { freePort, portOf } from "./server_port.ts";

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

export async function runOnce(s: RunSetup, c: RpcContender, w: Workload, rep: number): Promise<{ record: RpcRunRecord; startFailed: boolean }> {
  let server: ServerProcess;
  try {
    server = await startPinned(c, s.serverCpu);
  } catch (e) {
    return { record: failedRun(w, c.name, rep, `failed to start: ${errorText(e)}`), startFailed: true };
  }
  let peakRss = 0;
  const sampler = setInterval(() => {
    const m = serverMemory(server.pid);
    if (m !== null && m.rssKiB > peakRss) peakRss = m.rssKiB;
  }, MEMORY_SAMPLE_MS);
  try {
    const run = startLoadgen({
      binary: s.loadgen, port: portOf(server.readyLine), cpu: s.loadgenCpu, conns: w.conns, size: w.size, depth: w.depth,
      durationS: s.durationS, warmupS: s.warmupS, prefix: [], mode: "rpc", method: w.method, rate: w.rate,
    });
    const { report, alive, serverCpuPct, otherCpuPct, problems } = await measureWindow(server, run, s.warmupS);
    const end = alive ? serverMemory(server.pid) : null;
    const l = report.latency_us;
    const record: RpcRunRecord = {
      section: w.section, method: w.method, size: w.size, conns: w.conns, rate: w.rate, depth: w.depth,
      contender: c.name, rep, ok: problems.length === 0, error: problems.length ? problems.join("; ") : null,
      serverReadyLine: server.readyLine, rps: report.rps, requests: report.requests,
      latencyUs: { p50: l.p50, p90: l.p90, p99: l.p99, p999: l.p999, max: l.max },
      serverCpuPct, loadgenCpuPct: report.loadgen_cpu_pct, loadgenSaturated: report.loadgen_cpu_pct >= SATURATED_PCT,
      loadgenErrors: report.errors, otherCpuPct, syscallsPerRequest: null,
      serverRssKiB: peakRss > 0 ? Math.max(peakRss, end?.rssKiB ?? 0) : end?.rssKiB ?? null,
      serverHwmKiB: end?.hwmKiB ?? null,
    };
    return { record, startFailed: false };
  } catch (e) {
    return { record: failedRun(w, c.name, rep, errorText(e), server.readyLine), startFailed: false };
  } finally {
    clearInterval(sampler);
    await server.stop();
  }
}
