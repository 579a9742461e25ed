/**
 * The benchmark server: bench/bench.ridl served by ringrpc on every worker.
 *   bun bench/server/server.ts --port P --workers N [--driver uring|epoll] [--no-validate] [--processes P]
 * Prints `listening on 127.0.0.1:P driver=<driver> workers=<N>` when ready
 * (with ` processes=<P>` in the supervised mode: P child processes of N
 * workers each).
 */
import { bindBench } from "../gen/bench.ts";
import { intFlag, parseArgs } from "../../src/cli/args.ts";
import type { DriverRequest } from "../../src/runtime/select.ts";
import { serve } from "../../src/serve.ts";
import { BenchService } from "./service.ts";

const args = parseArgs(process.argv.slice(2), { values: ["port", "workers", "driver", "host", "processes"], booleans: ["no-validate"] });
const workers = args.flags.get("workers") ?? "1";
const validate = !args.bools.has("no-validate");
try {
  const processes = args.flags.has("processes") ? { processes: intFlag(args, "processes", 1, 1, 1024) } : {};
  const sup = await serve(() => [bindBench(new BenchService(), { validate })], {
    host: args.flags.get("host") ?? "127.0.0.1",
    port: intFlag(args, "port", 7200, 0, 65535),
    workers: workers === "auto" ? "auto" : intFlag(args, "workers", 1, 1, 1024),
    driver: (args.flags.get("driver") ?? "auto") as DriverRequest,
    ...processes,
  });
  const supervised = processes.processes === undefined ? "" : ` processes=${processes.processes}`;
  if (sup) console.log(`listening on ${sup.host}:${sup.port} driver=${sup.choice.driver} workers=${sup.workers}${supervised}`);
} catch (err) {
  console.error(`bench server: ${(err as Error).message}`);
  process.exit(1);
}
