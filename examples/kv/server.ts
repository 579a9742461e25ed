/**
 * The kv example server on every core. Usage:
 *   bun examples/kv/server.ts [--port 7100] [--workers auto|N] [--driver uring|epoll] [--processes P] [--no-reflection] [--reuse-port]
 *                             [--metrics-port M] [--log-format text|json] [--expose-errors]
 *                             [--tls-cert FILE --tls-key FILE [--tls-client-ca FILE]]
 * Prints `listening on 127.0.0.1:P driver=<driver> workers=<N>` when ready
 * (with ` processes=<P>` in the supervised mode: P child processes of N
 * workers each, a dead one restarted; docs/RPC.md, "Fault isolation"; and
 * ` metrics=<M>` when --metrics-port serves Prometheus metrics on
 * http://127.0.0.1:M/metrics; docs/RPC.md, "Metrics"). Logs go to stderr,
 * one line per event (docs/RPC.md, "Logs").
 * `--no-reflection` serves without the reflection service (then `ringrpc
 * call` needs `--idl examples/kv/kv.ridl`). `--tls-cert`/`--tls-key` (PEM
 * files) serve TLS, on the epoll driver; `--tls-client-ca` also requires
 * every client to show a certificate signed by that CA (mutual TLS).
 * A port another process serves is refused in one line; `--reuse-port`
 * shares it with that process on purpose (docs/RPC.md, "One server per port").
 */
import { readFileSync } from "node:fs";
import { type DriverRequest, serve, type TlsServerOptions } from "ringrpc";
import { intFlag, logFormatFlag, readFlags } from "../flags.ts";
import { bindKeyValue } from "./gen/kv.ts";
import { KvStore } from "./store.ts";

const args = readFlags(process.argv.slice(2), ["port", "workers", "driver", "host", "processes", "metrics-port", "log-format", "tls-cert", "tls-key", "tls-client-ca"], ["no-reflection", "reuse-port", "expose-errors"]);
const workers = args.get("workers") ?? "auto";

/** `--tls-cert`, `--tls-key` and `--tls-client-ca` as serve()'s tls option, or nothing. */
function tlsFromFlags(): { tls?: TlsServerOptions } {
  const cert = args.get("tls-cert");
  const key = args.get("tls-key");
  const clientCa = args.get("tls-client-ca");
  if (cert === undefined && key === undefined && clientCa === undefined) return {};
  if (cert === undefined || key === undefined) throw new Error("--tls-cert and --tls-key go together (PEM files: the certificate chain and its key)");
  const read = (path: string) => readFileSync(path, "utf8");
  const tls: TlsServerOptions = { cert: read(cert), key: read(key) };
  if (clientCa !== undefined) Object.assign(tls, { ca: read(clientCa), requireClientCert: true });
  return { tls };
}

try {
  const processes = args.get("processes") === undefined ? {} : { processes: intFlag(args, "processes", 1, 1, 1024) };
  const metrics = args.get("metrics-port") === undefined ? {} : { metrics: { port: intFlag(args, "metrics-port", 0, 0, 65535) } };
  const sup = await serve(() => [bindKeyValue(new KvStore())], {
    host: args.get("host") ?? "127.0.0.1",
    port: intFlag(args, "port", 7100, 0, 65535),
    workers: workers === "auto" ? "auto" : intFlag(args, "workers", 1, 1, 1024),
    driver: (args.get("driver") ?? "auto") as DriverRequest,
    logFormat: logFormatFlag(args),
    exposeErrors: args.has("expose-errors"),
    reflection: !args.has("no-reflection"),
    reusePort: args.has("reuse-port"),
    ...processes,
    ...metrics,
    ...tlsFromFlags(),
  });
  const supervised = processes.processes === undefined ? "" : ` processes=${processes.processes}`;
  const metricsAt = sup?.metricsPort === undefined ? "" : ` metrics=${sup.metricsPort}`;
  if (sup) console.log(`listening on ${sup.host}:${sup.port} driver=${sup.choice.driver} workers=${sup.workers}${supervised}${metricsAt}`);
} catch (err) {
  console.error(`kv server: ${(err as Error).message}`);
  process.exit(1);
}
