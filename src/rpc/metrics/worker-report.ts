/**
 * What one worker reports to the main thread on each scrape (the
 * WorkerService.report() of serve(): a postMessage answer, or an IPC one in
 * the supervised mode): its server's counters and its runtime's stats, as
 * plain data. `instance` is new for every server, so the main thread tells
 * a restarted worker from one whose counters went backwards. Owns the
 * shapes and the check that an answer has them; nothing is counted here.
 */
import type { Runtime, RuntimeStats } from "../../runtime/types.ts";
import type { MemoryBudgetStats } from "../memory-budget.ts";
import type { CallCountersSnapshot } from "./call-counters.ts";

/** A server's connection-level counters (src/rpc/server.ts), with its call counters when metrics are on. */
export interface ServerMetricsReport {
  /** Null when the server was created without `metrics`. */
  readonly calls: CallCountersSnapshot | null;
  readonly connections: {
    readonly open: number;
    readonly accepted: number;
    readonly refused: number;
    readonly bytesIn: number;
    readonly bytesOut: number;
    /** GOAWAYs sent, by reason name. */
    readonly goAways: Record<string, number>;
    /** Frames (or connections) refused by a limit, by limit name. */
    readonly rejected: Record<string, number>;
  };
  readonly memory: MemoryBudgetStats;
}

export interface WorkerMetricsReport {
  readonly kind: "ringrpc.metrics.v1";
  readonly instance: string;
  readonly driver: string;
  /** Null for a worker without an RPC server (a launch() service: its runtime alone). */
  readonly server: ServerMetricsReport | null;
  readonly runtime: RuntimeStats;
}

export function workerMetricsReport(instance: string, driver: string, server: ServerMetricsReport | null, runtime: RuntimeStats): WorkerMetricsReport {
  return { kind: "ringrpc.metrics.v1", instance, driver, server, runtime };
}

/**
 * What a worker's WorkerService.report returns so that serveMetrics() (or
 * serve()'s `metrics`) exposes it: its runtime's counters, and its RPC
 * server's when it has one. Call it once per worker: the report names the
 * worker's instance, so a restart is told from counters going back.
 */
export function workerMetrics(runtime: Runtime, server: { metricsReport(): ServerMetricsReport } | null = null): () => WorkerMetricsReport {
  const instance = `${process.pid}.${crypto.randomUUID()}`;
  return () => workerMetricsReport(instance, runtime.driver, server === null ? null : server.metricsReport(), runtime.stats());
}

/** True when a worker's answer is a metrics report (a worker without metrics answers null). */
export function isWorkerMetricsReport(data: unknown): data is WorkerMetricsReport {
  return typeof data === "object" && data !== null && (data as { kind?: unknown }).kind === "ringrpc.metrics.v1";
}
