/**
 * The load clients a run can use against a server: bench/loadgen (C, epoll,
 * the matrix's default) and the JS client (bench/js-client: ringrpc's own
 * client) on each driver. Both are pinned to the load-generator CPU and print
 * the same JSON report. Owns each client's command line and which driver it
 * must report; measuring is run-once.ts.
 */
import { PROJECT_ROOT } from "../echo/contenders.ts";
import { startLoadgen, startReportingClient, type LoadgenRun } from "../echo/loadgen-client.ts";

export const JS_CLIENTS = ["js-uring", "js-epoll"] as const;
export type JsClientName = (typeof JS_CLIENTS)[number];
export type LoadClientName = "loadgen" | JsClientName;

export interface LoadSpec {
  readonly loadgen: string;
  readonly port: number;
  readonly cpu: number;
  readonly conns: number;
  readonly size: number;
  readonly depth: number;
  readonly method: string;
  readonly rate: number;
  readonly durationS: number;
  readonly warmupS: number;
}

const BUN = `${PROJECT_ROOT}node_modules/.bin/bun`;
/** Bun start, runtime creation, connecting and the client's own drain limit, on top of warm-up + window. */
const JS_CLIENT_SLACK_MS = 20_000;

/** The driver a JS client runs on (its report must say so), or null for the native generator. */
export function clientDriver(client: LoadClientName): "uring" | "epoll" | null {
  return client === "loadgen" ? null : client === "js-uring" ? "uring" : "epoll";
}

export function startLoadClient(client: LoadClientName, s: LoadSpec): LoadgenRun {
  const driver = clientDriver(client);
  if (driver === null) {
    return startLoadgen({
      binary: s.loadgen, port: s.port, cpu: s.cpu, conns: s.conns, size: s.size, depth: s.depth,
      durationS: s.durationS, warmupS: s.warmupS, prefix: [], mode: "rpc", method: s.method, rate: s.rate,
    });
  }
  if (s.rate > 0) throw new Error(`${client} has no fixed-rate mode`);
  const argv = [
    "taskset", "-c", String(s.cpu), BUN, `${PROJECT_ROOT}bench/js-client/main.ts`,
    "--host", "127.0.0.1", "--port", String(s.port), "--cpu", String(s.cpu), "--conns", String(s.conns), "--depth", String(s.depth),
    "--method", s.method, "--size", String(s.size), "--duration", String(s.durationS), "--warmup", String(s.warmupS),
  ];
  return startReportingClient(client, argv, { RINGRPC_DRIVER: driver }, (s.durationS + s.warmupS) * 1000 + JS_CLIENT_SLACK_MS, true);
}
