/**
 * --scaling: ringrpc-uring with one worker (CPU 0) against two workers (CPUs 0
 * and 1) at depth 32. The load generator stays on CPU 1, so with two workers
 * it shares that core with the second worker: the table says so. Owns the
 * pair, the workload and the caption.
 */
import { runInterleaved } from "./interleaved-runs.ts";
import { markdownMatrixTable } from "./matrix-table.ts";
import { ringrpcContender } from "./rpc-contenders.ts";
import type { RpcRunRecord, Workload } from "./rpc-run-record.ts";
import type { RunSetup } from "./run-once.ts";

export const SCALING_DEPTH = 32;
export const SCALING_CONTENDERS = [{ ...ringrpcContender("uring", 1), name: "ringrpc-uring-w1" }, ringrpcContender("uring", 2)];

export function scalingWorkload(method: string, size: number, conns: number): Workload {
  return { section: "scaling", method, size, conns, depth: SCALING_DEPTH, rate: 0 };
}

export function scalingCaption(loadgenCpu: number): string {
  return `ringrpc-uring-w2 runs workers on CPUs 0 and 1 while the load generator is pinned to CPU ${loadgenCpu}: ` +
    `on this 2-core machine the generator shares a core with the second worker, so this shows how the runtime spreads, not clean 2-core scaling.`;
}

export async function runScaling(setup: RunSetup, w: Workload, reps: number, onRun: (r: RpcRunRecord) => void): Promise<RpcRunRecord[]> {
  return runInterleaved(setup, SCALING_CONTENDERS, [w], reps, new Map(), onRun);
}

export function scalingTable(runs: readonly RpcRunRecord[]): string {
  return markdownMatrixTable(runs, SCALING_DEPTH, SCALING_CONTENDERS.map((c) => c.name), [{ candidates: ["ringrpc-uring-w1"] }]);
}
