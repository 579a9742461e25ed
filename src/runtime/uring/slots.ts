/**
 * SlotTable: one slot per in-flight kernel operation; the slot index is the
 * SQE user_data. Parallel preallocated typed arrays hold the numbers (state,
 * kind, fd, progress, timer length) and plain arrays hold the references (owner object,
 * the buffer the kernel uses, the caller's buffer, the resolver), so an op
 * allocates nothing here. Grows by doubling. Knows nothing about the ring.
 *
 * A slot moves Submitted (queued, not yet handed to the kernel) -> Waiting
 * (in the kernel) -> Completed, or -> Ignored when its caller gave up: an
 * ignored op keeps its buffer and fd referenced until the kernel's final
 * completion arrives, and only then is the slot freed.
 */

export const SlotState = { FREE: 0, SUBMITTED: 1, WAITING: 2, COMPLETED: 3, IGNORED: 4 } as const;

/** What a slot's completion means; the runtime dispatches on it. */
export const SlotKind = {
  NONE: 0,
  READ: 1,
  WRITE: 2,
  WRITE_ALL: 3,
  STREAM: 4,
  ACCEPT: 5,
  CONNECT: 6,
  CLOSE: 7,
  SLEEP: 8,
  DEADLINE: 9,
} as const;

export const SlotFlag = {
  /** An async cancel was queued for this slot. */
  CANCEL_SENT: 1,
  /** resolve is a SendDone (res, error) called directly, not a promise's resolver. */
  CALLBACK: 2,
} as const;

export class SlotTable {
  state: Uint8Array;
  kind: Uint8Array;
  fd: Int32Array;
  /** Bytes a WRITE_ALL has sent so far. */
  done: Int32Array;
  /** A DEADLINE's length in milliseconds (for its error message). */
  ms: Int32Array;
  owner: unknown[];
  /** The buffer the kernel reads or writes (arena-backed). */
  buf: Array<Uint8Array | null>;
  /** The caller's buffer when it is not arena-backed (copied through buf). */
  userBuf: Array<Uint8Array | null>;
  /** A promise's resolver, or a SendDone when the slot has SlotFlag.CALLBACK. */
  resolve: Array<((value: any, error?: any) => void) | null>;
  reject: Array<((error: unknown) => void) | null>;
  /** The caller's AbortSignal and the listener registered on it, removed when the slot is freed. */
  signal: Array<AbortSignal | null>;
  onAbort: Array<(() => void) | null>;
  /** Bumped on every free, so a late abort of a reused slot is recognised. */
  gen: Int32Array;
  /** SlotFlag bits. */
  flags: Uint8Array;
  private freeList: Int32Array;
  private freeTop: number;
  /** Slots not FREE. */
  active = 0;

  constructor(capacity = 1024) {
    this.state = new Uint8Array(capacity);
    this.kind = new Uint8Array(capacity);
    this.fd = new Int32Array(capacity).fill(-1);
    this.done = new Int32Array(capacity);
    this.ms = new Int32Array(capacity);
    this.owner = new Array(capacity).fill(null);
    this.buf = new Array(capacity).fill(null);
    this.userBuf = new Array(capacity).fill(null);
    this.resolve = new Array(capacity).fill(null);
    this.reject = new Array(capacity).fill(null);
    this.signal = new Array(capacity).fill(null);
    this.onAbort = new Array(capacity).fill(null);
    this.gen = new Int32Array(capacity);
    this.flags = new Uint8Array(capacity);
    this.freeList = new Int32Array(capacity);
    this.freeTop = 0;
    for (let i = capacity - 1; i >= 0; i--) this.freeList[this.freeTop++] = i;
  }

  get capacity(): number {
    return this.state.length;
  }

  alloc(kind: number, fd: number, owner: unknown): number {
    if (this.freeTop === 0) this.grow();
    const s = this.freeList[--this.freeTop]!;
    this.state[s] = SlotState.SUBMITTED;
    this.kind[s] = kind;
    this.fd[s] = fd;
    this.done[s] = 0;
    this.ms[s] = 0;
    this.flags[s] = 0;
    this.owner[s] = owner;
    this.active++;
    return s;
  }

  /** Drops every reference of slot s and puts it back on the free list. */
  free(s: number): void {
    if (this.state[s] === SlotState.FREE) return;
    this.state[s] = SlotState.FREE;
    this.kind[s] = SlotKind.NONE;
    this.fd[s] = -1;
    this.owner[s] = null;
    this.buf[s] = null;
    this.userBuf[s] = null;
    this.resolve[s] = null;
    this.reject[s] = null;
    const signal = this.signal[s];
    if (signal) {
      signal.removeEventListener("abort", this.onAbort[s]!);
      this.signal[s] = null;
      this.onAbort[s] = null;
    }
    this.gen[s] = (this.gen[s]! + 1) | 0;
    this.flags[s] = 0;
    this.freeList[this.freeTop++] = s;
    this.active--;
  }

  /** Indexes of all slots not FREE (for shutdown paths, not hot paths). */
  activeSlots(): number[] {
    const out: number[] = [];
    for (let s = 0; s < this.state.length; s++) if (this.state[s] !== SlotState.FREE) out.push(s);
    return out;
  }

  private grow(): void {
    const old = this.state.length;
    const cap = old * 2;
    this.state = growU8(this.state, cap);
    this.kind = growU8(this.kind, cap);
    const fd = new Int32Array(cap).fill(-1);
    fd.set(this.fd);
    this.fd = fd;
    const done = new Int32Array(cap);
    done.set(this.done);
    this.done = done;
    const ms = new Int32Array(cap);
    ms.set(this.ms);
    this.ms = ms;
    const gen = new Int32Array(cap);
    gen.set(this.gen);
    this.gen = gen;
    this.flags = growU8(this.flags, cap);
    for (let i = old; i < cap; i++) {
      this.owner.push(null);
      this.buf.push(null);
      this.userBuf.push(null);
      this.resolve.push(null);
      this.reject.push(null);
      this.signal.push(null);
      this.onAbort.push(null);
    }
    const freeList = new Int32Array(cap);
    freeList.set(this.freeList.subarray(0, this.freeTop));
    this.freeList = freeList;
    for (let i = cap - 1; i >= old; i--) this.freeList[this.freeTop++] = i;
  }
}

function growU8(a: Uint8Array, cap: number): Uint8Array {
  const b = new Uint8Array(cap);
  b.set(a);
  return b;
}
