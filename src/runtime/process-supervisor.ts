/**
 * The supervised mode's parent (launch({ processes: P })): owns the life of
 * P child processes, each running the same script with its own Workers
 * (supervised-child.ts). It holds the port (port-reservation.ts) so every
 * child listens on the same one with SO_REUSEPORT, starts the children,
 * logs one line per death with its exit code or signal, restarts a child
 * that dies unexpectedly after a back-off (restart-backoff.ts), and stops
 * them all gracefully: SIGTERM, then SIGKILL after the grace. A crash of one
 * child (a fault in the native shim, a SIGKILL, the OOM killer) leaves the
 * others serving. Serves nothing itself.
 */
import type { Subprocess } from "bun";
import { availableParallelism } from "node:os";
import {
  type LaunchOptions, resolveProcessCount, type Supervisor, workersPerProcess, type WorkerProcessInfo, type WorkerReport, type WorkerThreadInfo,
} from "./launch-api.ts";
import { type Logger, resolveLogger } from "./log/logger.ts";
import { type PortReservation, reservePort } from "./port-reservation.ts";
import { type BackoffPolicy, defaultBackoff, RestartBackoff } from "./restart-backoff.ts";
import { chooseDriver, type DriverChoice } from "./select.ts";
import { type ChildMessage, childEnv, type ChildSpec, type SupervisorMessage } from "./supervised-child.ts";

/** A child that failed before it was ready, rebuilt in the supervisor by name/code. */
export class ProcessStartError extends Error {
  override readonly name = "ProcessStartError";
  constructor(readonly index: number, readonly code: string, message: string) {
    super(message);
  }
}

interface Child {
  readonly index: number;
  readonly cpus: number[];
  readonly backoff: RestartBackoff;
  readonly info: WorkerProcessInfo;
  proc: Subprocess | null;
  startedAt: number;
  threads: WorkerThreadInfo[];
  line: string;
  failure: { code: string; message: string } | null;
  restartTimer: ReturnType<typeof setTimeout> | null;
}

export class ProcessSupervisor implements Supervisor {
  readonly host: string;
  readonly port: number;
  readonly workers: number;
  choice: DriverChoice;
  readonly graceMs: number;
  readonly logger: Logger;
  private readonly opts: LaunchOptions;
  private readonly entry: string;
  private readonly policy: BackoffPolicy;
  private readonly reservation: PortReservation;
  private readonly children: Child[] = [];
  private started = false;
  private stopping: Promise<void> | null = null;
  private reportSeq = 0;
  /** Report answers awaited, by `${seq}:${child}`. */
  private readonly reportWaiters = new Map<string, (reports: WorkerReport[]) => void>();

  constructor(opts: LaunchOptions, policy: BackoffPolicy = defaultBackoff) {
    const count = resolveProcessCount(opts.processes ?? 1);
    this.opts = opts;
    this.host = opts.host ?? "127.0.0.1";
    this.workers = workersPerProcess(opts.workers, count);
    this.graceMs = opts.graceMs ?? 5000;
    this.logger = resolveLogger(opts);
    this.entry = opts.entry ?? Bun.main;
    this.policy = policy;
    this.choice = chooseDriver(opts.driver, { tls: opts.tlsListeners === true });
    this.reservation = reservePort(this.host, opts.port ?? 0);
    this.port = this.reservation.port;
    const n = Math.max(1, availableParallelism());
    const base = opts.cpus && opts.cpus.length > 0 ? opts.cpus : Array.from({ length: n }, (_, i) => i);
    for (let p = 0; p < count; p++) {
      this.children.push({
        index: p,
        // Child p's workers take the next `workers` CPUs, so P x W workers spread like W x P threads would.
        cpus: Array.from({ length: this.workers }, (_, i) => base[(p * this.workers + i) % base.length]!),
        backoff: new RestartBackoff(policy),
        info: { index: p, pid: 0, serving: false, restarts: 0 },
        proc: null, startedAt: 0, threads: [], line: "", failure: null, restartTimer: null,
      });
    }
  }

  get threads(): readonly WorkerThreadInfo[] {
    return this.children.flatMap((c) => (c.info.serving ? c.threads : []));
  }

  get processes(): readonly WorkerProcessInfo[] {
    return this.children.map((c) => c.info);
  }

  get restarts(): number {
    return this.children.reduce((n, c) => n + c.info.restarts, 0);
  }

  /** Starts every child at once (the port is already held); rejects, with every child stopped, if one fails. */
  async start(): Promise<void> {
    const results = await Promise.allSettled(this.children.map((c) => this.spawn(c)));
    const failed = results.find((r) => r.status === "rejected");
    if (failed) {
      await this.stop();
      throw failed.reason;
    }
    this.started = true;
    this.choice = { ...this.choice, line: this.children[0]!.line || this.choice.line };
    const pids = this.children.map((c) => c.info.pid).join(", ");
    this.logger.info(
      {
        event: "start", driver: this.choice.driver, processes: this.children.length, workers: this.workers, host: this.host, port: this.port,
        pids: this.children.map((c) => c.info.pid),
      },
      `supervising ${count(this.children.length, "process", "processes")} x ${count(this.workers, "worker", "workers")} on ${this.host}:${this.port} (pids ${pids})`,
    );
  }

  private spawn(c: Child): Promise<void> {
    const spec: ChildSpec = {
      index: c.index, processes: this.children.length, port: this.port, workers: this.workers, cpus: c.cpus, driver: this.choice.driver,
      graceMs: this.graceMs,
    };
    c.failure = null;
    c.startedAt = performance.now();
    return new Promise<void>((resolve, reject) => {
      let ready = false;
      let proc: Subprocess;
      try {
        // The child re-runs this script with its arguments, so it parses its flags alike.
        proc = Bun.spawn([process.execPath, ...process.execArgv, this.entry, ...process.argv.slice(2)], {
          env: { ...process.env, ...childEnv(spec) },
          stdin: "ignore",
          stdout: "inherit",
          stderr: "inherit",
          ipc: (msg: ChildMessage) => {
            if (msg.type === "ready") {
              ready = true;
              c.threads = msg.threads;
              c.line = msg.line;
              c.info.serving = true;
              resolve();
            } else if (msg.type === "failed") {
              c.failure = { code: msg.code, message: msg.message };
            } else if (msg.type === "report") {
              const key = `${msg.seq}:${c.index}`;
              this.reportWaiters.get(key)?.(msg.reports.map((r) => ({ ...r, process: c.index })));
              this.reportWaiters.delete(key);
            }
          },
        });
      } catch (e) {
        // No process at all (fork failed: EAGAIN, ENOMEM, ...): a death like any other, back-off included.
        const why = `could not be started: ${(e as Error).message}`;
        reject(new ProcessStartError(c.index, "PROCESS_SPAWN", `process ${c.index} ${why}`));
        this.onExit(c, `process ${c.index} ${why}`, false);
        return;
      }
      c.proc = proc;
      c.info.pid = proc.pid;
      void proc.exited.then(() => {
        c.proc = null;
        c.info.serving = false;
        c.threads = [];
        const who = `process ${c.index} (pid ${proc.pid})`;
        const how = proc.signalCode ? `killed by ${proc.signalCode}` : `exited with code ${proc.exitCode}`;
        if (!ready) {
          const why = c.failure ? `failed to start: ${c.failure.message}` : `${how} before it was ready`;
          reject(new ProcessStartError(c.index, c.failure?.code ?? "PROCESS_EXITED", `${who} ${why}`));
        }
        this.onExit(c, `${who} ${how}${ready ? "" : ` before it was ready${c.failure ? ` (${c.failure.message})` : ""}`}`, ready);
      });
    });
  }

  /** A child died (`what` says how): log it and, unless stopping, plan its restart. */
  private onExit(c: Child, what: string, wasReady: boolean): void {
    // One that never got ready during start() fails start() instead.
    if (this.stopping || (!this.started && !wasReady)) return;
    const lived = performance.now() - c.startedAt;
    const death = `${what} after ${seconds(lived)}`;
    const fields = { event: "process_exit", process: c.index, pid: c.info.pid, livedMs: Math.round(lived) };
    if (this.opts.restart === false) {
      this.logger.error(fields, `${death}; not restarted (restart: false)`);
      return;
    }
    const plan = c.backoff.afterDeath(lived);
    c.info.restarts++;
    this.logger.error({ ...fields, restartInMs: plan.delayMs, restarts: c.info.restarts }, `${death}; restarting in ${plan.delayMs} ms (restart ${c.info.restarts})`);
    if (plan.loopStarted) {
      this.logger.error(
        { event: "crash_loop", process: c.index, quickDeaths: plan.quickDeaths, restartEveryMs: plan.delayMs },
        `process ${c.index} is crash-looping: ${plan.quickDeaths} deaths in a row, each within ${seconds(this.policy.stableMs)} of its start; ` +
          `restarting it every ${plan.delayMs} ms until one lives ${seconds(this.policy.stableMs)} (its own lines above say why it dies)`,
      );
    }
    const diedAt = performance.now();
    c.restartTimer = setTimeout(() => {
      c.restartTimer = null;
      if (this.stopping) return;
      this.spawn(c).then(
        () => {
          const ms = Math.round(performance.now() - diedAt);
          this.logger.info(
            { event: "process_restart", process: c.index, pid: c.info.pid, downMs: ms, restarts: c.info.restarts },
            `process ${c.index} serving again (pid ${c.info.pid}), ${ms} ms after its death`,
          );
        },
        () => {}, // its death is logged and handled by onExit
      );
    }, plan.delayMs);
  }

  stop(): Promise<void> {
    this.stopping ??= this.stopAll();
    return this.stopping;
  }

  /** Asks every serving child for its Workers' reports over IPC (each child asks its Workers within most of timeoutMs). */
  report(timeoutMs = 2000): Promise<WorkerReport[]> {
    const seq = ++this.reportSeq;
    const asks = this.children.map((c) => {
      const proc = c.proc;
      if (proc === null || !c.info.serving || this.stopping) return Promise.resolve([]);
      return new Promise<WorkerReport[]>((resolve) => {
        const key = `${seq}:${c.index}`;
        const timer = setTimeout(() => {
          this.reportWaiters.delete(key);
          resolve([]);
        }, timeoutMs);
        this.reportWaiters.set(key, (reports) => {
          clearTimeout(timer);
          resolve(reports);
        });
        try {
          proc.send({ type: "report", seq, timeoutMs: Math.max(1, timeoutMs - 250) } satisfies SupervisorMessage);
        } catch {
          // The child is exiting (its IPC channel is closed): it is left out of this report.
          clearTimeout(timer);
          this.reportWaiters.delete(key);
          resolve([]);
        }
      });
    });
    return Promise.all(asks).then((rs) => rs.flat());
  }

  private async stopAll(): Promise<void> {
    const t0 = performance.now();
    for (const c of this.children) {
      if (c.restartTimer !== null) clearTimeout(c.restartTimer);
      c.restartTimer = null;
    }
    await Promise.all(this.children.map((c) => (c.proc ? this.stopChild(c, c.proc) : undefined)));
    this.reservation.release();
    if (!this.started) return; // a failed start() is reported by its rejection
    const ms = Math.round(performance.now() - t0);
    this.logger.info({ event: "stop", processes: this.children.length, durationMs: ms }, `stopped ${count(this.children.length, "process", "processes")} in ${ms} ms`);
  }

  /** SIGTERM (the child drains within graceMs), then SIGKILL if it is still there 2 s after the grace. */
  private async stopChild(c: Child, proc: Subprocess): Promise<void> {
    proc.kill("SIGTERM");
    let timer: ReturnType<typeof setTimeout> | undefined;
    const late = await Promise.race([
      proc.exited.then(() => false),
      new Promise<boolean>((resolve) => { timer = setTimeout(() => resolve(true), this.graceMs + 2000); }),
    ]);
    clearTimeout(timer);
    if (!late) return;
    this.logger.warn(
      { event: "process_kill", process: c.index, pid: proc.pid, afterMs: this.graceMs + 2000 },
      `process ${c.index} (pid ${proc.pid}) still running ${this.graceMs + 2000} ms after SIGTERM: SIGKILL`,
    );
    proc.kill("SIGKILL");
    await proc.exited;
  }
}

function count(n: number, one: string, many: string): string {
  return `${n} ${n === 1 ? one : many}`;
}

function seconds(ms: number): string {
  return `${(ms / 1000).toFixed(ms < 10_000 ? 2 : 1)} s`;
}
