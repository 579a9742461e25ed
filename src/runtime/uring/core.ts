/**
 * UringCore: the io_uring driver's engine. Owns the ring, the slot table,
 * the arena buffer pool and the event loop of one runtime; turns API calls
 * into queued commands (one slot each, slot index = user_data) and each
 * completion back into a resolved promise, a sink callback or a re-armed
 * multishot op. Cancellation (abort, close) goes through async cancel: an op
 * whose caller gave up stays Ignored, holding its buffer and fd, until the
 * kernel's completion arrives. Connects and timers live in connect.ts and
 * timers.ts; the public API shapes in conn.ts, listener.ts and runtime.ts,
 * which this file knows only through the small owner interfaces below.
 */
import { Errno, IoError, ioError } from "../errors.ts";
import { loadNative, type NativeSymbols } from "../native.ts";
import type { BufResult } from "../types.ts";
import { CQE_BUFFER_SHIFT, CQE_F_BUFFER, CQE_F_MORE, EVT_FLAGS, EVT_RES, EVT_UD, EVT_WORDS, Op, UD_NONE } from "./abi.ts";
import { ArenaBufferPool } from "./buffer-pool.ts";
import { EventLoop } from "./loop.ts";
import { Ring, type RingOptions } from "./ring.ts";
import { SlotFlag, SlotKind, SlotState, SlotTable } from "./slots.ts";
import { completeConnect, type ConnectTarget } from "./connect.ts";
import { completeDeadline, completeSleep } from "./timers.ts";

/** A connection as the core sees it (implemented by UringConn). */
export interface CoreConn {
  readonly fd: number;
  readonly closed: boolean;
  inflight: number;
  closeWhenIdle: boolean;
  streamSlot: number;
  readonly paused: boolean;
  streamData(chunk: Uint8Array): void;
  endStream(error: IoError | null): void;
  onClosed(res: number): void;
  close(): Promise<void>;
}

/** A listener as the core sees it (implemented by UringListener). */
export interface CoreListener {
  readonly fd: number;
  readonly closed: boolean;
  acceptSlot: number;
  deliver(fd: number): void;
  fail(error: IoError): void;
  onClosed(res: number): void;
  close(): Promise<void>;
}

interface Closable {
  readonly fd: number;
  onClosed(res: number): void;
}

/** Delay before re-arming a multishot accept that ended with an error (EMFILE, ...). */
const ACCEPT_RETRY_MS = 10;
/** Largest arena chunk an op on a plain (non-arena) buffer copies through. */
const COPY_CHUNK = 64 << 10;
/** Bound on waiting for the kernel to complete cancelled ops during close(). */
const CLOSE_DRAIN_MS = 2000;

const syscallOf: Record<number, string> = {
  [SlotKind.READ]: "recv",
  [SlotKind.WRITE]: "send",
  [SlotKind.WRITE_ALL]: "send",
};

export function bufResult<B extends Uint8Array>(res: number, buf: B, syscall: string, detail?: string): BufResult<B> {
  return { res, buf, error: res < 0 ? ioError(res, syscall, detail) : null };
}

export class UringCore {
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
  private readonly bufsRegion: ArrayBuffer;
  private drained: (() => void) | null = null;
  private stepErrorReported = false;

  constructor(opts: RingOptions) {
    this.lib = loadNative();
    this.ring = new Ring(opts);
    this.pool = new ArenaBufferPool(opts.arenaBytes, (off, n) => this.ring.wrapArena(off, n));
    this.bufSize = opts.bufSize;
    this.bufsRegion = this.ring.bufs;
    this.loop = new EventLoop(
      this.ring,
      (n) => this.dispatch(n),
      (ud) => this.markSubmitted(ud),
      (e) => this.reportError(e),
    );
    this.loop.start();
  }

  // ---- owned-buffer I/O ----------------------------------------------------

  /** Starts a READ, WRITE or WRITE_ALL of buf on conn. */
  startIo<B extends Uint8Array>(kind: number, conn: CoreConn, buf: B, signal: AbortSignal | undefined): Promise<BufResult<B>> {
    const syscall = syscallOf[kind]!;
    if (conn.closed || this.closing) return Promise.resolve(bufResult(-Errno.EBADF, buf, syscall, "connection is closed"));
    if (signal?.aborted) return Promise.resolve(bufResult(-Errno.ECANCELED, buf, syscall));
    const pool = this.pool;
    let kbuf: Uint8Array = buf;
    let user: Uint8Array | null = null;
    let off = pool.arenaOffset(buf);
    if (off < 0) {
      // Copy path, one bounded chunk at a time (reads and writes may be short anyway).
      const k = pool.tryAcquire(Math.min(buf.byteLength, COPY_CHUNK));
      if (k === null) return Promise.resolve(bufResult(-Errno.ENOBUFS, buf, syscall, "buffer arena exhausted"));
      if (kind !== SlotKind.READ) k.set(k.byteLength === buf.byteLength ? buf : buf.subarray(0, k.byteLength));
      kbuf = k;
      user = buf;
      off = pool.arenaOffset(k);
    }
    const slots = this.slots;
    const s = slots.alloc(kind, conn.fd, conn);
    slots.buf[s] = kbuf;
    slots.userBuf[s] = user;
    pool.setKernelOwned(kbuf, true);
    conn.inflight++;
    const p = new Promise<BufResult<B>>((resolve) => {
      slots.resolve[s] = resolve;
    });
    this.ring.push(kind === SlotKind.READ ? Op.RECV : Op.SEND, conn.fd, s, off, kbuf.byteLength, 0);
    if (signal !== undefined) this.watchSignal(s, signal);
    return p;
  }

  private completeIo(s: number, res: number): void {
    const slots = this.slots;
    const kbuf = slots.buf[s]!;
    const kind = slots.kind[s]!;
    const ignored = slots.state[s] === SlotState.IGNORED;
    if (kind === SlotKind.WRITE_ALL && !ignored) {
      const user = slots.userBuf[s]!;
      const total = user === null ? kbuf.byteLength : user.byteLength;
      if (res > 0) {
        const done = slots.done[s]! + res;
        if (done < total) {
          if ((slots.flags[s]! & SlotFlag.CANCEL_SENT) === 0) {
            slots.done[s] = done;
            slots.state[s] = SlotState.SUBMITTED;
            if (user === null) {
              this.ring.push(Op.SEND, slots.fd[s]!, s, this.pool.arenaOffset(kbuf) + done, total - done, 0);
            } else {
              const n = Math.min(kbuf.byteLength, total - done);
              kbuf.set(user.subarray(done, done + n));
              this.ring.push(Op.SEND, slots.fd[s]!, s, this.pool.arenaOffset(kbuf), n, 0);
            }
            return;
          }
          res = -Errno.ECANCELED;
        } else {
          res = done;
        }
      } else if (res === 0 && total > 0) {
        res = -Errno.EPIPE;
      }
    }
    slots.state[s] = SlotState.COMPLETED;
    this.pool.setKernelOwned(kbuf, false);
    const conn = slots.owner[s] as CoreConn;
    const user = slots.userBuf[s]!;
    const resolve = ignored ? null : slots.resolve[s]!;
    if (user !== null) {
      if (kind === SlotKind.READ && res > 0 && resolve !== null) user.set(new Uint8Array(kbuf.buffer, kbuf.byteOffset, res));
      this.pool.release(kbuf);
    }
    slots.free(s);
    if (resolve !== null) resolve(bufResult(res, user ?? kbuf, syscallOf[kind]!));
    this.opDone(conn);
  }

  // ---- streaming reads (multishot recv over the provided buffer ring) -----

  startStream(conn: CoreConn): void {
    const s = this.slots.alloc(SlotKind.STREAM, conn.fd, conn);
    conn.streamSlot = s;
    conn.inflight++;
    this.ring.push(Op.RECV_MULTI, conn.fd, s, 0, 0, 0);
  }

  private completeStream(s: number, res: number, flags: number): void {
    const conn = this.slots.owner[s] as CoreConn;
    if (res > 0 && (flags & CQE_F_BUFFER) !== 0) {
      const bid = flags >>> CQE_BUFFER_SHIFT;
      const chunk = new Uint8Array(this.bufsRegion, bid * this.bufSize, res);
      conn.streamData(chunk); // never throws: the conn reports a throwing sink
      this.ring.push(Op.BUF_RETURN, -1, UD_NONE, 0, 0, bid);
    }
    if ((flags & CQE_F_MORE) !== 0) return;
    // The last CQE of this arm: end, stop, or re-arm.
    let end: IoError | null | undefined;
    if (res === 0) end = null;
    else if (res < 0 && res !== -Errno.ENOBUFS && res !== -Errno.ECANCELED) end = ioError(res, "recv");
    else if (conn.closed || this.closing) end = null;
    if (end === undefined && !conn.paused) {
      this.slots.flags[s] = 0;
      this.slots.state[s] = SlotState.SUBMITTED;
      this.ring.push(Op.RECV_MULTI, conn.fd, s, 0, 0, 0);
      return;
    }
    this.slots.free(s);
    conn.streamSlot = -1;
    if (end !== undefined) conn.endStream(end);
    this.opDone(conn);
  }

  // ---- listeners -----------------------------------------------------------

  armAccept(l: CoreListener): void {
    const s = this.slots.alloc(SlotKind.ACCEPT, l.fd, l);
    l.acceptSlot = s;
    this.ring.push(Op.ACCEPT_MULTI, l.fd, s, 0, 0, 0);
  }

  private completeAccept(s: number, res: number, flags: number): void {
    const l = this.slots.owner[s] as CoreListener;
    if (res >= 0) {
      if (l.closed || this.closing) this.lib.rr_close(res);
      else l.deliver(res);
    }
    if ((flags & CQE_F_MORE) !== 0) return;
    if (!l.closed && !this.closing && res !== -Errno.ECANCELED) {
      if (res >= 0) {
        this.slots.state[s] = SlotState.SUBMITTED;
        this.ring.push(Op.ACCEPT_MULTI, l.fd, s, 0, 0, 0);
        return;
      }
      // EMFILE and friends would fail again at once: tell one waiter, retry soon.
      this.slots.free(s);
      l.acceptSlot = -1;
      l.fail(ioError(res, "accept"));
      setTimeout(() => {
        if (!l.closed && !this.closing && l.acceptSlot < 0) this.armAccept(l);
      }, ACCEPT_RETRY_MS);
      return;
    }
    this.slots.free(s);
    l.acceptSlot = -1;
    if (l.closed) this.pushClose(l);
  }

  // ---- close -----------------------------------------------------------------

  /** Queues the CLOSE of an fd whose ops have all completed. */
  pushClose(owner: Closable): void {
    const s = this.slots.alloc(SlotKind.CLOSE, owner.fd, owner);
    this.ring.push(Op.CLOSE, owner.fd, s, 0, 0, 0);
  }

  /** Cancels every in-flight op of conn; the CLOSE follows when the last one completes. */
  cancelOpsOf(owner: unknown): void {
    const slots = this.slots;
    for (const s of slots.activeSlots()) {
      if (slots.owner[s] === owner && slots.kind[s] !== SlotKind.CLOSE) this.cancelInKernel(s);
    }
  }

  private opDone(conn: CoreConn): void {
    conn.inflight--;
    if (conn.inflight === 0 && conn.closeWhenIdle) {
      conn.closeWhenIdle = false;
      this.pushClose(conn);
    }
  }

  private completeClose(s: number, res: number): void {
    const owner = this.slots.owner[s] as Closable;
    this.slots.free(s);
    owner.onClosed(res);
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
    switch (slots.kind[s]) {
      case SlotKind.SLEEP:
        slots.state[s] = SlotState.IGNORED;
        slots.reject[s]!(new IoError(Errno.ECANCELED, "timeout"));
        return;
      case SlotKind.CONNECT: {
        const target = slots.owner[s] as ConnectTarget;
        slots.state[s] = SlotState.IGNORED;
        slots.reject[s]!(new IoError(Errno.ECANCELED, "connect", target.detail));
        return;
      }
      case SlotKind.DEADLINE:
        slots.state[s] = SlotState.IGNORED;
        return;
    }
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
        this.complete(s, res, flags);
      } catch (e) {
        this.reportError(e);
      }
    }
    if (this.drained !== null && slots.active === 0) this.drained();
  }

  private complete(s: number, res: number, flags: number): void {
    switch (this.slots.kind[s]) {
      case SlotKind.READ:
      case SlotKind.WRITE:
      case SlotKind.WRITE_ALL:
        return this.completeIo(s, res);
      case SlotKind.STREAM:
        return this.completeStream(s, res, flags);
      case SlotKind.ACCEPT:
        return this.completeAccept(s, res, flags);
      case SlotKind.CONNECT:
        return completeConnect(this, s, res);
      case SlotKind.CLOSE:
        return this.completeClose(s, res);
      case SlotKind.SLEEP:
        return completeSleep(this, s, res);
      case SlotKind.DEADLINE:
        return completeDeadline(this, s, res);
      default:
        this.strayEvents++;
    }
  }

  reportError(e: unknown): void {
    if (typeof e === "number") {
      // rr_step failed as a whole; EINTR/EBUSY/EAGAIN are transient.
      if (e === -Errno.EINTR || e === -Errno.EBUSY || e === -Errno.EAGAIN || this.stepErrorReported) return;
      this.stepErrorReported = true;
      console.error(`ringrpc uring: rr_step failed: ${ioError(e, "io_uring_enter").message}`);
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

  private abandon(s: number): void {
    const slots = this.slots;
    const kind = slots.kind[s]!;
    const resolve = slots.resolve[s];
    const reject = slots.reject[s];
    const ignored = slots.state[s] === SlotState.IGNORED;
    if (kind === SlotKind.CONNECT) this.lib.rr_close(slots.fd[s]!);
    if (!ignored) {
      if (kind === SlotKind.READ || kind === SlotKind.WRITE || kind === SlotKind.WRITE_ALL) {
        resolve?.(bufResult(-Errno.ECANCELED, slots.userBuf[s] ?? slots.buf[s]!, syscallOf[kind]!));
      } else if (reject) {
        reject(new IoError(Errno.ECANCELED, kind === SlotKind.CONNECT ? "connect" : "timeout", "runtime closed"));
      } else if (kind === SlotKind.CLOSE) {
        (slots.owner[s] as Closable).onClosed(0);
      }
    }
    slots.free(s);
  }
}

