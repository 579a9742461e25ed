/**
 * Which pooled connection a new call goes to (docs/RPC.md, "Health-aware
 * balancing"): among the ready ones (connected, no GOAWAY, health SERVING,
 * address not ejected: backend.ts), in turn (`round_robin`, the default) or
 * the one with the fewest open and queued calls (`least_outstanding`, ties
 * in turn). One pass over the pool at most, no allocation: a round-robin
 * pick usually looks at one entry. Entries passed over that are not
 * connected are woken (they start connecting when their backoff allows), so
 * every address is tried again while calls flow. Owns the choice only.
 */
import type { Backend, PooledConnection } from "./backend.ts";

export type BalancePolicy = "round_robin" | "least_outstanding";

export class Balancer {
  private next: number;

  constructor(readonly policy: BalancePolicy) {
    if (policy !== "round_robin" && policy !== "least_outstanding")
      throw new TypeError(`balance must be "round_robin" or "least_outstanding" (got ${JSON.stringify(policy)})`);
    this.next = 0;
  }

  /**
   * The entry for the next call, or null when none is ready. `avoid` (the
   * address a retried call just failed on) is taken only when no other
   * address is ready.
   */
  pick(pool: readonly PooledConnection[], avoid: Backend | null): PooledConnection | null {
    const n = pool.length;
    if (n === 0) return null;
    const start = this.next >= n ? 0 : this.next;
    let fallback: PooledConnection | null = null;
    let now = 0;
    if (this.policy === "round_robin") {
      for (let i = 0; i < n; i++) {
        const k = start + i < n ? start + i : start + i - n;
        const s = pool[k]!;
        if (s.ready) {
          if (s.backend === avoid) {
            fallback ??= s;
            continue;
          }
          this.next = k + 1;
          return s;
        }
        if (s.conn === null) s.wake(now === 0 ? (now = Date.now()) : now);
      }
      this.next = start + 1;
      return fallback;
    }
    let best: PooledConnection | null = null;
    let bestLoad = Number.POSITIVE_INFINITY;
    for (let i = 0; i < n; i++) {
      const k = start + i < n ? start + i : start + i - n;
      const s = pool[k]!;
      if (!s.ready) {
        if (s.conn === null) s.wake(now === 0 ? (now = Date.now()) : now);
        continue;
      }
      if (s.backend === avoid) {
        fallback ??= s;
        continue;
      }
      const load = s.outstanding;
      if (load < bestLoad) {
        bestLoad = load;
        best = s;
      }
    }
    this.next = start + 1;
    return best ?? fallback;
  }
}
