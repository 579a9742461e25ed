/**
 * The RPC servers the matrix compares: every one serves bench.v1.Bench
 * (bench/bench.ridl) over docs/PROTOCOL.md and prints
 * `listening on 127.0.0.1:P driver=<d> workers=<n>` (the uring-floor
 * contender serves echo only). This file owns how to
 * build each one, its command line and which CPUs it is pinned to; process
 * handling is bench/echo/server-process.ts, measuring is run-once.ts.
 */
import { BuildError, once, PROJECT_ROOT, runBuild, type Contender } from "../echo/contenders.ts";

export interface RpcContender extends Contender {
  /** taskset CPU list for the server; null = the runner's --server-cpu. */
  readonly serverCpus: string | null;
}

const BUN = `${PROJECT_ROOT}node_modules/.bin/bun`;
const TOKIO_SERVER = `${PROJECT_ROOT}bench/tokio/target/release/rpc_server`;

const prepareRingrpc = once(() => runBuild("ringrpc (scripts/setup.sh)", ["bash", `${PROJECT_ROOT}scripts/setup.sh`], PROJECT_ROOT));
const prepareTokio = once(() => {
  if (Bun.which("cargo") === null) {
    if (Bun.file(TOKIO_SERVER).size > 0) return; // built earlier; nothing to rebuild with
    throw new BuildError("cargo not found: install Rust, then run `bash bench/tokio/setup.sh`");
  }
  // setup.sh checks the offline crate sources and runs cargo build --release --offline (a no-op when up to date).
  runBuild("the Tokio RPC server (bench/tokio/setup.sh)", ["bash", `${PROJECT_ROOT}bench/tokio/setup.sh`], `${PROJECT_ROOT}bench/tokio`, {
    note: "cargo build --release --offline: about a minute the first time, then well under a second",
  });
});
const preparePeer = once(() => {
  if (Bun.file(`${PROJECT_ROOT}bench/peers/bun-listen-rpc.ts`).size === 0) {
    throw new BuildError("bench/peers/bun-listen-rpc.ts is missing: the Bun.listen RPC peer is not in this checkout");
  }
});

/** ringrpc's own bench server on one driver; workers > 1 spreads them over CPUs 0..workers-1. */
export function ringrpcContender(driver: "uring" | "epoll", workers = 1): RpcContender {
  return {
    name: workers === 1 ? `ringrpc-${driver}` : `ringrpc-${driver}-w${workers}`,
    prepare: prepareRingrpc,
    command: (port) => [BUN, `${PROJECT_ROOT}bench/server/server.ts`, "--port", String(port), "--workers", String(workers), "--driver", driver],
    readyMustMatch: new RegExp(`\\bdriver=${driver}\\b.*\\bworkers=${workers}\\b`),
    serverCpus: workers === 1 ? null : Array.from({ length: workers }, (_, i) => i).join(","),
  };
}

function tokioContender(currentThread: boolean): RpcContender {
  return {
    name: currentThread ? "tokio-ct" : "tokio",
    prepare: prepareTokio,
    command: (port) => [TOKIO_SERVER, "--port", String(port), "--workers", "1", ...(currentThread ? ["--current-thread"] : [])],
    serverCpus: null,
  };
}

/**
 * The floor (bench/floor/server.ts): echo only, on ringrpc's io_uring runtime
 * and codecs with none of the framework around them; what the framework
 * costs is the gap between it and ringrpc-uring.
 */
function floorContender(): RpcContender {
  return {
    name: "uring-floor",
    prepare: prepareRingrpc,
    command: (port) => [BUN, `${PROJECT_ROOT}bench/floor/server.ts`, "--port", String(port)],
    readyMustMatch: /\bdriver=uring-floor\b/,
    serverCpus: null,
  };
}

/** The Bun.listen peer: msgpackr encoding (the baseline), or its hand-written encoder. */
function bunListenContender(encoder: "msgpackr" | "direct"): RpcContender {
  return {
    name: encoder === "msgpackr" ? "bun-listen" : "bun-listen-direct",
    prepare: preparePeer,
    command: (port) => [BUN, `${PROJECT_ROOT}bench/peers/bun-listen-rpc.ts`, "--port", String(port), "--encoder", encoder],
    readyMustMatch: /\bdriver=bun-listen\b/,
    serverCpus: null,
  };
}

export const RPC_CONTENDERS: readonly RpcContender[] = [
  ringrpcContender("uring"),
  ringrpcContender("epoll"),
  tokioContender(false),
  tokioContender(true),
  bunListenContender("msgpackr"),
  bunListenContender("direct"),
  floorContender(),
];

/** Contenders that serve the echo method only (left out of a run of another method). */
export const ECHO_ONLY: ReadonlySet<string> = new Set(["uring-floor"]);

/** Ratios are taken against the first of these with a clean median (tokio, else tokio-ct), and against bun-listen. */
export const TOKIO_BASELINES = ["tokio", "tokio-ct"] as const;
export const BUN_BASELINE = "bun-listen";
