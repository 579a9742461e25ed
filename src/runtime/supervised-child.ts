/**
 * One child process of the supervised mode, and the protocol between it and
 * its supervisor (process-supervisor.ts). The supervisor re-runs the user's
 * own script with RINGRPC_SUPERVISED_CHILD set to this child's spec (index,
 * port, workers, CPUs, driver); launch() in that script sees it and, instead
 * of supervising, starts its Workers on the given port, then reports ready
 * (or why it failed) over Bun's IPC channel. A child stops gracefully on
 * SIGTERM/SIGINT, and also when its supervisor is gone (IPC disconnect), so
 * no child outlives a killed supervisor. Owns only the child's side.
 */
import type { LaunchOptions, Supervisor, WorkerReport, WorkerThreadInfo } from "./launch-api.ts";
import { resolveLogger, withFields } from "./log/logger.ts";
import type { DriverName } from "./types.ts";

export const CHILD_ENV = "RINGRPC_SUPERVISED_CHILD";

export interface ChildSpec {
  index: number;
  processes: number;
  port: number;
  workers: number;
  cpus: number[];
  /** The supervisor's graceMs, so a child drains within what its supervisor waits for. */
  graceMs: number;
  driver: DriverName;
}

/** Child to supervisor, over IPC. */
export type ChildMessage =
  | { type: "ready"; pid: number; port: number; line: string; threads: WorkerThreadInfo[] }
  | { type: "failed"; code: string; message: string }
  | { type: "report"; seq: number; reports: WorkerReport[] };

/** Supervisor to child, over IPC: report your Workers' WorkerService.report() (a metrics scrape). */
export type SupervisorMessage = { type: "report"; seq: number; timeoutMs: number };

/** The environment entry that makes a process the child `spec`. */
export function childEnv(spec: ChildSpec): Record<string, string> {
  return { [CHILD_ENV]: JSON.stringify(spec) };
}

/** This process's spec when a supervisor started it, else null. Throws on a malformed value. */
export function childSpecFromEnv(env: Record<string, string | undefined> = process.env): ChildSpec | null {
  const raw = env[CHILD_ENV];
  if (raw === undefined || raw === "") return null;
  let spec: Partial<ChildSpec> | null = null;
  try {
    spec = JSON.parse(raw) as Partial<ChildSpec>;
  } catch {
    // reported below
  }
  const ok = spec !== null && typeof spec === "object" &&
    [spec.index, spec.processes, spec.port, spec.workers, spec.graceMs].every((n) => Number.isInteger(n)) &&
    Array.isArray(spec.cpus) && (spec.driver === "uring" || spec.driver === "epoll");
  if (!ok) throw new Error(`${CHILD_ENV} is malformed (${raw.slice(0, 80)}): it is set by the process supervisor only; unset it`);
  return spec as ChildSpec;
}

/**
 * Serves as child `spec`: starts the Workers with `startThreads` on the
 * supervisor's port, CPUs and driver, and reports to the supervisor. A start
 * failure is reported and ends the process with code 1.
 */
export async function serveAsChild(
  spec: ChildSpec,
  opts: LaunchOptions,
  startThreads: (opts: LaunchOptions) => Promise<Supervisor>,
): Promise<void> {
  if (typeof process.send !== "function") {
    throw new Error(`${CHILD_ENV} is set but no supervisor started this process (no IPC channel): unset ${CHILD_ENV} to serve on its own`);
  }
  const send = (msg: ChildMessage, then?: () => void) => process.send!(msg, undefined, undefined, then);
  // Its own subprocesses are not the supervisor's children.
  delete process.env[CHILD_ENV];
  const logger = withFields(resolveLogger(opts), { process: spec.index, pid: process.pid }, `process ${spec.index} (pid ${process.pid}): `);
  const { processes: _supervisedByParent, log: _log, ...own } = opts;
  let sup: Supervisor;
  try {
    sup = await startThreads({
      ...own, port: spec.port, workers: spec.workers, cpus: spec.cpus, driver: spec.driver, graceMs: spec.graceMs,
      // The port is the supervisor's (checked once, held by its reservation): every child joins it.
      reusePort: true,
      // SIGTERM is how the supervisor stops a child, whatever the script asked for itself.
      handleSignals: true, logger,
    });
  } catch (err) {
    const e = err as { code?: unknown; message?: string };
    const exit = () => process.exit(1);
    setTimeout(exit, 1000).unref();
    send({ type: "failed", code: String(e.code ?? "PROCESS_START"), message: e.message ?? String(err) }, exit);
    return;
  }
  process.once("disconnect", () => {
    logger.info({ event: "stopping", reason: "supervisor gone", graceMs: spec.graceMs }, `supervisor gone: stopping (grace ${spec.graceMs} ms)`);
    void sup.stop().then(() => process.exit(0));
  });
  process.on("message", (msg: SupervisorMessage) => {
    if (msg?.type !== "report") return;
    void sup.report(msg.timeoutMs).then((reports) => send({ type: "report", seq: msg.seq, reports }));
  });
  send({ type: "ready", pid: process.pid, port: sup.port, line: sup.choice.line, threads: sup.threads.map((t) => ({ ...t })) });
}
