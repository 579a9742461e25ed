#!/usr/bin/env bun
/**
 * The `ringrpc` command: dispatches to its subcommands. Each subcommand lives
 * in its own file and returns an exit code (0 ok, 1 failure, 2 usage).
 */
import pkg from "../../package.json" with { type: "json" };

const usage = `ringrpc ${pkg.version}: thread-per-core RPC for Bun over io_uring

usage: ringrpc <command> [options]

commands:
  gen [files|dirs] --out DIR   generate TypeScript stubs from .ridl files (see docs/CODEGEN.md)
  check-compat <files> --against <git-ref|file|dir>
                               report breaking schema changes, wire or generated code (--help)
  list TARGET [SERVICE]        list a server's services, or one service's methods (reflection)
  describe TARGET SYMBOL       show a service, a SERVICE/METHOD or a type as .ridl
  call TARGET SERVICE/METHOD [JSON]
                               call a method with JSON in and out (see docs/RPC.md, "Operating")
  health TARGET [SERVICE]      print SERVING or why not; exit 0 only when SERVING
                               (list, describe, call, health: TARGET is HOST:PORT,
                               HOST:PORT,HOST:PORT,... or dns:///NAME:PORT; --tls, --tls-ca FILE,
                               --tls-cert FILE --tls-key FILE, --tls-server-name NAME)
  doctor                       show io_uring support, limits and which driver would run
  bench [options]              run the benchmark matrix (see bench/README.md)
  version                      print the version
`;

async function run(argv: string[]): Promise<number> {
  const [cmd, ...rest] = argv;
  switch (cmd) {
    case "gen":
      return (await import("./gen.ts")).runGen(rest);
    case "check-compat":
      return (await import("./check-compat.ts")).runCheckCompat(rest);
    case "list":
      return (await import("./list.ts")).runList(rest);
    case "describe":
      return (await import("./describe.ts")).runDescribe(rest);
    case "call":
      return (await import("./call.ts")).runCall(rest);
    case "health":
      return (await import("./health.ts")).runHealth(rest);
    case "doctor":
      return (await import("./doctor.ts")).runDoctor();
    case "bench":
      return (await import("./bench.ts")).runBench(rest);
    case "version":
    case "--version":
      console.log(pkg.version);
      return 0;
    case undefined:
    case "help":
    case "--help":
    case "-h":
      process.stdout.write(usage);
      return cmd === undefined ? 2 : 0;
    default:
      process.stderr.write(`ringrpc: unknown command "${cmd}"\n\n${usage}`);
      return 2;
  }
}

try {
  process.exitCode = await run(process.argv.slice(2));
} catch (err) {
  const e = err as { name?: string; message?: string };
  process.stderr.write(`ringrpc: ${e.message ?? String(err)}\n`);
  process.exitCode = e.name === "UsageError" ? 2 : 1;
}
