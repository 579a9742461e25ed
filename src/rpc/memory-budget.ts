/**
 * MemoryBudget: the bytes one server (one worker) holds on behalf of its
 * peers, counted against one budget: bytes read and not yet delivered (a
 * partial frame, what waits while delivery is held, a driver's read queue),
 * request messages waiting for handlers, and encoded output not yet written.
 * Each connection reports what it holds after every read and every finished
 * write (`account`); the budget keeps the sum. The budget bounds how much the
 * worker grows, so what connections hold may use only part of it (the hold
 * limit, HOLD_SHARE): the rest is for what the sum cannot see, each
 * connection's own state, the read in flight, the allocator's slack and, on
 * a driver whose reads allocate (epoll: Bun hands over a new buffer of up to
 * 512 KiB per read), those buffers until they are collected. Past
 * SOFT_FACTOR x the hold limit the connection reporting stops being read,
 * and its new calls get RESOURCE_EXHAUSTED, if it holds more than its fair
 * share of that; past the hold limit the connection holding the most is
 * sent away and a heap collection is asked for (at most every
 * SHRINK_EVERY_MS). Paused connections are read again once that collection
 * ran and the sum is below RESUME_FACTOR x the hold limit, a few at a time
 * (READ_BURST_BYTES each), so one eviction cannot let every paused
 * connection read at once. Read garbage is collected as it piles up while
 * the budget is loaded (readAllocated). Owns the arithmetic and these
 * decisions; the sockets belong to the members.
 */
import { availableParallelism, totalmem } from "node:os";

/**
 * The share of the budget connections may hold (measured with
 * test/attack/memory-budget.test.ts, 100 connections holding unfinished
 * frames: the worker grows by what they hold plus ~4 MiB on io_uring, ~11 MiB
 * on epoll, for a 32 MiB budget).
 */
const HOLD_SHARE = 0.75;
const HOLD_SHARE_READS_ALLOCATE = 0.55;
/** Past this multiple of the hold limit, members over their share are paused (and their new calls refused). */
const SOFT_FACTOR = 0.8;
/** Below this multiple of the hold limit, paused members are read again and calls accepted. */
const RESUME_FACTOR = 0.6;
/** At most one heap collection per this many ms is asked for after evictions. */
const SHRINK_EVERY_MS = 250;
/**
 * Read garbage (drivers whose reads allocate) is collected once it passes
 * this multiple of the budget while members hold at least as much: ordinary
 * traffic holds next to nothing and leaves collection to the heap.
 */
const GARBAGE_STEP_FACTOR = 0.1;
/**
 * What one resumed member may read before the budget can pause it again: the
 * epoll driver's read size (Bun reads up to 512 KiB at once). Paused members
 * are resumed only as many at a time as the room below the soft mark has
 * bursts for: resuming them all at once lets every one of them read first.
 */
const READ_BURST_BYTES = 512 << 10;
/** Members still paused after a recovery are looked at again after this long, even if nothing else reports. */
const RESUME_RETRY_MS = 5;
const MIN_DEFAULT_BYTES = 32 << 20;
const MAX_DEFAULT_BYTES = 256 << 20;

/** The default per-worker budget: an eighth of the machine's memory per core, within [32 MiB, 256 MiB]. */
export function defaultMemoryBudgetBytes(): number {
  const share = Math.floor(totalmem() / 8 / Math.max(1, availableParallelism()));
  return Math.min(MAX_DEFAULT_BYTES, Math.max(MIN_DEFAULT_BYTES, share));
}

/** A connection as the budget sees it. */
export interface BudgetMember {
  /** What was last accounted for this member (the budget's bookkeeping; start at 0). */
  budgetCharged: number;
  /** True while the budget keeps this member from being read. */
  budgetPaused: boolean;
  /** Bytes this member holds now. */
  heldBytes(): number;
  /** Stops reading from the peer when budgetPaused was just set, reads again when it was cleared (unless something else keeps it paused). */
  updateReading(): void;
  /** Send the peer away: the budget is past its hard limit and this member holds the most. */
  evictForBudget(message: string): void;
}

export interface MemoryBudgetStats {
  limitBytes: number;
  usedBytes: number;
  peakBytes: number;
  /** Times a member was paused, and evicted, for the budget. */
  pauses: number;
  evictions: number;
  /** Calls refused because the budget was exhausted. */
  refusedCalls: number;
  /** Collections asked for because reads left garbage while the budget was loaded (drivers whose reads allocate). */
  garbageCollections: number;
}

export class MemoryBudget {
  /** True from passing the soft mark until falling below the resume mark with no member left paused. */
  over: boolean;
  readonly limit: number;
  private used: number;
  private peak: number;
  private pauses: number;
  private evictions: number;
  refusedCalls: number;
  private readonly members: Set<BudgetMember>;
  private lastShrink = -Infinity;
  /** A collection was asked for and has not run: paused members wait for it (what the evicted held is not free before). */
  private shrinkPending = false;
  /** Bytes of read buffers allocated since the last collection this budget asked for (drivers whose reads allocate). */
  private readGarbage = 0;
  /** Collections asked for because of read garbage. */
  private garbageCollections = 0;
  /** A retry of recover() is scheduled (members were left paused). */
  private retryPending = false;

  /** The driver allocates a new buffer for every read: members report each read (readAllocated). */
  readonly readsAllocate: boolean;
  /** What connections may hold (the hold limit), and the marks derived from it. */
  private readonly hold: number;
  private readonly soft: number;
  private readonly resume: number;

  /** `readsAllocate`: the driver allocates a new buffer for every read (epoll), which takes a larger part of the budget. */
  constructor(limitBytes: number, opts: { readsAllocate?: boolean } = {}) {
    if (!(limitBytes > 0)) throw new RangeError(`memoryBudgetBytes must be a positive number of bytes, got ${limitBytes}`);
    this.limit = limitBytes;
    this.readsAllocate = opts.readsAllocate === true;
    this.hold = limitBytes * (this.readsAllocate ? HOLD_SHARE_READS_ALLOCATE : HOLD_SHARE);
    this.soft = this.hold * SOFT_FACTOR;
    this.resume = this.hold * RESUME_FACTOR;
    this.over = false;
    this.used = 0;
    this.peak = 0;
    this.pauses = 0;
    this.evictions = 0;
    this.refusedCalls = 0;
    this.members = new Set();
  }

  add(m: BudgetMember): void {
    this.members.add(m);
  }

  /** The member is gone: what it held is released. */
  remove(m: BudgetMember): void {
    if (!this.members.delete(m)) return;
    this.used -= m.budgetCharged;
    m.budgetCharged = 0;
    if (this.over && this.used < this.resume) this.recover();
  }

  /** Brings the member's charge up to date; called after each read and each finished write. */
  account(m: BudgetMember): void {
    const now = m.heldBytes();
    const delta = now - m.budgetCharged;
    if (delta === 0 || !this.members.has(m)) return; // a removed member's late writes count for nothing
    m.budgetCharged = now;
    this.used += delta;
    if (delta > 0) {
      if (this.used > this.peak) this.peak = this.used;
      if (this.used > this.soft) this.overLimit(m);
    } else if (this.over && this.used < this.resume) this.recover();
  }

  stats(): MemoryBudgetStats {
    return {
      limitBytes: this.limit, usedBytes: this.used, peakBytes: this.peak, pauses: this.pauses, evictions: this.evictions,
      refusedCalls: this.refusedCalls, garbageCollections: this.garbageCollections,
    };
  }

  /**
   * The driver allocated `bytes` for a read that was then copied (epoll):
   * garbage until the heap collects it. Once it passes GARBAGE_STEP_FACTOR
   * of the budget while members hold at least as much, it is collected now
   * (a synchronous collection of a few ms, only while the budget is loaded)
   * rather than when the heap would get to it: freed memory stays with the
   * allocator, so garbage left to pile up would stay in the process's RSS.
   */
  readAllocated(bytes: number): void {
    this.readGarbage += bytes;
    const step = this.limit * GARBAGE_STEP_FACTOR;
    if (this.readGarbage > step && this.used > step) {
      this.garbageCollections++;
      Bun.gc(true);
      this.readGarbage = 0;
    }
  }

  private overLimit(m: BudgetMember): void {
    this.over = true;
    const share = this.soft / Math.max(1, this.members.size);
    if (!m.budgetPaused && m.budgetCharged > share) {
      m.budgetPaused = true;
      this.pauses++;
      m.updateReading();
    }
    let evicted = false;
    while (this.used > this.hold) {
      const top = this.topConsumer();
      if (top === null) break;
      this.evictions++;
      evicted = true;
      const held = top.budgetCharged;
      this.remove(top);
      top.evictForBudget(`server memory budget exhausted: this connection held ${held} bytes of the worker's ${this.limit}`);
    }
    if (evicted) this.shrinkHeapSoon();
  }

  /**
   * What evicted connections held is garbage only once the JS heap collects
   * it: ask for a collection after the current turn, at most once per
   * SHRINK_EVERY_MS (Envoy's overload manager has the same "shrink heap" action).
   */
  private shrinkHeapSoon(): void {
    if (this.shrinkPending) return;
    this.shrinkPending = true;
    const wait = Math.max(0, this.lastShrink + SHRINK_EVERY_MS - performance.now());
    setTimeout(() => {
      Bun.gc(false);
      this.lastShrink = performance.now();
      this.shrinkPending = false;
      if (this.over && this.used < this.resume) this.recover();
    }, wait);
  }

  private topConsumer(): BudgetMember | null {
    let top: BudgetMember | null = null;
    for (const m of this.members) if (top === null || m.budgetCharged > top.budgetCharged) top = m;
    return top !== null && top.budgetCharged > 0 ? top : null;
  }

  /**
   * Resumes paused members, as many as the room below the soft mark has read
   * bursts for, in turn (a resumed member moves to the back of the order);
   * the rest are looked at again after RESUME_RETRY_MS. The budget is no
   * longer over once none is left paused.
   */
  private recover(): void {
    if (this.shrinkPending) return; // the collection's callback recovers
    let room = this.soft - this.used;
    const resumed: BudgetMember[] = [];
    let left = 0;
    for (const m of this.members) {
      if (!m.budgetPaused) continue;
      if (room < READ_BURST_BYTES && resumed.length > 0) {
        left++;
        continue;
      }
      room -= READ_BURST_BYTES;
      resumed.push(m);
    }
    for (const m of resumed) {
      // To the back of the order: the next recovery starts with those that waited.
      this.members.delete(m);
      this.members.add(m);
      m.budgetPaused = false;
      m.updateReading();
    }
    if (left === 0) this.over = false;
    else this.retryResume();
  }

  private retryResume(): void {
    if (this.retryPending) return;
    this.retryPending = true;
    setTimeout(() => {
      this.retryPending = false;
      if (this.over && this.used < this.resume) this.recover();
    }, RESUME_RETRY_MS);
  }
}
