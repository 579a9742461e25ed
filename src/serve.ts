/**
 * serve(): the multi-core RPC server in one call. On the main thread it is
 * the supervisor (src/runtime/launcher.ts): one Worker per core, each running
 * this same script. Inside each Worker it builds the services, binds them to
 * an RPC server (src/rpc/server.ts) on that worker's own runtime and its own
 * SO_REUSEPORT listener (shared with its sibling workers; the launcher has
 * checked that no other process serves the port unless `reusePort: true`),
 * and on shutdown drains gracefully (GOAWAY, in-flight calls finish within
 * the grace period, new calls get UNAVAILABLE), after turning the health
 * service NOT_SERVING. Each worker also offers the built-in health and
 * reflection services (src/services/builtin.ts).
 * With `processes: P` the main thread supervises P child processes instead
 * (src/runtime/process-supervisor.ts), each running this same script with
 * its own Workers, so a crash stays in one process.
 * With `tls`, the options are checked on the main thread before any worker
 * starts (a mistake is one line), a certificate out of its dates is
 * reported there, and the driver must carry TLS: epoll (docs/DEPLOY.md).
 * With `metrics`, the main thread also serves the Prometheus endpoint
 * (src/rpc/metrics/endpoint.ts), and each worker answers its scrapes.
 */
import type { ServiceBinding } from "./rpc/descriptor.ts";
import { startMetricsEndpoint, type MetricsEndpointOptions } from "./rpc/metrics/endpoint.ts";
import { workerMetrics } from "./rpc/metrics/worker-report.ts";
import { type BuiltinServiceOptions, withBuiltinServices } from "./services/builtin.ts";
import { createRpcServer, type ServerOptions } from "./rpc/server.ts";
import { launch, type LaunchOptions, type Supervisor, type WorkerContext } from "./runtime/launcher.ts";
import { CHILD_ENV } from "./runtime/supervised-child.ts";
import { certificateWarnings } from "./runtime/tls-config.ts";
import type { TlsServerOptions } from "./runtime/types.ts";
import { isMainThread } from "node:worker_threads";
import { resolveLogger, withFields } from "./runtime/log/logger.ts";

/** serve()'s `metrics`: where the Prometheus endpoint listens, and the histogram's bounds. */
export interface ServeMetricsOptions extends MetricsEndpointOptions {
  /** Upper bounds of grpc_server_handling_seconds, in seconds (default DEFAULT_BUCKETS). */
  buckets?: readonly number[];
}

/** `reflection` and `health` (default true) add the built-in services (src/services/builtin.ts). */
export interface ServeOptions extends ServerOptions, BuiltinServiceOptions, Omit<LaunchOptions, "data" | "tlsListeners"> {
  /** Serve TLS: `{ cert, key, ca?, requireClientCert? }`, PEM text (docs/DEPLOY.md, "TLS"). Runs on the epoll driver. */
  tls?: TlsServerOptions;
  /** Serve Prometheus metrics over HTTP from the main thread, summed over every worker (docs/RPC.md, "Metrics"). */
  metrics?: ServeMetricsOptions;
}

/** What serve() resolves with on the main thread: the Supervisor, and the metrics endpoint's port when metrics are on. */
export type ServeHandle = Supervisor & { readonly metricsPort?: number };

/** Services, or a function that builds them (called once per worker, never on the main thread). */
export type ServicesSource = readonly ServiceBinding[] | ((ctx: WorkerContext) => ServiceBinding[] | Promise<ServiceBinding[]>);

/**
 * Starts the server on every worker. Resolves with the Supervisor on the main
 * thread once every worker listens (supervised: once every child does), and
 * with null inside the workers and inside a supervised child.
 */
export async function serve(services: ServicesSource, opts: ServeOptions = {}): Promise<ServeHandle | null> {
  const metrics = opts.metrics;
  const tls = opts.tls;
  if (tls !== undefined && isMainThread && process.env[CHILD_ENV] === undefined) {
    // Throws TlsConfigError naming the option; a dated certificate only warns: clients say why they refuse it.
    const log = opts.log ?? ((line: string) => process.stderr.write(`ringrpc: ${line}\n`));
    for (const line of certificateWarnings(tls)) log(line);
  }
  const sup = await launch({ ...opts, tlsListeners: tls !== undefined }, async (ctx) => {
    const user = typeof services === "function" ? await services(ctx) : [...services];
    const { bindings, health } = withBuiltinServices(user, opts);
    const logger = withFields(resolveLogger(opts), { worker: ctx.index });
    const server = createRpcServer(ctx.runtime, bindings, { ...opts, logger, metrics: metrics === undefined ? false : metrics });
    const listener = await ctx.runtime.listen({ host: ctx.host, port: ctx.port, reusePort: true, ...(tls === undefined ? {} : { tls }) });
    void server.serve(listener);
    return {
      port: listener.port,
      async stop(graceMs: number) {
        if (health !== null) {
          // NOT_SERVING first, and one turn of the loop for watchers to send it, so they hear it before the GOAWAY.
          health.drain();
          await new Promise((resolve) => setTimeout(resolve, 0));
        }
        await server.shutdown(graceMs);
        await listener.close();
      },
      ...(metrics === undefined ? {} : { report: workerMetrics(ctx.runtime, server) }),
    };
  });
  if (sup === null || metrics === undefined) return sup;
  return startMetricsEndpoint(sup, metrics, opts.processes !== undefined, resolveLogger(opts));
}
