/**
 * The record of one RPC matrix run, as written to
 * bench/results/rpc-<timestamp>.json: the echo runner's RunRecord plus the
 * workload, the load client and the server's memory. `section` says which
 * part of the matrix produced it (the main matrix, the 1-connection latency
 * runs, --cpu-at-rate or --scaling).
 */
import type { RunRecord } from "../echo/run-record.ts";
import type { LoadClientName } from "./load-clients.ts";

export type RunSection = "matrix" | "latency" | "cpu-at-rate" | "scaling";

export interface RpcRunRecord extends RunRecord {
  readonly section: RunSection;
  readonly method: string;
  readonly size: number;
  readonly conns: number;
  /** Fixed request rate asked of the load generator; 0 = closed loop. */
  readonly rate: number;
  /** Who generated the load: bench/loadgen, or ringrpc's JS client on a driver. */
  readonly client: LoadClientName;
  /** Largest VmRSS sampled while the load ran, KiB. */
  readonly serverRssKiB: number | null;
  /** VmHWM (resident peak) at the end of the run, KiB. */
  readonly serverHwmKiB: number | null;
}

export interface Workload {
  readonly section: RunSection;
  readonly method: string;
  readonly size: number;
  readonly conns: number;
  readonly depth: number;
  readonly rate: number;
  /** The load client; absent = bench/loadgen. */
  readonly client?: LoadClientName;
}

export function failedRun(w: Workload, contender: string, rep: number, error: string, readyLine: string | null = null): RpcRunRecord {
  return {
    section: w.section, method: w.method, size: w.size, conns: w.conns, rate: w.rate, depth: w.depth, client: w.client ?? "loadgen",
    contender, rep, ok: false, error, serverReadyLine: readyLine, rps: 0, requests: 0, latencyUs: null,
    serverCpuPct: null, loadgenCpuPct: null, loadgenSaturated: false, loadgenErrors: 0, otherCpuPct: null,
    syscallsPerRequest: null, serverRssKiB: null, serverHwmKiB: null,
  };
}
