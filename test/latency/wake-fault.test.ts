/**
 * What happens when the kernel's eventfd wake-up is lost: with the test-only
 * fault RINGRPC_TEST_FAULT=mute-eventfd the ring's eventfd never fires. The
 * startup self-test must see it and pick the safe "poll" wake mode (and say
 * so), a server must still answer sequential calls within the low-load
 * bound, and a loop that loses its wake-ups after start must be caught by
 * the guard's probes (counted as late wake-ups, then switched to poll).
 */
import { describe, expect, test } from "bun:test";
import { existsSync } from "node:fs";
import { probeUring } from "../../src/runtime/uring/probe.ts";
import { startUringRuntime } from "../../src/runtime/uring/runtime.ts";
import { skipTitle } from "../helpers/skip.ts";
import { startServer } from "../helpers/server-process.ts";
import { loadgenPath, runLoadgen } from "./fixtures/latency-runs.ts";

const probe = probeUring();
const noLoadgen = existsSync(loadgenPath) ? null : `bench/loadgen not built (${loadgenPath}): run make -C bench/loadgen`;
const skip = probe.ok ? null : `io_uring unavailable: ${probe.reason}`;
const FAULT = { RINGRPC_TEST_FAULT: "mute-eventfd" };
// Poll mode bounds an idle sleep at 1 ms: measured p50 0.6-1.1 ms, p99 1.2-2 ms
// (2026-12-05, 2 vCPU Xeon). The low-load bound for 16 connections is 5 ms;
// the lost wake-up without the safe mode never completes a call at all.
const POLL_P99_US = 5000;

/** A uring runtime whose eventfd never fires (the fault is read when its ring is created). */
async function mutedRuntime(wakeCheck: boolean): Promise<Awaited<ReturnType<typeof startUringRuntime>>> {
  process.env.RINGRPC_TEST_FAULT = "mute-eventfd";
  try {
    return await startUringRuntime({ wakeCheck });
  } finally {
    delete process.env.RINGRPC_TEST_FAULT;
  }
}

describe.skipIf(skip !== null)(`a muted eventfd${skip ? ` (skipped: ${skip})` : ""}`, () => {
  test("the self-test finds the samples late and picks the poll wake mode, which still delivers", async () => {
    const rt = await mutedRuntime(true);
    try {
      const w = rt.stats().wake!;
      expect(w.selfTest?.verdict).toBe("late");
      // All of them but for one an unrelated wake-up may rescue now and then (see the server case below).
      expect(w.selfTest!.late).toBeGreaterThanOrEqual(w.selfTest!.samples - 2);
      expect(w.wakeMode).toBe("poll");
      expect(w.eventfdWakes).toBe(0);
      // Poll mode delivers: a 1 ms timer completes close to on time.
      const t0 = performance.now();
      await rt.sleep(5);
      expect(performance.now() - t0).toBeLessThan(5 + 4);
    } finally {
      await rt.close();
    }
  });

  test("the guard counts late wake-ups of a loop that loses them after start, then switches to poll", async () => {
    const rt = await mutedRuntime(false);
    try {
      rt.guard.probeEveryMs = 0; // probe at every idle moment instead of once a second
      // Nothing but the guard's probes and a JS timer nudging the loop every
      // 10 ms: each probe is seen ~10 ms late until the guard switches modes.
      const nudge = setInterval(() => rt.defer(() => {}), 10);
      const deadline = Date.now() + 3000;
      while (rt.stats().wake!.wakeMode === "eventfd" && Date.now() < deadline) await Bun.sleep(5);
      clearInterval(nudge);
      const w = rt.stats().wake!;
      expect(w.lateWakes).toBeGreaterThanOrEqual(3);
      expect(w.maxLateUs).toBeGreaterThan(2000);
      expect(w.wakeMode).toBe("poll");
    } finally {
      await rt.close();
    }
  });

  test("in the poll mode the guard re-runs the self-test and returns to the eventfd once wake-ups are on time again", async () => {
    const rt = await mutedRuntime(true);
    try {
      expect(rt.stats().wake!.wakeMode).toBe("poll");
      // A re-test while the fault lasts fails and backs off; then the kernel "recovers".
      rt.guard.recheckEveryMs = 0;
      const deadline = Date.now() + 5000;
      while (rt.stats().wake!.rechecks < 1 && Date.now() < deadline) await Bun.sleep(10);
      // No more re-tests for now; one already running (~0.35 s under the fault) ends first.
      rt.guard.recheckEveryMs = 1e9;
      await Bun.sleep(600);
      expect(rt.stats().wake!).toMatchObject({ recoveries: 0, wakeMode: "poll" });
      expect(rt.stats().wake!.rechecks).toBeGreaterThanOrEqual(1);
      rt.core.ring.eventfdMuted = false;
      rt.guard.recheckEveryMs = 0;
      while (rt.stats().wake!.recoveries < 1 && Date.now() < deadline) await Bun.sleep(10);
      const w = rt.stats().wake!;
      expect(w.wakeMode).toBe("eventfd");
      expect(w.recoveries).toBe(1);
      // Woken by the eventfd again: a 5 ms ring sleep ends without the poll timer.
      const before = rt.stats().wake!;
      await rt.sleep(5);
      expect(rt.stats().wake!.pollWakes).toBe(before.pollWakes);
    } finally {
      await rt.close();
    }
  });

  test.skipIf(noLoadgen !== null)(skipTitle("a server under the fault says so at startup and answers 1 connection's calls within the bound", noLoadgen), async () => {
    const srv = await startServer("bench/server/server.ts", ["--port", "0", "--workers", "1", "--driver", "uring"], { env: FAULT });
    try {
      for (let i = 0; i < 50 && !srv.stderr().includes("driver="); i++) await Bun.sleep(10);
      // Every sample waits for the fault's late wake-up, unless something else (a timer, the
      // collector) happens to wake the loop in time: once in a while 11/12 (mutation smoke run,
      // 2026-12-05). The verdict needs 2; at least 10 says the lateness is the fault's.
      const warn = srv.stderr().match(/idle wake-ups are late on this machine \((\d+)\/12 over 2 ms/);
      const line = srv.stderr().match(/driver=uring ring=coop wake=poll \(wake self-test, p50 [\d.]+ ms, max [\d.]+ ms, (\d+)\/12 late\)/);
      expect({ warned: Number(warn?.[1] ?? 0) >= 10, startupLine: Number(line?.[1] ?? 0) >= 10 }).toEqual({ warned: true, startupLine: true });
      const r = await runLoadgen(srv.port, 1, 0.5);
      expect(r.errors).toBe(0);
      expect(r.requests).toBeGreaterThan(200);
      expect(r.latency_us.p99).toBeLessThan(POLL_P99_US);
    } finally {
      expect(await srv.stop()).toBe(0);
    }
  });
});
