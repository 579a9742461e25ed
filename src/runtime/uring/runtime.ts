/**
 * createUringRuntime(): the Runtime of the io_uring driver (src/runtime/
 * types.ts) for the calling thread. Checks the probe, creates the ring and
 * its engine (UringCore) with its wake guard, and exposes listen/connect/
 * timers/defer/stats/close. startUringRuntime() also runs the wake-up
 * self-test (wake-check.ts) and acts on it: a "defer" ring that wakes late is
 * replaced by a "coop" one; a ring that still wakes late in two tests runs
 * with the safe "poll" wake mode. One runtime = one io_uring instance, owned by this thread; close()
 * should be called when done (a Worker's termination runs no native
 * cleanup). The runtime holds the process alive only while it has a socket
 * or an op open (loop.ts), so a process whose channels are closed exits; at
 * that exit, or a process.exit() before close(), the runtime's sockets and
 * ring are still closed synchronously.
 */
import { AcceptBackoff, AcceptCounters } from "../accept-backoff.ts";
import { DriverUnavailable, Errno, IoError, ioError } from "../errors.ts";
import { cString } from "../native.ts";
import type { BufferPool, Conn, ConnectOptions, DriverName, Listener, ListenOptions, OpOptions, Runtime, RuntimeStats, WakeStats } from "../types.ts";
import { UringConn } from "./conn.ts";
import { armAccept } from "./ops/accept.ts";
import { startConnect } from "./ops/connect.ts";
import { UringCore } from "./core.ts";
import { UringListener } from "./listener.ts";
import { ms } from "../startup-line.ts";
import { Feature } from "./abi.ts";
import { probeUring } from "./probe.ts";
import type { RingMode } from "./ring.ts";
import { ringModeFromEnv } from "./ring-mode.ts";
import { IdlePoll, idlePollFromEnv } from "./idle-poll.ts";
import { startDeadline, startSleep } from "./ops/timers.ts";
import { checkWake, LATE_MS, type WakeCheck } from "./wake-check.ts";
import { WakeGuard } from "./wake-guard.ts";
import { runtimeLogger } from "../log/runtime-log.ts";
import { uringTlsReason } from "./ktls.ts";

const TLS_ADVICE = "create this runtime for the epoll driver (createRuntime({ driver: \"epoll\" }); serve({ tls }) picks it itself), or end TLS in a proxy (docs/DEPLOY.md, \"TLS\")";

export interface UringRuntimeOptions {
  /** SQ entries of the ring (default 1024). */
  entries?: number;
  /** Bytes of the owned-buffer arena (default 64 MiB, reserved lazily: untouched pages cost nothing). */
  arenaBytes?: number;
  /** Most provided buffers for streaming reads, a power of two (default 256): the ring grows to this many. */
  bufCount?: number;
  /**
   * Provided buffers the kernel gets at start (default 32, at most bufCount).
   * Each time a read finds them all in use (ENOBUFS), they double, up to
   * bufCount; buffers the kernel never got are never touched (not resident).
   */
  bufInitial?: number;
  /** Bytes per provided buffer, a multiple of 64 (default 8 KiB). */
  bufSize?: number;
  /**
   * Let reads share a provided buffer where the kernel can (6.12+; default
   * true): each read takes only the bytes it needs, so many small segments
   * fill one buffer instead of taking one each. False: a whole buffer per read.
   */
  bufIncremental?: boolean;
  /** COOP_TASKRUN ("coop", default) or DEFER_TASKRUN ("defer"); RINGRPC_RING_MODE sets the default. */
  ringMode?: RingMode;
  /**
   * Microseconds an idle loop keeps polling the ring before it sleeps (0 to
   * 1000; default 0, off; RINGRPC_IDLE_POLL_US sets the default). Trades CPU
   * for the wake-up of an idle core at a moderate load (docs/RUNTIME.md,
   * "Idle poll").
   */
  idlePollUs?: number;
}

export interface UringStartOptions extends UringRuntimeOptions {
  /** Run the wake-up self-test before returning (default true). */
  wakeCheck?: boolean;
}

const DEFAULTS = { entries: 1024, arenaBytes: 64 << 20 };
/**
 * Provided buffers by default, 2 MiB at most either way. A whole buffer per
 * read wants many small ones (256 KiB at start); an incremental ring fills
 * few large ones, and a larger buffer splits fewer reads at its end (each
 * split is one more completion and a frame copied in pieces: 5% of the
 * requests at 8 KiB, within noise at 256 KiB, bench/RESULTS.md 0.17). It
 * starts with two, since the read that fills one goes on in the next.
 */
const WHOLE_BUF_DEFAULTS = { bufCount: 256, bufInitial: 32, bufSize: 8 << 10 };
const INCREMENTAL_BUF_DEFAULTS = { bufCount: 8, bufInitial: 2, bufSize: 256 << 10 };

export class UringRuntime implements Runtime {
  readonly driver: DriverName = "uring";
  readonly buffers: BufferPool;
  /** The engine, for tests and diagnostics. */
  readonly core: UringCore;
  readonly guard: WakeGuard;
  /** The self-test's result (null when it did not run), and the one a replaced "defer" ring failed. */
  wakeCheck: WakeCheck | null = null;
  replacedCheck: WakeCheck | null = null;
  private nextConnId = 1;
  private closing: Promise<void> | null = null;
  private readonly acceptCounters = new AcceptCounters();
  private readonly makeConn = (fd: number): UringConn => {
    const conn = new UringConn(this.core, fd, this.nextConnId++);
    this.core.conns.add(conn);
    return conn;
  };

  private readonly onExit = (): void => this.core.teardownNow();

  constructor(core: UringCore) {
    this.core = core;
    this.buffers = core.pool;
    this.guard = new WakeGuard(core);
    this.guard.recheck = () => checkWake(this);
    process.on("exit", this.onExit);
  }

  /** What the kernel actually set up: "defer" only when DEFER_TASKRUN was granted. */
  get ringModeInUse(): RingMode {
    return (this.core.ring.featureBits & Feature.DEFER_TASKRUN) !== 0 ? "defer" : "coop";
  }

  /** Wraps an open socket fd as a Conn of this runtime; it closes the fd with the Conn. */
  adopt(fd: number): Conn {
    return this.makeConn(fd);
  }

  listen(opts: ListenOptions): Promise<Listener> {
    const core = this.core;
    if (core.closing) return Promise.reject(new IoError(Errno.EBADF, "listen", "runtime is closed"));
    const host = opts.host ?? "127.0.0.1";
    const detail = `${host}:${opts.port}`;
    if (opts.tls !== undefined) return Promise.reject(new IoError(Errno.EOPNOTSUPP, "listen", `TLS on ${detail}: ${uringTlsReason()}; ${TLS_ADVICE}`));
    const fd = core.lib.rr_socket_tcp(host.includes(":") ? 6 : 4);
    if (fd < 0) return Promise.reject(ioError(fd, "socket", detail));
    const r = core.lib.rr_socket_listen(fd, cString(host), opts.port, opts.backlog ?? 1024, opts.reusePort === true ? 1 : 0);
    if (r < 0) {
      core.lib.rr_close(fd);
      return Promise.reject(ioError(r, "listen", detail));
    }
    const port = core.lib.rr_socket_local_port(fd);
    if (port < 0) {
      core.lib.rr_close(fd);
      return Promise.reject(ioError(port, "getsockname", detail));
    }
    const backoff = new AcceptBackoff(`ringrpc uring: accept on ${host}:${port}`, this.acceptCounters);
    const l = new UringListener(core, fd, host, port, backoff, (cfd) => {
      core.lib.rr_socket_nodelay(cfd, 1);
      return this.makeConn(cfd);
    });
    core.listeners.add(l);
    armAccept(core, l);
    return Promise.resolve(l);
  }

  connect(opts: ConnectOptions): Promise<Conn> {
    if (opts.tls !== undefined) {
      return Promise.reject(new IoError(Errno.EOPNOTSUPP, "connect", `TLS to ${opts.host}:${opts.port}: ${uringTlsReason()}; ${TLS_ADVICE}`));
    }
    return startConnect(this.core, opts.host, opts.port, opts.noDelay !== false, opts.signal, this.makeConn) as Promise<Conn>;
  }

  sleep(ms: number, opts?: OpOptions): Promise<void> {
    return startSleep(this.core, ms, opts?.signal);
  }

  timeout<T>(ms: number, op: (signal: AbortSignal) => Promise<T>): Promise<T> {
    return startDeadline(this.core, ms, op);
  }

  defer(fn: () => void): void {
    this.core.loop.defer(fn);
  }

  stats(): RuntimeStats {
    const s = this.core.ring.stats();
    const pool = this.core.pool;
    return {
      steps: s.steps, enters: s.enters, submitted: s.submitted, completed: s.completed, wake: this.wakeStats(), accept: this.acceptCounters.snapshot(),
      buffers: { arenaBytes: pool.size, inUseBytes: pool.inUseBytes, fallbacks: pool.fallbacks, recvNoBuffers: this.core.recvNoBuffers, recvBuffers: this.core.ring.bufActive, recvIncremental: this.core.ring.bufIncremental },
    };
  }

  private wakeStats(): WakeStats {
    const loop = this.core.loop;
    const c = this.wakeCheck;
    const r = this.replacedCheck;
    return {
      ringMode: this.ringModeInUse,
      wakeMode: loop.wakeMode,
      idlePollUs: loop.idlePoll?.windowUs ?? 0,
      ...loop.counters,
      ...this.guard.stats,
      selfTest:
        c === null
          ? null
          : {
              verdict: c.verdict, samples: c.samples, late: c.late, p50Us: c.p50Us, maxUs: c.maxUs,
              replaced: r === null ? null : { samples: r.samples, late: r.late, p50Us: r.p50Us, maxUs: r.maxUs },
            },
    };
  }

  close(): Promise<void> {
    if (this.closing === null) {
      const core = this.core;
      this.guard.disable();
      this.closing = core
        .shutdown(() => {
          for (const l of [...core.listeners]) void l.close();
          for (const c of [...core.conns]) void c.close();
        })
        .finally(() => process.off("exit", this.onExit));
    }
    return this.closing;
  }
}

/**
 * Creates this thread's io_uring runtime and checks that its idle wake-up is
 * on time (see the module doc). Throws DriverUnavailable when io_uring cannot
 * run here.
 */
export async function startUringRuntime(opts: UringStartOptions = {}): Promise<UringRuntime> {
  let rt = createUringRuntime(opts);
  if (process.env.RINGRPC_WAKE_CHECKS === "off") {
    // For measuring a ring mode as it is (bench/RESULTS.md), never for serving.
    rt.guard.disable();
    return rt;
  }
  if (opts.wakeCheck === false) return rt;
  let check = await checkWake(rt);
  if (check.verdict === "late" && rt.ringModeInUse === "defer") {
    await rt.close();
    rt = createUringRuntime({ ...opts, ringMode: "coop" });
    rt.replacedCheck = check;
    check = await checkWake(rt);
  }
  // A coop ring is slow to wake only under a fault or a scheduling burst at
  // start (every worker starting at once): test once more before settling
  // on the poll mode for the life of the runtime.
  if (check.verdict === "late") check = await checkWake(rt);
  rt.wakeCheck = check;
  if (check.verdict === "late") {
    rt.core.loop.wakeMode = "poll";
    runtimeLogger().warn(
      { event: "wake_mode", wakeMode: "poll", reason: "self_test_late", late: check.late, samples: check.samples, maxUs: check.maxUs },
      `io_uring: idle wake-ups are late on this machine (${check.late}/${check.samples} over ${LATE_MS} ms, worst ${ms(check.maxUs)}): bounding idle sleeps with a 1 ms timer; see \`ringrpc doctor\``,
    );
  }
  return rt;
}

/** Creates this thread's io_uring runtime without the wake self-test; throws DriverUnavailable when it cannot run here. */
export function createUringRuntime(opts: UringRuntimeOptions = {}): UringRuntime {
  const probe = probeUring();
  if (!probe.ok) throw new DriverUnavailable("uring", probe.reason);
  const entries = opts.entries ?? DEFAULTS.entries;
  const geometry = opts.bufIncremental !== false && probe.features.includes("BUF_INC") ? INCREMENTAL_BUF_DEFAULTS : WHOLE_BUF_DEFAULTS;
  const bufCount = opts.bufCount ?? geometry.bufCount;
  const bufSize = opts.bufSize ?? geometry.bufSize;
  if (!isPowerOfTwo(bufCount)) throw new RangeError(`bufCount must be a power of two, got ${bufCount}`);
  if (bufSize <= 0 || bufSize % 64 !== 0) throw new RangeError(`bufSize must be a positive multiple of 64, got ${bufSize}`);
  const bufInitial = opts.bufInitial ?? Math.min(geometry.bufInitial, bufCount);
  if (!Number.isInteger(bufInitial) || bufInitial < 1 || bufInitial > bufCount) throw new RangeError(`bufInitial must be an integer from 1 to bufCount (${bufCount}), got ${bufInitial}`);
  const mode = opts.ringMode ?? ringModeFromEnv();
  const idlePollUs = opts.idlePollUs ?? idlePollFromEnv();
  const idlePoll = idlePollUs === 0 ? null : new IdlePoll(idlePollUs);
  const core = new UringCore({
    entries,
    cmdCap: entries * 2,
    evtCap: entries,
    arenaBytes: opts.arenaBytes ?? DEFAULTS.arenaBytes,
    bufCount,
    bufSize,
    bufInitial,
    mode,
    wholeBufs: opts.bufIncremental === false,
  });
  core.loop.idlePoll = idlePoll;
  return new UringRuntime(core);
}

function isPowerOfTwo(n: number): boolean {
  return Number.isInteger(n) && n > 0 && (n & (n - 1)) === 0;
}
