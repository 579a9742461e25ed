/**
 * UringCore: the io_uring driver's engine. Owns the ring, the slot table,
 * the arena buffer pool and the event loop of one runtime, and the generic
 * life of an op: a slot per in-flight op (slot index = user_data),
 * Submitted -> Waiting -> Completed, or Ignored when its caller gave up
 * (cancelled in the kernel, holding its buffer and fd until the completion
 * arrives). What a completion means is the op kind's business: the engine
 * dispatches every completion, give-up and abandon through the op table
 * (ops/table.ts, one file per kind). The public API shapes live in conn.ts,
 * listener.ts and runtime.ts.
 */
import { Errno, ioError } from "../errors.ts";
import { loadNative, type NativeSymbols } from "../native.ts";
import { EVT_BUF_OFF, EVT_FLAGS, EVT_RES, EVT_UD, EVT_WORDS, Op, UD_NONE } from "./abi.ts";
import { ArenaBufferPool } from "./buffer-pool.ts";
import { EventLoop } from "./loop.ts";
import { pushClose } from "./ops/close.ts";
import type { CoreConn, CoreListener, OpCore } from "./ops/op-core.ts";
import { OPS } from "./ops/table.ts";
import { Ring, type RingOptions } from "./ring.ts";
import { SlotFlag, SlotKind, SlotState, SlotTable } from "./slots.ts";
import { runtimeLogger } from "../log/runtime-log.ts";

/** Bound on waiting for the kernel to complete cancelled ops during close(). */
const CLOSE_DRAIN_MS = 2000;

export class UringCore implements OpCore {
  readonly lib: NativeSymbols;
  readonly ring: Ring;
  readonly slots = new SlotTable();
  readonly pool: ArenaBufferPool;
  readonly loop: EventLoop;
  readonly bufSize: number;
  readonly conns = new Set<CoreConn>();
  readonly listeners = new Set<CoreListener>();
  closing = false;
  /** Completions whose user_data named no live slot (should stay 0). */
  strayEvents = 0;
  recvNoBuffers = 0;
  /** The provided buffers the kernel has, for streaming reads (replaced when they grow). */
  bufsView: Uint8Array;
  private drained: (() => void) | null = null;
  private stepErrorReported = false;

  constructor(opts: RingOptions) {
    this.lib = loadNative();
    this.ring = new Ring(opts);
    this.pool = new ArenaBufferPool(opts.arenaBytes, (off, n) => this.ring.wrapArena(off, n));
    this.bufSize = opts.bufSize;
    this.bufsView = new Uint8Array(this.ring.bufs);
    this.loop = new EventLoop(
      this.ring,
      (n) => this.dispatch(n),
      (ud) => this.markSubmitted(ud),
      (e) => this.reportError(e),
    );
    this.loop.holdsProcess = () => this.holdsProcess();
    this.loop.start();
  }

  /**
   * True while a socket is open or an op is in flight (a timer included):
   * only then does the idle loop keep the process alive, so a client whose
   * channels are closed exits without closing its runtime.
   */
  holdsProcess(): boolean {
    return this.slots.active > 0 || this.conns.size > 0 || this.listeners.size > 0;
  }

  // ---- what ops share ------------------------------------------------------

  /** Cancels every in-flight op of conn; the CLOSE follows when the last one completes. */
  cancelOpsOf(owner: unknown): void {
    const slots = this.slots;
    for (const s of slots.activeSlots()) {
      if (slots.owner[s] === owner && slots.kind[s] !== SlotKind.CLOSE) this.cancelInKernel(s);
    }
  }

  /**
   * A multishot recv ended with ENOBUFS: every provided buffer the kernel had
   * was in use. Doubles them (up to bufCount) before the recv is re-armed.
   */
  buffersExhausted(): void {
    this.recvNoBuffers++;
    const had = this.ring.bufActive;
    if (this.ring.growBufs(had * 2) > had) this.bufsView = new Uint8Array(this.ring.bufs);
  }

  opDone(conn: CoreConn): void {
    conn.inflight--;
    if (conn.inflight === 0 && conn.closeWhenIdle) {
      conn.closeWhenIdle = false;
      pushClose(this, conn);
    }
  }

  // ---- cancellation ------------------------------------------------------------

  /** Queues an async cancel of slot s (once). Its completion still arrives. */
  cancelInKernel(s: number): void {
    const slots = this.slots;
    const st = slots.state[s];
    if (st === SlotState.FREE || (slots.flags[s]! & SlotFlag.CANCEL_SENT) !== 0) return;
    slots.flags[s]! |= SlotFlag.CANCEL_SENT;
    this.ring.push(Op.CANCEL, -1, UD_NONE, 0, 0, s);
  }

  /** Aborting `signal` gives up slot s (unless the slot was reused meanwhile). */
  watchSignal(s: number, signal: AbortSignal): void {
    const slots = this.slots;
    const gen = slots.gen[s]!;
    const onAbort = (): void => {
      if (slots.gen[s] === gen) this.giveUp(s);
    };
    signal.addEventListener("abort", onAbort, { once: true });
    slots.signal[s] = signal;
    slots.onAbort[s] = onAbort;
  }

  /**
   * The caller of slot s gave up (abort, deadline done, runtime close): the
   * kernel op is cancelled. Reads and writes answer at their completion, with
   * -ECANCELED or, when the data won the race, their real result, so no byte
   * is lost and the buffer is back in the caller's hands only once the kernel
   * is done with it. Timers and connects answer the caller now and turn
   * Ignored, keeping their buffer and fd until the kernel's completion.
   */
  giveUp(s: number): void {
    const slots = this.slots;
    const st = slots.state[s];
    if (st === SlotState.FREE || st === SlotState.IGNORED || st === SlotState.COMPLETED) return;
    this.cancelInKernel(s);
    OPS[slots.kind[s]!]!.giveUp(this, s);
  }

  // ---- the loop's callbacks ------------------------------------------------------

  private markSubmitted(ud: number): void {
    if (ud >= 0 && this.slots.state[ud] === SlotState.SUBMITTED) this.slots.state[ud] = SlotState.WAITING;
  }

  private dispatch(n: number): void {
    const evts = this.ring.evts;
    const slots = this.slots;
    for (let i = 0; i < n; i++) {
      const base = i * EVT_WORDS;
      const s = evts[base + EVT_UD]!;
      const res = evts[base + EVT_RES]!;
      const flags = evts[base + EVT_FLAGS]!;
      if (s < 0 || s >= slots.capacity || slots.state[s] === SlotState.FREE) {
        this.strayEvents++;
        continue;
      }
      try {
        OPS[slots.kind[s]!]!.complete(this, s, res, flags, evts[base + EVT_BUF_OFF]!);
      } catch (e) {
        this.reportError(e);
      }
    }
    if (this.drained !== null && slots.active === 0) this.drained();
  }

  reportError(e: unknown): void {
    if (typeof e === "number") {
      // rr_step failed as a whole; EINTR/EBUSY/EAGAIN are transient.
      if (e === -Errno.EINTR || e === -Errno.EBUSY || e === -Errno.EAGAIN || this.stepErrorReported) return;
      this.stepErrorReported = true;
      const err = ioError(e, "io_uring_enter");
      runtimeLogger().error({ event: "ring_step_failed", code: err.code }, `io_uring: rr_step failed: ${err.message}`);
      return;
    }
    // A sink or deferred callback threw: surface it as an uncaught error, do not eat it.
    queueMicrotask(() => {
      throw e;
    });
  }

  // ---- shutdown -------------------------------------------------------------------

  /** Cancels everything, waits (bounded) for the kernel, then frees the ring once. */
  async shutdown(closeAll: () => void): Promise<void> {
    this.closing = true;
    closeAll();
    const slots = this.slots;
    for (const s of slots.activeSlots()) {
      if (slots.kind[s] === SlotKind.CLOSE) continue;
      this.giveUp(s);
      this.cancelInKernel(s);
    }
    if (slots.active > 0) {
      let timer: ReturnType<typeof setTimeout> | undefined;
      await new Promise<void>((resolve) => {
        this.drained = resolve;
        timer = setTimeout(resolve, CLOSE_DRAIN_MS);
        this.ring.onWake?.();
      });
      clearTimeout(timer);
      this.drained = null;
    }
    await this.loop.stop();
    // Whatever the kernel did not finish in time: answer callers, close fds.
    for (const s of slots.activeSlots()) this.abandon(s);
    for (const c of [...this.conns]) if (c.fd >= 0) this.lib.rr_close(c.fd);
    for (const l of [...this.listeners]) if (l.fd >= 0) this.lib.rr_close(l.fd);
    this.conns.clear();
    this.listeners.clear();
    this.ring.destroy();
  }

  /**
   * Synchronous last-resort teardown for process exit (process.exit() inside
   * a Worker runs 'exit' handlers but no native cleanup): closes every socket
   * so a dead worker's SO_REUSEPORT listener stops taking connections, and
   * frees the ring. Does nothing after shutdown().
   */
  teardownNow(): void {
    if (this.ring.isDestroyed) return;
    this.closing = true;
    for (const l of this.listeners) if (l.fd >= 0) this.lib.rr_close(l.fd);
    for (const c of this.conns) if (c.fd >= 0) this.lib.rr_close(c.fd);
    this.listeners.clear();
    this.conns.clear();
    void this.loop.stop();
    this.ring.destroy();
  }

  /** The kernel never completed slot s before close: its kind answers the caller, then the slot is freed. */
  private abandon(s: number): void {
    OPS[this.slots.kind[s]!]!.abandon(this, s);
    this.slots.free(s);
  }
}

