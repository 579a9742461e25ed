/**
 * LogThrottle: at most one log line per key per interval, so a peer that
 * keeps hitting a limit cannot flood the server's log. The first event of a
 * key is logged at once; later ones within the interval are only counted,
 * and the next line that is logged says how many were left out. Owns the
 * counting only.
 */
export class LogThrottle {
  private readonly keys = new Map<string, { lastMs: number; suppressed: number }>();

  constructor(private readonly intervalMs: number) {}

  /** Null when this event is to be left out; else how many events of `key` were left out before it. */
  take(key: string, nowMs: number = Date.now()): number | null {
    const k = this.keys.get(key);
    if (k === undefined) {
      this.keys.set(key, { lastMs: nowMs, suppressed: 0 });
      return 0;
    }
    if (nowMs - k.lastMs < this.intervalMs) {
      k.suppressed++;
      return null;
    }
    const left = k.suppressed;
    k.lastMs = nowMs;
    k.suppressed = 0;
    return left;
  }
}
