/**
 * TurnClock: the clock of the call-duration histograms, read at most twice
 * per runtime turn instead of twice per call. A call's start is the first
 * reading of the turn it started in (now()); its end is recorded as pending
 * (observe()) and timed by one reading at the end of the turn, when the
 * deferred callback runs right before the runtime hands this turn's replies
 * to the kernel. A duration is therefore "from the turn the request was
 * handled in to the turn its end was sent in": the reply's time in the
 * batch is included, and a turn's calls share their readings. At ~3M
 * calls/s a call costs ~300 ns and one performance.now() ~35 ns (measured on
 * the 2-vCPU dev machine), which is why the clock is not read per call.
 */

/** Where the clock hands each ended call's slot and duration in ms (CallCounters). */
export interface DurationSink {
  record(slot: number, ms: number): void;
}

export class TurnClock {
  /** This turn's first reading, or -1 when the clock was not read this turn. */
  private stamp: number;
  private scheduled: boolean;
  private pending: number;
  private readonly slots: number[];
  private readonly starts: number[];
  private readonly turnEnd: () => void;

  constructor(
    /** Runs a callback once at the end of the current turn (rt.defer, or queueMicrotask off a runtime). */
    private readonly defer: (fn: () => void) => void,
    private readonly sink: DurationSink,
  ) {
    this.stamp = -1;
    this.scheduled = false;
    this.pending = 0;
    this.slots = [];
    this.starts = [];
    this.turnEnd = () => this.endTurn();
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
    this.stamp = -1;
    const n = this.pending;
    if (n === 0) return;
    this.pending = 0;
    const end = performance.now();
    const sink = this.sink;
    for (let i = 0; i < n; i++) sink.record(this.slots[i]!, end - this.starts[i]!);
  }
}
