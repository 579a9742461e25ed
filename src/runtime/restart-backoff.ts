/**
 * When the process supervisor restarts a dead child: the first restart
 * after `firstMs`, each quick death after that doubles the wait up to
 * `maxMs`, and a child that lived `stableMs` or more starts the count over.
 * A child that keeps dying young therefore settles at one start per `maxMs`
 * (a crash loop never spins), and says so once. Pure: no timers, no clock.
 */

export interface BackoffPolicy {
  firstMs: number;
  maxMs: number;
  /** A child that lived this long before dying restarts after firstMs again. */
  stableMs: number;
}

export const defaultBackoff: BackoffPolicy = { firstMs: 100, maxMs: 5000, stableMs: 10_000 };

export interface RestartPlan {
  /** Wait this long before the next start. */
  delayMs: number;
  /** Quick deaths in a row, this one included. */
  quickDeaths: number;
  /** True once, on the death whose wait first reaches maxMs: the one to log as a crash loop. */
  loopStarted: boolean;
}

export class RestartBackoff {
  private readonly policy: BackoffPolicy;
  private quick = 0;
  private looping = false;

  constructor(policy: BackoffPolicy = defaultBackoff) {
    if (!(policy.firstMs > 0 && policy.maxMs >= policy.firstMs && policy.stableMs > 0)) {
      throw new RangeError(`restart back-off needs 0 < firstMs <= maxMs and stableMs > 0 (got ${JSON.stringify(policy)})`);
    }
    this.policy = policy;
  }

  /** Plans the restart after a child that lived `livedMs` died. */
  afterDeath(livedMs: number): RestartPlan {
    if (livedMs >= this.policy.stableMs) {
      this.quick = 0;
      this.looping = false;
    }
    const delayMs = Math.min(this.policy.maxMs, this.policy.firstMs * 2 ** Math.min(this.quick, 30));
    this.quick++;
    const loopStarted = delayMs === this.policy.maxMs && !this.looping;
    if (loopStarted) this.looping = true;
    return { delayMs, quickDeaths: this.quick, loopStarted };
  }
}
