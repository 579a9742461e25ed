/**
 * MemoryBudget: the bytes one server (one worker) holds on behalf of its
 * peers, counted against one budget: bytes read and not yet delivered (a
 * partial frame, what waits while delivery is held, a driver's read queue),
 * request messages waiting for handlers, and encoded output not yet written.
 * Each connection reports what it holds after every read and every finished
 * write (`account`); the budget keeps the sum. Past SOFT_FACTOR x the budget
 * the connection reporting stops being read, and its new calls get
 * RESOURCE_EXHAUSTED, if it holds more than its fair share of that; past the
 * budget itself the connection holding the most is sent away (so the sum
 * stays within the budget, give or take one read), and a heap collection is
 * asked for (at most every SHRINK_EVERY_MS); paused connections are read
 * again only once it ran and the sum is below RESUME_FACTOR x the budget, so
 * evicting one connection cannot let the others refill the heap faster than
 * it is collected. Owns the arithmetic and these decisions; the sockets
 * belong to the members.
 */
import { availableParallelism, totalmem } from "node:os";

/** Past this multiple of the budget, members over their share are paused (and their new calls refused). */
const SOFT_FACTOR = 0.8;
/** Past the budget itself, the top consumer is evicted: the sum never stays above it. */
const HARD_FACTOR = 1;
/** Below this multiple of the budget, paused members are read again and calls accepted. */
const RESUME_FACTOR = 0.6;
/** At most one heap collection per this many ms is asked for after evictions. */
const SHRINK_EVERY_MS = 250;
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
}

export class MemoryBudget {
  /** True from passing SOFT_FACTOR of the budget until falling below RESUME_FACTOR of it. */
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

  constructor(limitBytes: number) {
    if (!(limitBytes > 0)) throw new RangeError(`memoryBudgetBytes must be a positive number of bytes, got ${limitBytes}`);
    this.limit = limitBytes;
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
    if (this.over && this.used < this.limit * RESUME_FACTOR) this.recover();
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
      if (this.used > this.limit * SOFT_FACTOR) this.overLimit(m);
    } else if (this.over && this.used < this.limit * RESUME_FACTOR) this.recover();
  }

  stats(): MemoryBudgetStats {
    return { limitBytes: this.limit, usedBytes: this.used, peakBytes: this.peak, pauses: this.pauses, evictions: this.evictions, refusedCalls: this.refusedCalls };
  }

  private overLimit(m: BudgetMember): void {
    this.over = true;
    const share = (this.limit * SOFT_FACTOR) / Math.max(1, this.members.size);
    if (!m.budgetPaused && m.budgetCharged > share) {
      m.budgetPaused = true;
      this.pauses++;
      m.updateReading();
    }
    let evicted = false;
    while (this.used > this.limit * HARD_FACTOR) {
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
      if (this.over && this.used < this.limit * RESUME_FACTOR) this.recover();
    }, wait);
  }

  private topConsumer(): BudgetMember | null {
    let top: BudgetMember | null = null;
    for (const m of this.members) if (top === null || m.budgetCharged > top.budgetCharged) top = m;
    return top !== null && top.budgetCharged > 0 ? top : null;
  }

  private recover(): void {
    if (this.shrinkPending) return; // the collection's callback recovers
    this.over = false;
    for (const m of this.members) {
      if (!m.budgetPaused) continue;
      m.budgetPaused = false;
      m.updateReading();
    }
  }
}
