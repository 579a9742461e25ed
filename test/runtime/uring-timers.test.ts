/**
 * io_uring driver timers: the shim takes whole milliseconds, so a fraction
 * must round up (a sleep or deadline never ends early), and a fractional
 * sleep on a real ring lasts at least what was asked for.
 */
import { describe, expect, test } from "bun:test";
import { probeUring } from "../../src/runtime/uring/probe.ts";
import { createUringRuntime } from "../../src/runtime/uring/runtime.ts";
import { timerMs } from "../../src/runtime/uring/ops/timers.ts";
import { skipTitle } from "../helpers/skip.ts";

const probe = probeUring();

describe("uring timers", () => {
  test("timerMs rounds a fraction up and clamps what the shim cannot take", () => {
    expect([0.4, 1, 1.2, 2.5, 10].map(timerMs)).toEqual([1, 1, 2, 3, 10]);
    expect([0, -5, Number.NaN].map(timerMs)).toEqual([0, 0, 0]);
    expect(timerMs(1e12)).toBe(0x7fffffff);
  });

  test.skipIf(!probe.ok)(skipTitle("a fractional sleep and deadline never end early on a real ring", probe.ok ? null : probe.reason), async () => {
    const rt = createUringRuntime();
    try {
      const t0 = performance.now();
      await rt.sleep(1.5);
      const slept = performance.now() - t0;
      const t1 = performance.now();
      const fired = await rt.timeout(1.5, (signal) => new Promise<number>((resolve) => signal.addEventListener("abort", () => resolve(performance.now() - t1))));
      // Rounded down, both would end after ~1 ms.
      expect(slept).toBeGreaterThanOrEqual(1.5);
      expect(fired).toBeGreaterThanOrEqual(1.5);
    } finally {
      await rt.close();
    }
  });
});
