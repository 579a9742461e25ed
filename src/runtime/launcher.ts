/**
 * Thread-per-core launcher. On the main thread, launch() becomes the
 * supervisor: it picks the driver once, checks that no other process serves
 * the port (port-claim.ts; skipped with `reusePort: true`), starts one Bun
 * Worker per CPU running the same entry script, one after another (the first
 * binds the port, the others join it with SO_REUSEPORT), waits for each ready handshake, restarts
 * a worker that dies, and on SIGINT/SIGTERM stops them gracefully and exits 0.
 * Inside a Worker, launch() pins the thread to its CPU, creates that
 * worker's own runtime (its own io_uring ring), runs the given main and
 * reports ready. Nothing is shared between workers: no locks.
 * With `processes`, launch() instead hands the main thread to the process
 * supervisor (process-supervisor.ts), and in each child it supervises that
 * child's Workers as above (supervised-child.ts).
 */
import { availableParallelism } from "node:os";
import { isMainThread, parentPort } from "node:worker_threads";
import { pinCurrentThread } from "./affinity.ts";
import { chooseDriver, createRuntimeFor, type DriverChoice, type DriverRequest } from "./select.ts";
import {
  type LaunchOptions, resolveWorkerCount, type Supervisor, type WorkerContext, type WorkerProcessInfo, type WorkerReport, type WorkerService, type WorkerThreadInfo,
} from "./launch-api.ts";
import { claimPort } from "./port-claim.ts";
import { type Logger, resolveLogger, withFields } from "./log/logger.ts";
import { setRuntimeLogger } from "./log/runtime-log.ts";
import { ProcessSupervisor } from "./process-supervisor.ts";
import { startupLine } from "./startup-line.ts";
import { childSpecFromEnv, serveAsChild } from "./supervised-child.ts";
import type { DriverName, Runtime, WakeStats } from "./types.ts";

export type { LaunchOptions, Supervisor, WorkerContext, WorkerProcessInfo, WorkerReport, WorkerService, WorkerThreadInfo } from "./launch-api.ts";
export { resolveProcessCount, resolveWorkerCount, workersPerProcess } from "./launch-api.ts";
export { ProcessStartError } from "./process-supervisor.ts";

type ToWorker =
  | { type: "init"; index: number; workers: number; cpu: number; driver: DriverName; host: string; port: number; data: unknown }
  | { type: "stop"; graceMs: number }
  | { type: "report"; seq: number };

type FromWorker =
  | { type: "ready"; port: number; tid: number; pinned: boolean; wake: WakeStats | undefined }
  | { type: "failed"; name: string; code: string; message: string }
  | { type: "stopped" }
  | { type: "report"; seq: number; data: unknown };

/** What a worker past the first one that cannot bind the port must do. */
const SHARE_HINT = "every worker must listen with reusePort: true (ctx.runtime.listen({ host: ctx.host, port: ctx.port, reusePort: true }))";

/** Error a worker reported during start-up, rebuilt on the main thread by name/code. */
export class WorkerStartError extends Error {
  override readonly name = "WorkerStartError";
  constructor(readonly index: number, readonly code: string, message: string) {
    super(message);
  }
}

/**
 * Starts the thread-per-core server. Returns the Supervisor on the main
 * thread, and null inside a Worker (where it runs `main`) and inside a
 * supervised child process (where it serves instead of supervising).
 */
export async function launch(opts: LaunchOptions, main: (ctx: WorkerContext) => Promise<WorkerService>): Promise<Supervisor | null> {
  if (!isMainThread) {
    runWorker(opts, main);
    return null;
  }
  const child = childSpecFromEnv();
  if (child !== null) {
    await serveAsChild(child, opts, startThreads);
    return null;
  }
  if (opts.processes !== undefined) {
    // The supervisor's port reservation is what later servers' checks run
    // into, so the check and the reservation happen under one claim.
    const claim = opts.reusePort === true ? null : await claimPort(opts.host ?? "127.0.0.1", opts.port ?? 0);
    let sup: ProcessSupervisor;
    try {
      sup = new ProcessSupervisor(opts);
    } finally {
      claim?.release();
    }
    await sup.start();
    if (opts.handleSignals !== false) stopOnSignals(sup, `${sup.processes.length} processes`);
    return sup;
  }
  return startThreads(opts);
}

async function startThreads(opts: LaunchOptions): Promise<Supervisor> {
  const sup = new WorkerSupervisor(opts);
  await sup.start();
  if (opts.handleSignals !== false) stopOnSignals(sup, `${sup.workers} workers`);
  return sup;
}

/** SIGINT/SIGTERM: stop gracefully, then exit 0. */
function stopOnSignals(sup: Supervisor & { logger: Logger; graceMs: number }, what: string): void {
  const onSignal = (sig: string) => {
    sup.logger.info({ event: "stopping", signal: sig, graceMs: sup.graceMs }, `${sig}: stopping ${what} (grace ${sup.graceMs} ms)`);
    void sup.stop().then(() => process.exit(0));
  };
  process.once("SIGINT", () => onSignal("SIGINT"));
  process.once("SIGTERM", () => onSignal("SIGTERM"));
}

class WorkerSupervisor implements Supervisor {
  readonly host: string;
  port: number;
  readonly workers: number;
  choice: DriverChoice;
  readonly graceMs: number;
  readonly threads: WorkerThreadInfo[] = [];
  readonly logger: Logger;
  private readonly opts: LaunchOptions;
  private readonly cpus: number[];
  private readonly entry: string;
  private readonly live: (Worker | null)[] = [];
  private readonly wakes: (WakeStats | undefined)[] = [];
  private stopping: Promise<void> | null = null;
  private reportSeq = 0;
  /** Report answers awaited, by `${seq}:${worker}`. */
  private readonly reportWaiters = new Map<string, (data: unknown) => void>();

  constructor(opts: LaunchOptions) {
    this.opts = opts;
    this.host = opts.host ?? "127.0.0.1";
    this.port = opts.port ?? 0;
    this.workers = resolveWorkerCount(opts.workers);
    this.graceMs = opts.graceMs ?? 5000;
    this.logger = resolveLogger(opts);
    const n = Math.max(1, availableParallelism());
    this.cpus = opts.cpus && opts.cpus.length > 0 ? opts.cpus : Array.from({ length: this.workers }, (_, i) => i % n);
    this.entry = opts.entry ?? Bun.main;
    this.choice = chooseDriver(opts.driver, { tls: opts.tlsListeners === true });
  }

  async start(): Promise<void> {
    // One server per port: held until worker 0 listens, whose listener then
    // fails every later server's check (port-claim.ts).
    const claim = this.opts.reusePort === true ? null : await claimPort(this.host, this.port);
    try {
      for (let i = 0; i < this.workers; i++) {
        this.threads.push({ index: i, cpu: null, tid: 0, restarts: 0 });
        this.live.push(null);
        this.wakes.push(undefined);
        // One after another: worker 0 may bind an ephemeral port the rest join.
        await this.spawn(i);
        claim?.release();
      }
    } finally {
      claim?.release();
    }
    this.choice = { ...this.choice, line: startupLine(this.choice, this.wakes) };
    const wake = this.wakes.find((w) => w !== undefined);
    this.logger.info(
      {
        event: "start", driver: this.choice.driver, ringMode: wake?.ringMode, wakeMode: wake?.wakeMode,
        workers: this.workers, host: this.host, port: this.port,
      },
      this.choice.line,
    );
  }

  private spawn(index: number): Promise<void> {
    const cpu = this.cpus[index % this.cpus.length] ?? index;
    // Workers see the script's own arguments, so a script parses them alike
    // on every thread (Bun appends `argv` to the Worker's process.argv).
    const worker = new Worker(this.entry, { argv: process.argv.slice(2) });
    this.live[index] = worker;
    const info = this.threads[index]!;
    return new Promise<void>((resolve, reject) => {
      let ready = false;
      worker.addEventListener("message", (e: MessageEvent<FromWorker>) => {
        const msg = e.data;
        if (msg.type === "ready") {
          ready = true;
          if (this.port === 0) this.port = msg.port;
          info.cpu = msg.pinned ? cpu : null;
          info.tid = msg.tid;
          this.wakes[index] = msg.wake;
          resolve();
        } else if (msg.type === "failed") {
          // Past worker 0 the port was checked and worker 0 holds it: a
          // worker that cannot bind it (or worker 0) did not ask to share it.
          const why = index > 0 && msg.code === "EADDRINUSE"
            ? `it cannot listen on ${this.host}:${this.port} beside worker 0 (EADDRINUSE): ${SHARE_HINT}`
            : msg.message;
          reject(new WorkerStartError(index, msg.code, `worker ${index} failed to start: ${why}`));
        } else if (msg.type === "report") {
          const key = `${msg.seq}:${index}`;
          this.reportWaiters.get(key)?.(msg.data);
          this.reportWaiters.delete(key);
        }
      });
      worker.addEventListener("error", (e: ErrorEvent) => {
        this.logger.error({ event: "worker_error", worker: index, cpu, err: e.message }, `worker ${index} (cpu ${cpu}) error: ${e.message}`);
      });
      worker.addEventListener("close", (e: Event) => {
        const code = (e as CloseEvent).code;
        this.live[index] = null;
        if (!ready) {
          reject(new WorkerStartError(index, "WORKER_EXITED", `worker ${index} exited with code ${code} before it was ready`));
          return;
        }
        if (this.stopping || this.opts.restart === false) return;
        info.restarts++;
        const delay = Math.min(5000, 100 * 2 ** Math.min(info.restarts - 1, 6));
        this.logger.error(
          { event: "worker_exit", worker: index, cpu, exitCode: code, restartInMs: delay, restarts: info.restarts },
          `worker ${index} (cpu ${cpu}) exited with code ${code}; restarting in ${delay} ms (restart ${info.restarts})`,
        );
        setTimeout(() => {
          if (this.stopping) return;
          this.spawn(index).then(
            () => this.logger.info({ event: "worker_restart", worker: index, cpu, restarts: info.restarts }, `worker ${index} (cpu ${cpu}) restarted`),
            (err: Error) => this.logger.error({ event: "worker_restart_failed", worker: index, err: err.message }, `worker ${index} restart failed: ${err.message}`),
          );
        }, delay);
      });
      const init: ToWorker = {
        type: "init", index, workers: this.workers, cpu, driver: this.choice.driver,
        host: this.host, port: this.port, data: this.opts.data,
      };
      worker.postMessage(init);
    });
  }

  get processes(): readonly WorkerProcessInfo[] {
    return [{ index: 0, pid: process.pid, serving: true, restarts: 0 }];
  }

  get restarts(): number {
    return this.threads.reduce((n, t) => n + t.restarts, 0);
  }

  stop(): Promise<void> {
    this.stopping ??= this.stopAll();
    return this.stopping;
  }

  report(timeoutMs = 2000): Promise<WorkerReport[]> {
    const seq = ++this.reportSeq;
    const asks = this.live.map((w, worker) => {
      if (w === null || this.stopping) return Promise.resolve(null);
      return new Promise<WorkerReport | null>((resolve) => {
        const key = `${seq}:${worker}`;
        const timer = setTimeout(() => {
          this.reportWaiters.delete(key);
          resolve(null);
        }, timeoutMs);
        this.reportWaiters.set(key, (data) => {
          clearTimeout(timer);
          resolve({ process: 0, worker, data });
        });
        w.postMessage({ type: "report", seq } satisfies ToWorker);
      });
    });
    return Promise.all(asks).then((rs) => rs.filter((r) => r !== null));
  }

  private async stopAll(): Promise<void> {
    const t0 = performance.now();
    const waits = this.live.map((w) => {
      if (!w) return Promise.resolve();
      return new Promise<void>((resolve) => {
        const kill = setTimeout(() => { w.terminate(); resolve(); }, this.graceMs + 2000);
        w.addEventListener("close", () => { clearTimeout(kill); resolve(); });
        w.postMessage({ type: "stop", graceMs: this.graceMs } satisfies ToWorker);
      });
    });
    await Promise.all(waits);
    const ms = Math.round(performance.now() - t0);
    this.logger.info({ event: "stop", workers: this.workers, durationMs: ms }, `stopped ${this.workers} worker${this.workers === 1 ? "" : "s"} in ${ms} ms`);
  }
}

/** Worker side of the handshake. */
function runWorker(opts: LaunchOptions, main: (ctx: WorkerContext) => Promise<WorkerService>): void {
  let runtime: Runtime | null = null;
  let service: WorkerService | null = null;
  const port = parentPort;
  if (!port) throw new Error("launch(): no parent port in this worker");
  const reply = (msg: FromWorker) => port.postMessage(msg);
  port.on("message", async (msg: ToWorker) => {
    if (msg.type === "init") {
      try {
        // The script's own options (it ran launch() with them in this Worker too): its runtime logs where the script logs.
        setRuntimeLogger(withFields(resolveLogger(opts), { worker: msg.index }));
        const pin = pinCurrentThread(msg.cpu);
        runtime = await createRuntimeFor(msg.driver);
        service = await main({
          index: msg.index, workers: msg.workers, cpu: pin.ok ? msg.cpu : null, runtime,
          driver: msg.driver, host: msg.host, port: msg.port, data: msg.data,
        });
        reply({ type: "ready", port: service.port, tid: pin.tid, pinned: pin.ok, wake: runtime.stats().wake });
      } catch (err) {
        const e2 = err as { name?: string; code?: string; message?: string };
        reply({ type: "failed", name: e2.name ?? "Error", code: String(e2.code ?? "WORKER_START"), message: e2.message ?? String(err) });
        await runtime?.close();
        process.exit(1);
      }
    } else if (msg.type === "report") {
      let data: unknown = null;
      try {
        data = service?.report?.() ?? null;
      } catch (err) {
        data = { error: err instanceof Error ? err.message : String(err) };
      }
      reply({ type: "report", seq: msg.seq, data });
    } else if (msg.type === "stop") {
      try {
        await service?.stop(msg.graceMs);
      } finally {
        await runtime?.close();
        reply({ type: "stopped" });
        process.exit(0);
      }
    }
  });
}
