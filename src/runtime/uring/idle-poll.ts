/**
 * The opt-in idle poll of an io_uring loop (docs/RUNTIME.md, "Idle poll"):
 * before an idle loop sleeps it may keep stepping the ring for a short
 * window, so a request that arrives within it is served without the sleep
 * and wake-up of an idle core. Owns the choice of when to poll, not the
 * polling (loop.ts): a window that found nothing makes the loop skip the
 * next 1, 3, 7 ... 63 idle moments before it polls again, so a load whose
 * requests come further apart than the window costs almost nothing, and
 * one window that finds work polls at every idle moment again. Also parses
 * RINGRPC_IDLE_POLL_US.
 */
import { DriverUnavailable } from "../errors.ts";

/** The longest window: a poll keeps Bun's own timers and I/O waiting this long at most. */
export const MAX_IDLE_POLL_US = 1000;
/** After misses in a row, idle moments skipped before the next poll: 2^n - 1, n at most this. */
const MAX_BACKOFF = 6;

export class IdlePoll {
  readonly windowUs: number;
  readonly windowMs: number;
  private skip = 0;
  private backoff = 0;

  constructor(windowUs: number) {
    if (!Number.isInteger(windowUs) || windowUs < 1 || windowUs > MAX_IDLE_POLL_US) throw new RangeError(`idlePollUs must be an integer from 0 to ${MAX_IDLE_POLL_US}, got ${windowUs}`);
    this.windowUs = windowUs;
    this.windowMs = windowUs / 1000;
  }

  /** Whether this idle moment polls (false: it is one a recent miss skips). */
  shouldPoll(): boolean {
    if (this.skip === 0) return true;
    this.skip--;
    return false;
  }

  /** The window found work: poll at every idle moment again. */
  hit(): void {
    this.backoff = 0;
    this.skip = 0;
  }

  /** The window found nothing: skip twice as many idle moments as after the last miss. */
  miss(): void {
    if (this.backoff < MAX_BACKOFF) this.backoff++;
    this.skip = (1 << this.backoff) - 1;
  }
}

/** RINGRPC_IDLE_POLL_US: the default window in microseconds (0 or unset: no idle poll). */
export function idlePollFromEnv(env: Record<string, string | undefined> = process.env): number {
  const v = (env.RINGRPC_IDLE_POLL_US ?? "").trim();
  if (v === "") return 0;
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0 || n > MAX_IDLE_POLL_US) throw new DriverUnavailable("uring", `RINGRPC_IDLE_POLL_US must be an integer from 0 to ${MAX_IDLE_POLL_US} (microseconds), got "${v}"`);
  return n;
}
