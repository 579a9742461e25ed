/**
 * The benchmark server: bench/bench.ridl served by ringrpc on every worker.
 *   bun bench/server/server.ts --port P --workers N [--driver uring|epoll] [--no-validate] [--processes P]
 *                              [--metrics-port M] [--log-format text|json]
 * Prints `listening on 127.0.0.1:P driver=<driver> workers=<N>` when ready
 * (with ` processes=<P>` in the supervised mode: P child processes of N
 * workers each, and ` metrics=<M>` when --metrics-port serves Prometheus
 * metrics: how the cost of metrics is measured, bench/RESULTS.md).
 */
import { bindBench } from "../gen/bench.ts";
import { intFlag, parseArgs, UsageError } from "../../src/cli/args.ts";
import type { DriverRequest } from "../../src/runtime/select.ts";
import { serve } from "../../src/serve.ts";
import { BenchService } from "./service.ts";

const args = parseArgs(process.argv.slice(2), {
  values: ["port", "workers", "driver", "host", "processes", "metrics-port", "log-format"],
  booleans: ["no-validate"],
});
const workers = args.flags.get("workers") ?? "1";
const validate = !args.bools.has("no-validate");
try {
  const processes = args.flags.has("processes") ? { processes: intFlag(args, "processes", 1, 1, 1024) } : {};
  const metrics = args.flags.has("metrics-port") ? { metrics: { port: intFlag(args, "metrics-port", 0, 0, 65535) } } : {};
  const logFormat = args.flags.get("log-format") ?? "text";
  if (logFormat !== "text" && logFormat !== "json") throw new UsageError(`--log-format must be text or json (got "${logFormat}")`);
  const sup = await serve(() => [bindBench(new BenchService(), { validate })], {
    host: args.flags.get("host") ?? "127.0.0.1",
    port: intFlag(args, "port", 7200, 0, 65535),
    workers: workers === "auto" ? "auto" : intFlag(args, "workers", 1, 1, 1024),
    driver: (args.flags.get("driver") ?? "auto") as DriverRequest,
    logFormat,
    ...processes,
    ...metrics,
  });
  const supervised = processes.processes === undefined ? "" : ` processes=${processes.processes}`;
  const metricsAt = sup?.metricsPort === undefined ? "" : ` metrics=${sup.metricsPort}`;
  if (sup) console.log(`listening on ${sup.host}:${sup.port} driver=${sup.choice.driver} workers=${sup.workers}${supervised}${metricsAt}`);
} catch (err) {
  console.error(`bench server: ${(err as Error).message}`);
  process.exit(1);
}
