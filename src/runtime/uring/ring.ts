/**
 * Ring: one native io_uring instance of the shim and its memory, wrapped
 * once into typed-array views. Owns the command queue (commands are written
 * into the native command array without a syscall; past its capacity they
 * wait in a JS overflow array, in order, for the next step), the single
 * rr_step crossing per loop step, the eventfd and the counters. Knows
 * nothing about slots, sockets or promises.
 */
import { toArrayBuffer, type Pointer } from "bun:ffi";
import { DriverUnavailable, errnoName } from "../errors.ts";
import { loadNative, type NativeSymbols } from "../native.ts";
import { CMD_ARG, CMD_FD, CMD_FLAGS, CMD_LEN, CMD_OFF, CMD_OP, CMD_UD, CMD_WORDS, EVT_WORDS, Feature, Mem, RingModeCode, Stat, WHOLE_BUFS } from "./abi.ts";

/**
 * How the kernel runs completion work: "coop" (COOP_TASKRUN, the default: a
 * sleeping loop is always woken) or "defer" (DEFER_TASKRUN: opt-in, its
 * eventfd wake-up can be late; see docs/RUNTIME.md, "Waking up").
 */
export type RingMode = keyof typeof RingModeCode;

export interface RingOptions {
  entries: number;
  cmdCap: number;
  evtCap: number;
  arenaBytes: number;
  /** Room in the provided buffer ring: the most buffers it can grow to. */
  bufCount: number;
  bufSize: number;
  /** Provided buffers handed to the kernel at creation (1..bufCount; 0 with bufCount 0). */
  bufInitial: number;
  mode: RingMode;
  /** Never ask for an incremental buffer ring: every recv takes a whole buffer (as on kernels before 6.12). */
  wholeBufs?: boolean;
}

type StepFn = (h: number, ncmds: number, waitNr: number) => number;

export class Ring {
  readonly handle: number;
  readonly opts: RingOptions;
  readonly cmds: Int32Array;
  readonly evts: Int32Array;
  /** Address of the arena, for the few calls that take a pointer into it (rr_sockaddr). */
  readonly arenaAddress: number;
  /** Views of the arena made by wrapArena(), detached on destroy. */
  private readonly arenaViews: ArrayBuffer[] = [];
  /**
   * The provided buffers the kernel has ([0, bufActive) of the mapping),
   * wrapped once per growth: JSC counts a wrapped region as allocated
   * memory, so buffers the kernel never got are not wrapped either.
   */
  bufs: ArrayBuffer;
  bufActive: number;
  /** Views `bufs` replaced, held weakly (a held one would stay counted) so destroy() can still detach any a caller kept. */
  private readonly oldBufViews: WeakRef<ArrayBuffer>[] = [];
  readonly eventfd: number;
  readonly featureBits: number;
  /** The provided buffers are consumed incrementally (kernel 6.12+): small reads share a buffer, each chunk at its offset. */
  get bufIncremental(): boolean {
    return (this.featureBits & Feature.BUF_INC) !== 0;
  }
  /** Commands written into the native array, not yet stepped. */
  queued = 0;
  /** Called when a command is queued while `sleeping`; set by the loop. */
  onWake: (() => void) | null = null;
  sleeping = false;
  private overflow: Int32Array;
  private overflowCount = 0;
  private readonly stepNative: StepFn;
  private readonly lib: NativeSymbols;
  private destroyed = false;
  /**
   * Test-only fault (RINGRPC_TEST_FAULT=mute-eventfd): the eventfd is never
   * turned on, as if the kernel lost every wake-up, so tests can prove that
   * the wake self-test and the guard notice and that the loop still delivers.
   * A test may clear it to model wake-ups that are on time again.
   */
  eventfdMuted: boolean = (process.env.RINGRPC_TEST_FAULT ?? "").split(",").includes("mute-eventfd");

  constructor(opts: RingOptions) {
    const lib = loadNative();
    this.lib = lib;
    this.opts = opts;
    const h = lib.rr_ring_create(opts.entries, opts.cmdCap, opts.evtCap, opts.arenaBytes, opts.bufCount, opts.bufSize, opts.bufInitial, RingModeCode[opts.mode] | (opts.wholeBufs === true ? WHOLE_BUFS : 0));
    if (h < 0) {
      throw new DriverUnavailable("uring", `rr_ring_create failed: ${errnoName(h)}${h === -1 ? " (io_uring blocked by seccomp or kernel.io_uring_disabled)" : ""}`);
    }
    this.handle = h;
    try {
      this.cmds = new Int32Array(region(lib, h, Mem.CMDS, opts.cmdCap * CMD_WORDS * 4));
      this.evts = new Int32Array(region(lib, h, Mem.EVTS, opts.evtCap * EVT_WORDS * 4));
      this.arenaAddress = address(lib, h, Mem.ARENA);
      this.bufActive = opts.bufInitial;
      this.bufs = opts.bufCount === 0 ? new ArrayBuffer(0) : region(lib, h, Mem.BUFS, opts.bufInitial * opts.bufSize);
      const efd = lib.rr_ring_eventfd(h);
      if (efd < 0) throw new DriverUnavailable("uring", `rr_ring_eventfd failed: ${errnoName(efd)}`);
      this.eventfd = efd;
      this.featureBits = lib.rr_ring_setup_flags(h);
      if (this.eventfdMuted) lib.rr_ring_eventfd_enable(h, 0);
    } catch (e) {
      lib.rr_ring_destroy(h);
      throw e;
    }
    this.overflow = new Int32Array(opts.cmdCap * CMD_WORDS);
    this.stepNative = (lib.rr_step as unknown as { native?: StepFn }).native ?? lib.rr_step;
  }

  /**
   * Hands provided buffers up to `active` (capped at bufCount) to the
   * kernel and re-wraps `bufs` over them; returns how many the kernel has.
   * Only between steps. Earlier views stay valid (same memory) until destroy.
   */
  growBufs(active: number): number {
    active = Math.min(active, this.opts.bufCount);
    if (this.destroyed || active <= this.bufActive) return this.bufActive;
    const got = this.lib.rr_bufring_grow(this.handle, active);
    if (got > this.bufActive) {
      this.bufActive = got;
      this.oldBufViews.push(new WeakRef(this.bufs));
      this.bufs = region(this.lib, this.handle, Mem.BUFS, got * this.opts.bufSize);
    }
    return this.bufActive;
  }

  /** Wraps arena bytes [offset, offset + bytes) for JS (once per slab: see ArenaBufferPool). */
  wrapArena(offset: number, bytes: number): ArrayBuffer {
    if (this.destroyed) return new ArrayBuffer(0);
    const ab = toArrayBuffer(this.arenaAddress as unknown as Pointer, offset, bytes);
    this.arenaViews.push(ab);
    return ab;
  }

  /** Queues one command; no syscall. */
  push(op: number, fd: number, ud: number, off: number, len: number, arg: number): void {
    let a: Int32Array;
    let i: number;
    if (this.overflowCount === 0 && this.queued < this.opts.cmdCap) {
      a = this.cmds;
      i = this.queued++ * CMD_WORDS;
    } else {
      if ((this.overflowCount + 1) * CMD_WORDS > this.overflow.length) {
        const bigger = new Int32Array(this.overflow.length * 2);
        bigger.set(this.overflow);
        this.overflow = bigger;
      }
      a = this.overflow;
      i = this.overflowCount++ * CMD_WORDS;
    }
    a[i + CMD_OP] = op;
    a[i + CMD_FD] = fd;
    a[i + CMD_UD] = ud;
    a[i + CMD_OFF] = off;
    a[i + CMD_LEN] = len;
    a[i + CMD_ARG] = arg;
    a[i + CMD_FLAGS] = 0;
    a[i + CMD_WORDS - 1] = 0;
    if (this.sleeping) this.onWake?.();
  }

  /** Commands waiting for a step (native array and overflow). */
  get pending(): number {
    return this.queued + this.overflowCount;
  }

  /**
   * Submits the queued commands and reaps completions into `evts`: one FFI
   * crossing. `submitted` is called with the user_data of each command
   * handed to the kernel. Returns the number of events, or -errno.
   */
  step(waitNr: number, submitted: (ud: number) => void): number {
    if (this.destroyed) return 0;
    const n = this.queued;
    const got = this.stepNative(this.handle, n, waitNr);
    const cmds = this.cmds;
    for (let i = 0; i < n; i++) submitted(cmds[i * CMD_WORDS + CMD_UD]!);
    this.queued = 0;
    if (this.overflowCount > 0) this.drainOverflow();
    return got;
  }

  private drainOverflow(): void {
    const take = Math.min(this.overflowCount, this.opts.cmdCap);
    this.cmds.set(this.overflow.subarray(0, take * CMD_WORDS));
    this.queued = take;
    this.overflow.copyWithin(0, take * CMD_WORDS, this.overflowCount * CMD_WORDS);
    this.overflowCount -= take;
  }

  setEventfd(on: boolean): void {
    if (!this.destroyed) this.lib.rr_ring_eventfd_enable(this.handle, on && !this.eventfdMuted ? 1 : 0);
  }

  stat(which: number): number {
    return this.destroyed ? -1 : this.lib.rr_ring_stat(this.handle, which);
  }

  stats(): { enters: number; submitted: number; completed: number; steps: number } {
    return {
      enters: this.stat(Stat.ENTERS),
      submitted: this.stat(Stat.SUBMITTED),
      completed: this.stat(Stat.COMPLETED),
      steps: this.stat(Stat.STEPS),
    };
  }

  get isDestroyed(): boolean {
    return this.destroyed;
  }

  /** rr_ring_destroy, exactly once; the views must not be touched afterwards. */
  destroy(): number {
    if (this.destroyed) return 0;
    this.destroyed = true;
    this.queued = 0;
    this.overflowCount = 0;
    // Detach every view of the ring's memory first: a buffer still held by
    // the caller then reads as empty instead of touching unmapped memory.
    const oldBufs = this.oldBufViews.map((v) => v.deref()).filter((v) => v !== undefined);
    for (const ab of [this.cmds.buffer, this.evts.buffer, ...this.arenaViews, this.bufs, ...oldBufs]) detach(ab);
    return this.lib.rr_ring_destroy(this.handle);
  }
}

function address(lib: NativeSymbols, h: number, which: number): number {
  const p = lib.rr_ring_mem(h, which);
  if (p === null || p === 0) throw new DriverUnavailable("uring", `rr_ring_mem(${which}) returned NULL`);
  return p as unknown as number;
}

function region(lib: NativeSymbols, h: number, which: number, bytes: number): ArrayBuffer {
  return toArrayBuffer(address(lib, h, which), 0, bytes);
}

function detach(ab: ArrayBufferLike): void {
  if (ab instanceof ArrayBuffer && !ab.detached) ab.transfer(0);
}
