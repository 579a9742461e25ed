/**
 * Runs a series of workloads over the contenders interleaved: for each
 * workload, repetition 1 of A B C, then repetition 2 of A B C, ... so slow
 * drifts on the machine hit every contender alike. A contender whose build
 * failed, or that failed to start twice in a row, is recorded as failed for
 * the rest of the series instead of stopping it.
 */
import type { RpcContender } from "./rpc-contenders.ts";
import { failedRun, type RpcRunRecord, type Workload } from "./rpc-run-record.ts";
import { runOnce, type RunSetup } from "./run-once.ts";

const MAX_START_FAILURES = 2;

export async function runInterleaved(
  setup: RunSetup,
  contenders: readonly RpcContender[],
  workloads: readonly Workload[],
  reps: number,
  broken: Map<string, string>,
  onRun: (r: RpcRunRecord) => void,
): Promise<RpcRunRecord[]> {
  const runs: RpcRunRecord[] = [];
  const startFailures = new Map<string, number>();
  for (const w of workloads) {
    for (let rep = 1; rep <= reps; rep++) {
      for (const c of contenders) {
        const why = broken.get(c.name);
        const { record, startFailed } = why !== undefined
          ? { record: failedRun(w, c.name, rep, why), startFailed: false }
          : await runOnce(setup, c, w, rep);
        if (why === undefined) {
          const failures = startFailed ? (startFailures.get(c.name) ?? 0) + 1 : 0;
          startFailures.set(c.name, failures);
          if (failures >= MAX_START_FAILURES && record.error !== null) broken.set(c.name, `skipped after ${failures} failed starts: ${record.error}`);
        }
        runs.push(record);
        onRun(record);
      }
    }
  }
  return runs;
}
