/**
 * Raw echo server on the thread-per-core runtime: every byte read is written
 * back. Usage:
 *   bun examples/echo/server.ts --port P --workers N [--driver uring|epoll] [--host H] [--processes P] [--reuse-port] [--metrics-port M]
 * Prints `listening on HOST:P driver=<driver> workers=<N>` once every worker
 * is ready (with ` processes=<P>` in the supervised mode: P child processes
 * of N workers each, and ` metrics=<M>` when --metrics-port serves each
 * worker's runtime metrics, its ring, loop and buffers, on
 * http://127.0.0.1:M/metrics: no RPC here, so no call metrics). Each connection is served Monoio-style with owned buffers:
 * `read(buf)` hands the buffer to the kernel and gets it back, `writeAll`
 * sends it back out.
 */
import { serveMetrics, workerMetrics } from "ringrpc/rpc";
import { type Conn, type DriverRequest, launch, type WorkerContext, type WorkerService } from "ringrpc/runtime";
import { intFlag, readFlags, UsageError } from "../flags.ts";

const CHUNK = 64 * 1024;

async function serveConn(ctx: WorkerContext, conn: Conn, open: Set<Conn>): Promise<void> {
  open.add(conn);
  let buf = ctx.runtime.buffers.acquire(CHUNK);
  try {
    for (;;) {
      const r = await conn.read(buf);
      buf = r.buf;
      if (r.res <= 0) break;
      const w = await conn.writeAll(buf.subarray(0, r.res));
      if (w.res < 0) break;
    }
  } finally {
    ctx.runtime.buffers.release(buf);
    open.delete(conn);
    await conn.close();
  }
}

async function workerMain(ctx: WorkerContext): Promise<WorkerService> {
  // reusePort: every worker has its own listener on the one port.
  const listener = await ctx.runtime.listen({ host: ctx.host, port: ctx.port, reusePort: true });
  const open = new Set<Conn>();
  let accepting = true;
  void (async () => {
    while (accepting) {
      let conn: Conn;
      try {
        conn = await listener.accept();
      } catch {
        break; // listener closed
      }
      conn.setNoDelay(true);
      void serveConn(ctx, conn, open);
    }
  })();
  return {
    port: listener.port,
    async stop(graceMs: number) {
      accepting = false;
      await listener.close();
      const deadline = Date.now() + graceMs;
      while (open.size > 0 && Date.now() < deadline) await ctx.runtime.sleep(10);
      await Promise.all([...open].map((c) => c.close()));
    },
    // Answers the metrics endpoint's scrapes (an unasked report costs nothing).
    report: workerMetrics(ctx.runtime),
  };
}

function main(argv: string[]): { port: number; workers: number | "auto"; driver: DriverRequest; host: string; reusePort: boolean; processes?: number; metricsPort?: number } {
  const args = readFlags(argv, ["port", "workers", "driver", "host", "processes", "metrics-port"], ["reuse-port"]);
  const w = args.get("workers") ?? "auto";
  const driver = args.get("driver") ?? "auto";
  if (driver !== "uring" && driver !== "epoll" && driver !== "auto") throw new UsageError(`--driver must be uring, epoll or auto (got "${driver}")`);
  return {
    port: intFlag(args, "port", 7000, 0, 65535),
    workers: w === "auto" ? "auto" : intFlag(args, "workers", 1, 1, 1024),
    driver,
    host: args.get("host") ?? "127.0.0.1",
    reusePort: args.has("reuse-port"),
    ...(args.get("processes") === undefined ? {} : { processes: intFlag(args, "processes", 1, 1, 1024) }),
    ...(args.get("metrics-port") === undefined ? {} : { metricsPort: intFlag(args, "metrics-port", 0, 0, 65535) }),
  };
}

try {
  const { metricsPort, ...opts } = main(process.argv.slice(2));
  const sup = await launch({ ...opts }, workerMain);
  const supervised = opts.processes === undefined ? "" : ` processes=${opts.processes}`;
  const metrics = sup === null || metricsPort === undefined ? null : await serveMetrics(sup, { port: metricsPort });
  if (sup) console.log(`listening on ${sup.host}:${sup.port} driver=${sup.choice.driver} workers=${sup.workers}${supervised}${metrics ? ` metrics=${metrics.metricsPort}` : ""}`);
} catch (err) {
  const e = err as Error;
  console.error(`echo server: ${e.message}`);
  process.exit(e.name === "UsageError" ? 2 : 1);
}
