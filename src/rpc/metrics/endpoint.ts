/**
 * The metrics endpoint of serve(): a Bun.serve HTTP server on the main
 * thread (never in a worker) answering GET /metrics with the Prometheus
 * text of every worker's counters. Each scrape asks every worker for its
 * report through the launcher (Supervisor.report(): a postMessage each, or
 * IPC to each child in the supervised mode) and sums them
 * (aggregate.ts): the workers keep their counters to themselves, nothing
 * is shared and nothing is locked. Owns the HTTP side and the Supervisor
 * that also stops it.
 */
import type { Supervisor, WorkerProcessInfo, WorkerReport, WorkerThreadInfo } from "../../runtime/launch-api.ts";
import { type Logger, resolveLogger } from "../../runtime/log/logger.ts";
import type { DriverChoice } from "../../runtime/select.ts";
import { MetricsAggregator } from "./aggregate.ts";
import { callFamilies, type Family, RUNTIME_FAMILIES, SERVER_FAMILIES } from "./catalog.ts";
import { EXPOSITION_CONTENT_TYPE, exposition } from "./exposition.ts";

export const SERVER_METRIC_FAMILIES: readonly Family[] = [...callFamilies("grpc_server"), ...SERVER_FAMILIES, ...RUNTIME_FAMILIES];

export interface MetricsEndpointOptions {
  /** Port of the HTTP endpoint (0: an ephemeral one, see the handle's metricsPort). */
  port: number;
  /** Address it listens on (default 127.0.0.1). */
  host?: string;
  /** Path of the scrape (default /metrics). */
  path?: string;
  /** How long a scrape waits for each worker (default 2000 ms); a late worker's counters keep their last value. */
  scrapeTimeoutMs?: number;
}

/** serve()'s handle when metrics are on: the Supervisor plus where the endpoint listens. */
export interface MeteredSupervisor extends Supervisor {
  readonly metricsPort: number;
}

/**
 * Starts the endpoint for `sup` (`supervised`: its workers run in child
 * processes, so runtime series also get a process label); rejects, after
 * stopping `sup`, when the port cannot be bound.
 */
export async function startMetricsEndpoint(sup: Supervisor, opts: MetricsEndpointOptions, supervised: boolean, logger: Logger): Promise<MeteredSupervisor> {
  const host = opts.host ?? "127.0.0.1";
  const path = opts.path ?? "/metrics";
  const aggregator = new MetricsAggregator();
  const timeoutMs = opts.scrapeTimeoutMs ?? 2000;
  let http: ReturnType<typeof Bun.serve>;
  try {
    http = Bun.serve({
      hostname: host,
      port: opts.port,
      async fetch(req) {
        const url = new URL(req.url);
        if (url.pathname !== path) return new Response(`not found: metrics are at ${path}\n`, { status: 404 });
        if (req.method !== "GET" && req.method !== "HEAD") return new Response("method not allowed\n", { status: 405 });
        const reports = await sup.report(timeoutMs);
        const text = exposition(SERVER_METRIC_FAMILIES, aggregator.aggregate(reports, supervised));
        return new Response(text, { headers: { "content-type": EXPOSITION_CONTENT_TYPE } });
      },
    });
  } catch (e) {
    await sup.stop();
    throw new Error(`metrics: cannot listen on ${host}:${opts.port}: ${e instanceof Error ? e.message : String(e)}`);
  }
  const port = http.port ?? opts.port;
  logger.info({ event: "metrics_listening", host, port, path }, `metrics on http://${host}:${port}${path}`);
  return new EndpointSupervisor(sup, http, port);
}

/**
 * The endpoint for any launch() server whose workers report workerMetrics()
 * (examples/echo/server.ts): runtime series for a bare runtime, all of them
 * for an RPC server. Logs where it listens to `logger` (default: ringrpc's
 * text logger on stderr).
 */
export function serveMetrics(sup: Supervisor, opts: MetricsEndpointOptions & { logger?: Logger }): Promise<MeteredSupervisor> {
  const supervised = sup.processes.some((p) => p.pid !== process.pid);
  return startMetricsEndpoint(sup, opts, supervised, resolveLogger(opts));
}

/** The launcher's Supervisor, whose stop() also closes the endpoint. */
class EndpointSupervisor implements MeteredSupervisor {
  constructor(
    private readonly sup: Supervisor,
    private readonly http: { stop(force?: boolean): unknown },
    readonly metricsPort: number,
  ) {}

  get host(): string {
    return this.sup.host;
  }
  get port(): number {
    return this.sup.port;
  }
  get workers(): number {
    return this.sup.workers;
  }
  get choice(): DriverChoice {
    return this.sup.choice;
  }
  get threads(): readonly WorkerThreadInfo[] {
    return this.sup.threads;
  }
  get processes(): readonly WorkerProcessInfo[] {
    return this.sup.processes;
  }
  get restarts(): number {
    return this.sup.restarts;
  }
  report(timeoutMs?: number): Promise<WorkerReport[]> {
    return this.sup.report(timeoutMs);
  }
  async stop(): Promise<void> {
    void this.http.stop(true);
    await this.sup.stop();
  }
}
