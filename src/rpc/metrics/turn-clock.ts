/**
 * TurnClock: the clock of the call-duration histograms, read at most twice
 * per runtime turn instead of twice per call. A call's start is the first
 * reading of the turn it started in (now()); its end is timed by one
 * reading at the end of the turn it ended in, when the deferred callback
 * runs right before the runtime hands this turn's replies to the kernel. A
 * duration is therefore "from the turn the request was handled in to the
 * turn its end was sent in": the reply's time in the batch is included, and
 * a turn's calls share their readings. Calls that start and end in the same
 * turn (every synchronous handler) are only counted per slot and recorded
 * once per slot and turn; the others are kept one by one until the turn
 * ends. At ~3M calls/s a call costs ~300 ns and one performance.now() ~35 ns
 * (measured on the 2-vCPU dev machine), which is why the clock is not read
 * per call; a loaded bench server runs ~200 calls per turn.
 */

/** Where the clock hands the durations (CallCounters): `count` calls of `slot` took `ms` each. */
export interface DurationSink {
  record(slot: number, ms: number, count: number): void;
}

export class TurnClock {
  /** This turn's first reading, or -1 when the clock was not read this turn. */
  private stamp: number;
  private scheduled: boolean;
  /** Calls of each slot that started and ended in this turn. */
  private sameTurn: Float64Array;
  /** The slots with sameTurn > 0, dirtyCount of them. */
  private readonly dirty: number[];
  private dirtyCount: number;
  /** Calls that ended this turn but started in an earlier one: their slot and start. */
  private readonly slots: number[];
  private readonly starts: number[];
  private pending: number;
  private readonly turnEnd: () => void;

  constructor(
    /** Runs a callback once at the end of the current turn (rt.defer, or queueMicrotask off a runtime). */
    private readonly defer: (fn: () => void) => void,
    private readonly sink: DurationSink,
  ) {
    this.stamp = -1;
    this.scheduled = false;
    this.sameTurn = new Float64Array(8);
    this.dirty = [];
    this.dirtyCount = 0;
    this.slots = [];
    this.starts = [];
    this.pending = 0;
    this.turnEnd = () => this.endTurn();
  }

  /** Makes room for slots 0..n-1. */
  ensureSlots(n: number): void {
    if (n <= this.sameTurn.length) return;
    const bigger = new Float64Array(Math.max(n, this.sameTurn.length * 2));
    bigger.set(this.sameTurn);
    this.sameTurn = bigger;
  }

  /** The start time of a call starting now: this turn's reading (performance.now() ms). */
  now(): number {
    if (this.stamp < 0) {
      this.stamp = performance.now();
      this.schedule();
    }
    return this.stamp;
  }

  /** A call of `slot` that started at `start` (a now() value) ended in this turn. */
  observe(slot: number, start: number): void {
    if (start === this.stamp) {
      // Started this turn, whose end is already scheduled by now().
      if (this.sameTurn[slot]!++ === 0) this.dirty[this.dirtyCount++] = slot;
      return;
    }
    const n = this.pending;
    this.slots[n] = slot;
    this.starts[n] = start;
    this.pending = n + 1;
    this.schedule();
  }

  private schedule(): void {
    if (this.scheduled) return;
    this.scheduled = true;
    this.defer(this.turnEnd);
  }

  private endTurn(): void {
    this.scheduled = false;
    const stamp = this.stamp;
    this.stamp = -1;
    const n = this.pending;
    const d = this.dirtyCount;
    if (n === 0 && d === 0) return;
    const end = performance.now();
    const sink = this.sink;
    if (d > 0) {
      this.dirtyCount = 0;
      const same = this.sameTurn;
      for (let i = 0; i < d; i++) {
        const slot = this.dirty[i]!;
        sink.record(slot, end - stamp, same[slot]!);
        same[slot] = 0;
      }
    }
    if (n > 0) {
      this.pending = 0;
      for (let i = 0; i < n; i++) sink.record(this.slots[i]!, end - this.starts[i]!, 1);
    }
  }
}
