/**
 * An idle runtime wakes for a completion that arrives from another process:
 * a Python process sends its CLOCK_MONOTONIC time every few milliseconds
 * (long enough for the loop to go back to sleep each time), and the
 * runtime, on each driver, measures when the bytes reach JS. p99 must stay
 * under 1 ms; the lost wake-up this guards against cost ~16 ms. On io_uring
 * the runtime must also have slept between packets and been woken by its
 * eventfd, not by polling. A run that misses the bound is repeated up to
 * twice more (bestOf): another process's burst passes, a stall fails all three.
 */
import { describe, expect, test } from "bun:test";
import { loadNative } from "../../src/runtime/native.ts";
import { createRuntimeFor } from "../../src/runtime/select.ts";
import type { Conn, DriverName } from "../../src/runtime/types.ts";
import { probeUring } from "../../src/runtime/uring/probe.ts";
import { bestOf } from "./fixtures/latency-runs.ts";

const probe = probeUring();
const uringSkip = probe.ok ? null : `io_uring unavailable: ${probe.reason}`;
const sender = new URL("./fixtures/clock_sender.py", import.meta.url).pathname;
const PACKETS = 200;
const GAP_MS = 3;
// Measured 2026-12-05 (2 vCPU Xeon, kernel 6.18.44, COOP ring): p99 0.10-0.3 ms
// on io_uring and epoll alike. The issue's bound is 1 ms.
const P99_US = 1000;

/** The native clock is CLOCK_MONOTONIC, the same one Python's sender reads. */
function clockMs(): number {
  return loadNative().rr_clock_ms();
}

async function readExactly(conn: Conn, buf: Uint8Array): Promise<number> {
  let got = 0;
  while (got < buf.length) {
    const r = await conn.read(buf.subarray(got));
    if (r.error !== null) throw r.error;
    if (r.res === 0) return got;
    got += r.res;
  }
  return got;
}

interface Measured {
  packets: number;
  p99Us: number;
  wakeMode: string | undefined;
  sleeps: number;
  eventfdWakes: number;
  pollWakes: number;
}

/** One run: a fresh runtime, PACKETS packets from a Python process, their lateness and the loop's counters. */
async function measure(driver: DriverName): Promise<Measured> {
  const rt = await createRuntimeFor(driver);
  const listener = await rt.listen({ host: "127.0.0.1", port: 0 });
  const proc = Bun.spawn(["python3", sender, String(listener.port), String(PACKETS), String(GAP_MS)], { stderr: "pipe" });
  const kill = setTimeout(() => proc.kill("SIGKILL"), 20_000);
  const lateUs: number[] = [];
  let before, after;
  try {
    const conn = await listener.accept();
    before = rt.stats().wake;
    const buf = new Uint8Array(8);
    const view = new DataView(buf.buffer);
    while (lateUs.length < PACKETS && (await readExactly(conn, buf)) === 8) {
      lateUs.push((clockMs() - view.getFloat64(0, true)) * 1000);
    }
    after = rt.stats().wake;
    await conn.close();
  } finally {
    clearTimeout(kill);
    await listener.close();
    await rt.close();
  }
  expect(await proc.exited).toBe(0);
  lateUs.sort((a, b) => a - b);
  return {
    packets: lateUs.length,
    p99Us: lateUs[Math.min(lateUs.length - 1, Math.floor(lateUs.length * 0.99))] ?? Infinity,
    wakeMode: after?.wakeMode,
    sleeps: (after?.sleeps ?? 0) - (before?.sleeps ?? 0),
    eventfdWakes: (after?.eventfdWakes ?? 0) - (before?.eventfdWakes ?? 0),
    pollWakes: (after?.pollWakes ?? 0) - (before?.pollWakes ?? 0),
  };
}

for (const driver of ["uring", "epoll"] as DriverName[]) {
  const skip = driver === "uring" ? uringSkip : null;
  describe.skipIf(skip !== null)(`idle ${driver} runtime${skip ? ` (skipped: ${skip})` : ""}`, () => {
    test(`wakes within ${P99_US / 1000} ms p99 for packets from another process`, async () => {
      const r = await bestOf(3, () => measure(driver), (x) => x.p99Us < P99_US);
      expect(r.packets).toBe(PACKETS);
      if (driver === "uring") {
        expect(r.wakeMode).toBe("eventfd");
        // Asleep between packets, and woken by the eventfd for (nearly) each one.
        expect(r.sleeps).toBeGreaterThanOrEqual(PACKETS * 0.9);
        expect(r.eventfdWakes).toBeGreaterThanOrEqual(PACKETS * 0.9);
        expect(r.pollWakes).toBe(0);
      }
      expect(r.p99Us).toBeLessThan(P99_US);
    });
  });
}
