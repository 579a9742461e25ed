/**
 * The launcher's public shapes: the options of launch() and serve(), what a
 * worker's main gets and returns, the Supervisor handle the main thread gets
 * back, and the rules that turn `workers`/`processes` into counts. Both
 * supervisors (threads: launcher.ts, processes: process-supervisor.ts) and
 * the supervised child (supervised-child.ts) share them; no behaviour here.
 */
import { availableParallelism } from "node:os";
import type { Logger, LogFormat } from "./log/logger.ts";
import type { DriverChoice, DriverRequest } from "./select.ts";
import type { DriverName, Runtime } from "./types.ts";

export interface WorkerContext {
  readonly index: number;
  readonly workers: number;
  /** CPU this worker is pinned to, or null when pinning was not possible. */
  readonly cpu: number | null;
  readonly runtime: Runtime;
  readonly driver: DriverName;
  readonly host: string;
  /** The port to listen on (0 for the first worker of an ephemeral server). */
  readonly port: number;
  /** LaunchOptions.data, structured-cloned from the main thread. */
  readonly data: unknown;
}

/** What a worker's main returns once it serves. */
export interface WorkerService {
  readonly port: number;
  /** Stop accepting, let in-flight work finish within graceMs, then close. */
  stop(graceMs: number): Promise<void>;
  /** What this worker answers when its supervisor asks (Supervisor.report(), e.g. a metrics scrape): structured-cloneable. */
  report?(): unknown;
}

/** One worker's answer to Supervisor.report(). */
export interface WorkerReport {
  /** The supervised child it runs in (0 when not supervised). */
  readonly process: number;
  readonly worker: number;
  /** What its WorkerService.report() returned (null when it has none). */
  readonly data: unknown;
}

export interface LaunchOptions {
  /** Workers per process (default "auto": one per CPU, or CPUs / processes when supervised). */
  workers?: "auto" | number;
  /** CPUs to pin worker i to (cpus[i % cpus.length]); default 0..n-1. Supervised: child p takes the next `workers` of them. */
  cpus?: number[];
  driver?: DriverRequest;
  host?: string;
  port?: number;
  graceMs?: number;
  /** Passed to every worker's context (must be structured-cloneable). */
  data?: unknown;
  /** The workers listen with TLS (serve()'s `tls` sets it): the driver must carry TLS, so "auto" picks epoll and "uring" fails (docs/DEPLOY.md, "TLS"). */
  tlsListeners?: boolean;
  /** Where supervisor events go, pino-compatible (default: one line per event on stderr in `logFormat`). */
  logger?: Logger;
  /** The format of the default logger's lines: "text" (logfmt, default) or "json". */
  logFormat?: LogFormat;
  /** Older form of `logger`: receives each event's message alone, without its fields. */
  log?: (line: string) => void;
  /** Restart workers (and, supervised, child processes) that die (default true). */
  restart?: boolean;
  /** Install SIGINT/SIGTERM handlers that stop and exit 0 (default true). */
  handleSignals?: boolean;
  /** Script each Worker (and, supervised, each child process) runs (default: Bun.main, the script that called launch). */
  entry?: string;
  /**
   * Supervised mode: run P child processes, each with its own Workers, all on
   * one port (SO_REUSEPORT), and restart a child that dies (docs/RPC.md,
   * "Fault isolation: supervised mode"). Omitted: the Workers run in this
   * process, and a fatal crash of one takes the whole server down.
   */
  processes?: number;
  /**
   * Share the port with other processes' SO_REUSEPORT listeners (another
   * server already on it then gets part of the connections). Default false:
   * start-up fails with PortInUse when another process listens on the port
   * (port-claim.ts). The supervised mode passes it to its own children, which
   * join the port their supervisor holds.
   */
  reusePort?: boolean;
}

export interface Supervisor {
  readonly host: string;
  readonly port: number;
  /** Workers per process. */
  readonly workers: number;
  /** The driver choice; its line, once started, also carries the workers' ring and wake modes. */
  readonly choice: DriverChoice;
  /** Thread ids and pinning of the running workers (supervised: of every serving child). */
  readonly threads: readonly WorkerThreadInfo[];
  /** The processes that serve: this one alone, or the supervised children by index. */
  readonly processes: readonly WorkerProcessInfo[];
  /** Restarts so far: of Workers in this process, or, supervised, of child processes. */
  readonly restarts: number;
  /** Stops every worker (supervised: every child) gracefully. Resolves when all have exited. */
  stop(): Promise<void>;
  /**
   * Asks every serving worker (supervised: in every child) for its
   * WorkerService.report() and resolves with the answers; a worker that does
   * not answer within timeoutMs (busy in a long synchronous handler, being
   * restarted) is left out.
   */
  report(timeoutMs?: number): Promise<WorkerReport[]>;
}

export interface WorkerThreadInfo {
  index: number;
  cpu: number | null;
  tid: number;
  restarts: number;
}

export interface WorkerProcessInfo {
  index: number;
  /** The current process id (the last one while a restart is pending). */
  pid: number;
  /** True from the child's ready handshake until it exits. */
  serving: boolean;
  restarts: number;
}

export function resolveWorkerCount(workers: "auto" | number | undefined): number {
  if (workers === undefined || workers === "auto") return Math.max(1, availableParallelism());
  if (!Number.isInteger(workers) || workers < 1) throw new RangeError(`workers must be "auto" or a positive integer (got ${workers})`);
  return workers;
}

export function resolveProcessCount(processes: number): number {
  if (!Number.isInteger(processes) || processes < 1 || processes > 1024) {
    throw new RangeError(`processes must be an integer in [1, 1024] (got ${processes})`);
  }
  return processes;
}

/** Workers in each of P supervised processes: "auto" shares the CPUs out, at least one each. */
export function workersPerProcess(workers: "auto" | number | undefined, processes: number): number {
  if (workers === undefined || workers === "auto") return Math.max(1, Math.floor(availableParallelism() / processes));
  return resolveWorkerCount(workers);
}
