/**
 * The measured window of one benchmark run, shared by the raw echo runner
 * and the RPC matrix: after the warm-up, the server's CPU share, the CPU
 * everything else on the machine used (noise), and what went wrong, read
 * over exactly the window the load generator measures.
 */
import type { LoadgenReport, LoadgenRun } from "./loadgen-client.ts";
import { machineBusySeconds } from "./machine-load.ts";
import type { ServerProcess } from "./server-process.ts";

export interface MeasuredWindow {
  report: LoadgenReport;
  /** Whether the server was still running at the end of the window. */
  alive: boolean;
  /** Server CPU % over the window, null if it died. */
  serverCpuPct: number | null;
  /** CPU % used by neither the server nor the load generator, null if the server died. */
  otherCpuPct: number | null;
  /** Why the run does not count (empty when it does). */
  problems: string[];
}

export async function measureWindow(server: ServerProcess, run: LoadgenRun, warmupS: number): Promise<MeasuredWindow> {
  if (run.windowStarted !== undefined) await run.windowStarted;
  else await Bun.sleep(warmupS * 1000);
  const cpu0 = server.cpuSeconds();
  const busy0 = machineBusySeconds();
  const t0 = performance.now();
  const report = await run.report;
  const wallS = (performance.now() - t0) / 1000;
  const busyPct = ((machineBusySeconds() - busy0) / wallS) * 100;
  const alive = server.alive();
  const serverCpuPct = alive ? ((server.cpuSeconds() - cpu0) / wallS) * 100 : null;
  // The loadgen's own CPU figure covers its measured window, which is this window give or take its exit.
  const otherCpuPct = serverCpuPct === null ? null : Math.max(0, busyPct - serverCpuPct - report.loadgen_cpu_pct);
  const problems: string[] = [];
  if (!alive) problems.push(`server exited during the run; its output:\n${server.tail()}`);
  if (report.errors > 0) problems.push(`${report.errors} loadgen error(s): ${report.error ?? "unknown"}`);
  if (report.requests === 0) problems.push("no request completed");
  return { report, alive, serverCpuPct, otherCpuPct, problems };
}
