/**
 * The 1-connection section of `bun run bench`: every server contender under
 * one connection at depth 1 from bench/loadgen (the latency table a lost
 * wake-up cannot hide in), and the JS client (ringrpc's own client, on each
 * driver) against ringrpc on both drivers and Tokio, next to bench/loadgen on
 * the same server at the same depths. One server process per contender and
 * repetition serves all of its clients in turn (same order for every
 * server); contenders are interleaved over repetitions like the matrix.
 * Owns which runs this section makes; measuring is run-once.ts, tables are
 * latency-table.ts.
 */
import { probeUring } from "../../src/runtime/uring/probe.ts";
import type { JsClientName, LoadClientName } from "./load-clients.ts";
import type { RpcContender } from "./rpc-contenders.ts";
import { failedRun, type RpcRunRecord, type Workload } from "./rpc-run-record.ts";
import { errorText, measureOn, startPinned, type RunSetup } from "./run-once.ts";

export const LATENCY_CONNS = 1;
export const LATENCY_DEPTH = 1;
/** The servers the JS client calls: ringrpc on both drivers and one Tokio (current-thread first, the yardstick). */
const JS_TARGETS = ["ringrpc-uring", "ringrpc-epoll"] as const;
const JS_TOKIO_PREFERENCE = ["tokio-ct", "tokio"] as const;
const MAX_START_FAILURES = 2;

export interface LatencyPlan {
  readonly method: string;
  readonly size: number;
  /** Depths the JS client runs at (bench/loadgen runs at the same ones on the same servers). */
  readonly jsDepths: readonly number[];
  /** JS clients to run; empty = the loadgen depth-1 table only. */
  readonly jsClients: readonly JsClientName[];
}

/** Which of the selected contenders the JS client calls. */
export function jsTargets(contenders: readonly string[]): string[] {
  const tokio = JS_TOKIO_PREFERENCE.find((t) => contenders.includes(t));
  return contenders.filter((c) => (JS_TARGETS as readonly string[]).includes(c) || c === tokio);
}

/** The runs one server gets, in order: loadgen at depth 1, then per JS depth loadgen (if not already) and each JS client. */
export function latencyWorkloads(plan: LatencyPlan, jsTarget: boolean): Workload[] {
  const w = (client: LoadClientName, depth: number): Workload => ({ section: "latency", method: plan.method, size: plan.size, conns: LATENCY_CONNS, depth, rate: 0, client });
  const out = [w("loadgen", LATENCY_DEPTH)];
  if (!jsTarget) return out;
  for (const d of plan.jsDepths) {
    if (d !== LATENCY_DEPTH) out.push(w("loadgen", d));
    for (const c of plan.jsClients) out.push(w(c, d));
  }
  return out;
}

/** Why a JS client cannot run on this machine, or null when it can. */
function clientUnavailable(client: LoadClientName): string | null {
  if (client !== "js-uring") return null;
  const probe = probeUring();
  return probe.ok ? null : `io_uring unavailable here (${probe.reason}): the JS client cannot run on the uring driver`;
}

export async function runLatency(
  setup: RunSetup, contenders: readonly RpcContender[], plan: LatencyPlan, reps: number, broken: Map<string, string>, onRun: (r: RpcRunRecord) => void,
): Promise<RpcRunRecord[]> {
  const runs: RpcRunRecord[] = [];
  const push = (r: RpcRunRecord): void => {
    runs.push(r);
    onRun(r);
  };
  const targets = jsTargets(contenders.map((c) => c.name));
  const startFailures = new Map<string, number>();
  for (let rep = 1; rep <= reps; rep++) {
    for (const c of contenders) {
      const workloads = latencyWorkloads(plan, targets.includes(c.name));
      const why = broken.get(c.name);
      if (why !== undefined) {
        for (const w of workloads) push(failedRun(w, c.name, rep, why));
        continue;
      }
      let server;
      try {
        server = await startPinned(c, setup.serverCpu);
        startFailures.set(c.name, 0);
      } catch (e) {
        const failures = (startFailures.get(c.name) ?? 0) + 1;
        startFailures.set(c.name, failures);
        const error = `failed to start: ${errorText(e)}`;
        if (failures >= MAX_START_FAILURES) broken.set(c.name, `skipped after ${failures} failed starts: ${error}`);
        for (const w of workloads) push(failedRun(w, c.name, rep, error));
        continue;
      }
      try {
        for (const w of workloads) {
          const unavailable = clientUnavailable(w.client ?? "loadgen");
          push(unavailable !== null ? failedRun(w, c.name, rep, unavailable, server.readyLine) : await measureOn(setup, server, c.name, w, rep));
        }
      } finally {
        await server.stop();
      }
    }
  }
  return runs;
}
