/**
 * Outlier detection for a channel's addresses (docs/RPC.md, "Health-aware
 * balancing"): an address whose calls end with UNAVAILABLE
 * `consecutiveUnavailable` times in a row is ejected (gets no new calls)
 * for `baseEjectionMs`, doubled each time it is ejected again, up to
 * `maxEjectionMs`; when the time is up the channel probes it (a connection,
 * and its health check when health checking is on) and takes it back only
 * when the probe passes, else ejects it again for longer. At most
 * `maxEjectionPercent` of the addresses (at least one, never all) are
 * ejected at once.
 * Owns the counts, the timers and the decision; the probe itself is the
 * channel's (it knows connections).
 */
import { Status } from "./status.ts";

export interface OutlierOptions {
  /** UNAVAILABLE calls in a row that eject an address (default 5). */
  consecutiveUnavailable?: number;
  /** First ejection (default 1000 ms); doubled for each ejection in a row. */
  baseEjectionMs?: number;
  /** Longest ejection (default 30000 ms). */
  maxEjectionMs?: number;
  /** Most addresses ejected at once, in percent of all (default 50; at least one address can always be ejected). */
  maxEjectionPercent?: number;
}

/** One address's counts. */
export class OutlierState {
  consecutive: number;
  /** Ejections in a row (the backoff exponent); back to 0 once the address stays healthy. */
  ejections: number;
  ejected: boolean;
  readmittedAt: number;
  timer: ReturnType<typeof setTimeout> | null;

  constructor() {
    this.consecutive = 0;
    this.ejections = 0;
    this.ejected = false;
    this.readmittedAt = 0;
    this.timer = null;
  }
}

export interface Ejectable {
  readonly outlier: OutlierState;
  /** "host:port", for the log line. */
  readonly address: string;
}

export interface OutlierHost<T extends Ejectable> {
  /** Addresses the channel has now. */
  readonly addressCount: number;
  /** Connects to `target` (and checks its health when that is on); true when it may take calls again. */
  probe(target: T): Promise<boolean>;
  /** An address left or rejoined the rotation. */
  changed(): void;
}

export class OutlierDetector<T extends Ejectable> {
  private readonly threshold: number;
  private readonly baseMs: number;
  private readonly maxMs: number;
  private readonly maxPercent: number;
  private ejectedNow: number;

  constructor(opts: OutlierOptions, private readonly host: OutlierHost<T>) {
    this.threshold = whole(opts.consecutiveUnavailable, 5, 1, "consecutiveUnavailable");
    this.baseMs = whole(opts.baseEjectionMs, 1000, 1, "baseEjectionMs");
    this.maxMs = Math.max(this.baseMs, whole(opts.maxEjectionMs, 30_000, 1, "maxEjectionMs"));
    this.maxPercent = whole(opts.maxEjectionPercent, 50, 0, "maxEjectionPercent");
    this.ejectedNow = 0;
  }

  /** Addresses ejected now. */
  get ejected(): number {
    return this.ejectedNow;
  }

  /**
   * A call on `target` ended with `outcome`: a status, or a negative value
   * for a call no server processed (client-call.ts NOT_PROCESSED, or OPEN
   * for one leaving to be sent elsewhere). UNAVAILABLE counts; a status the
   * server answered resets the count; CANCELLED and DEADLINE_EXCEEDED (the
   * caller's side) and the negative values change nothing.
   */
  record(target: T, outcome: number): void {
    const s = target.outlier;
    if (outcome === Status.UNAVAILABLE) {
      if (++s.consecutive >= this.threshold && !s.ejected) this.eject(target);
    } else if (outcome >= 0 && outcome !== Status.CANCELLED && outcome !== Status.DEADLINE_EXCEEDED) {
      s.consecutive = 0;
      // Healthy for as long as its last ejection would have lasted twice over: the next ejection starts short again.
      if (s.ejections > 0 && Date.now() - s.readmittedAt > 2 * this.ejectionMs(s.ejections)) s.ejections = 0;
    }
  }

  /** The address left the channel: its timer stops. */
  forget(target: T): void {
    const s = target.outlier;
    if (s.timer !== null) clearTimeout(s.timer);
    s.timer = null;
    if (s.ejected) {
      s.ejected = false;
      this.ejectedNow--;
    }
  }

  private eject(target: T): void {
    const s = target.outlier;
    // At least one address may be ejected, but never the last one in rotation: with nowhere else to go, it is still the best there is.
    const n = this.host.addressCount;
    const allowed = Math.min(n - 1, Math.max(1, Math.floor((n * this.maxPercent) / 100)));
    if (this.ejectedNow >= allowed) return;
    s.ejected = true;
    this.ejectedNow++;
    this.host.changed();
    this.arm(target);
  }

  private ejectionMs(ejections: number): number {
    return Math.min(this.maxMs, this.baseMs * 2 ** Math.max(0, ejections - 1));
  }

  private arm(target: T): void {
    const s = target.outlier;
    s.ejections++;
    s.timer = setTimeout(() => {
      s.timer = null;
      void this.host.probe(target).then(
        (ok) => this.probed(target, ok),
        () => this.probed(target, false),
      );
    }, this.ejectionMs(s.ejections));
    s.timer.unref?.();
  }

  private probed(target: T, ok: boolean): void {
    const s = target.outlier;
    if (!s.ejected) return; // forgotten meanwhile
    if (!ok) return this.arm(target);
    s.ejected = false;
    s.consecutive = 0;
    s.readmittedAt = Date.now();
    this.ejectedNow--;
    this.host.changed();
  }
}

function whole(v: number | undefined, dflt: number, min: number, name: string): number {
  if (v === undefined) return dflt;
  if (!Number.isInteger(v) || v < min) throw new RangeError(`outlierDetection.${name} must be an integer >= ${min} (got ${v})`);
  return v;
}
