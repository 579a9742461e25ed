/**
 * The process supervisor's restart back-off (src/runtime/restart-backoff.ts):
 * quick deaths double the wait up to the cap, the crash loop is announced
 * once, and a child that lived long enough starts the count over.
 */
import { describe, expect, test } from "bun:test";
import { defaultBackoff, RestartBackoff } from "../../src/runtime/restart-backoff.ts";

describe("RestartBackoff", () => {
  test("quick deaths wait 100, 200, 400 ... ms, capped at 5 s, and the loop is announced once", () => {
    const b = new RestartBackoff();
    const plans = Array.from({ length: 10 }, () => b.afterDeath(50));
    expect(plans.map((p) => p.delayMs)).toEqual([100, 200, 400, 800, 1600, 3200, 5000, 5000, 5000, 5000]);
    expect(plans.map((p) => p.quickDeaths)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    expect(plans.map((p) => p.loopStarted)).toEqual([false, false, false, false, false, false, true, false, false, false]);
  });

  test("a child that lived stableMs starts over at the first delay, and a new loop is announced again", () => {
    const b = new RestartBackoff({ firstMs: 10, maxMs: 40, stableMs: 1000 });
    expect([b.afterDeath(1), b.afterDeath(1), b.afterDeath(1)].map((p) => [p.delayMs, p.loopStarted])).toEqual([[10, false], [20, false], [40, true]]);
    expect(b.afterDeath(999).delayMs).toBe(40);
    const reset = b.afterDeath(1000);
    expect([reset.delayMs, reset.quickDeaths, reset.loopStarted]).toEqual([10, 1, false]);
    expect([b.afterDeath(1), b.afterDeath(1)].map((p) => [p.delayMs, p.loopStarted])).toEqual([[20, false], [40, true]]);
  });

  test("the defaults are the documented ones, and a policy that cannot work is refused", () => {
    expect(defaultBackoff).toEqual({ firstMs: 100, maxMs: 5000, stableMs: 10_000 });
    expect(() => new RestartBackoff({ firstMs: 0, maxMs: 10, stableMs: 10 })).toThrow("restart back-off needs 0 < firstMs <= maxMs and stableMs > 0");
    expect(() => new RestartBackoff({ firstMs: 20, maxMs: 10, stableMs: 10 })).toThrow(RangeError);
  });
});
