/**
 * serve(): the multi-core RPC server in one call. On the main thread it is
 * the supervisor (src/runtime/launcher.ts): one Worker per core, each running
 * this same script. Inside each Worker it builds the services, binds them to
 * an RPC server (src/rpc/server.ts) on that worker's own runtime and its own
 * SO_REUSEPORT listener, and on shutdown drains gracefully (GOAWAY, in-flight
 * calls finish within the grace period, new calls get UNAVAILABLE), after
 * turning the health service NOT_SERVING. Each worker also offers the
 * built-in health and reflection services (src/services/builtin.ts).
 * With `processes: P` the main thread supervises P child processes instead
 * (src/runtime/process-supervisor.ts), each running this same script with
 * its own Workers, so a crash stays in one process.
 * With `tls`, the options are checked on the main thread before any worker
 * starts (a mistake is one line), a certificate out of its dates is
 * reported there, and the driver must carry TLS: epoll (docs/DEPLOY.md).
 */
import type { ServiceBinding } from "./rpc/descriptor.ts";
import { type BuiltinServiceOptions, withBuiltinServices } from "./services/builtin.ts";
import { createRpcServer, type ServerOptions } from "./rpc/server.ts";
import { launch, type LaunchOptions, type Supervisor, type WorkerContext } from "./runtime/launcher.ts";
import { CHILD_ENV } from "./runtime/supervised-child.ts";
import { certificateWarnings } from "./runtime/tls-config.ts";
import type { TlsServerOptions } from "./runtime/types.ts";
import { isMainThread } from "node:worker_threads";

/** `reflection` and `health` (default true) add the built-in services (src/services/builtin.ts). */
export interface ServeOptions extends ServerOptions, BuiltinServiceOptions, Omit<LaunchOptions, "data" | "tlsListeners"> {
  /** Serve TLS: `{ cert, key, ca?, requireClientCert? }`, PEM text (docs/DEPLOY.md, "TLS"). Runs on the epoll driver. */
  tls?: TlsServerOptions;
}

/** Services, or a function that builds them (called once per worker, never on the main thread). */
export type ServicesSource = readonly ServiceBinding[] | ((ctx: WorkerContext) => ServiceBinding[] | Promise<ServiceBinding[]>);

/**
 * Starts the server on every worker. Resolves with the Supervisor on the main
 * thread once every worker listens (supervised: once every child does), and
 * with null inside the workers and inside a supervised child.
 */
export async function serve(services: ServicesSource, opts: ServeOptions = {}): Promise<Supervisor | null> {
  const tls = opts.tls;
  if (tls !== undefined && isMainThread && process.env[CHILD_ENV] === undefined) {
    // Throws TlsConfigError naming the option; a dated certificate only warns: clients say why they refuse it.
    const log = opts.log ?? ((line: string) => process.stderr.write(`ringrpc: ${line}\n`));
    for (const line of certificateWarnings(tls)) log(line);
  }
  return launch({ ...opts, tlsListeners: tls !== undefined }, async (ctx) => {
    const user = typeof services === "function" ? await services(ctx) : [...services];
    const { bindings, health } = withBuiltinServices(user, opts);
    const server = createRpcServer(ctx.runtime, bindings, opts);
    const listener = await ctx.runtime.listen({ host: ctx.host, port: ctx.port, ...(tls === undefined ? {} : { tls }) });
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
    };
  });
}
