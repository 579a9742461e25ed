/**
 * io_uring driver: the loop's idle behaviour (docs/RUNTIME.md, "The loop"
 * and "Waking up"): an idle runtime with armed reads and a listener sleeps
 * (a handful of steps, next to no CPU, woken by nothing but its guard),
 * Bun's own timers stay as punctual as they are without a runtime, both
 * while the runtime sleeps and while it runs echo load, and JS queuing an op
 * from a timer wakes the idle loop at once. With nothing open (no socket,
 * no op, no timer) the loop lets go of its eventfd reader, so it does not
 * hold the process, and a timer armed later still wakes it through the
 * eventfd, on time. A completion from another process waking the loop is
 * test/latency/idle-wake.test.ts; a client process exiting once its channels
 * are closed is test/rpc/client-exit.test.ts.
 */
import { readFileSync } from "node:fs";
import { describe, expect, test } from "bun:test";
import type { Conn, Runtime } from "../../src/runtime/types.ts";
import { createUringRuntime } from "../../src/runtime/uring/runtime.ts";
import { probeUring } from "../../src/runtime/uring/probe.ts";
import { bestOf } from "../latency/fixtures/latency-runs.ts";

const probe = probeUring();
const it = (name: string, fn: () => Promise<void>, timeoutMs = 15_000) =>
  test.skipIf(!probe.ok)(`${name}${probe.ok ? "" : ` (skipped: ${probe.reason})`}`, fn, timeoutMs);

/** How late each of `count` setTimeout(10) calls fires, in ms, sorted. */
async function timerLateness(count: number): Promise<number[]> {
  const late: number[] = [];
  for (let i = 0; i < count; i++) {
    const t0 = performance.now();
    await new Promise<void>((resolve) => setTimeout(resolve, 10));
    late.push(performance.now() - t0 - 10);
  }
  return late.sort((a, b) => a - b);
}

async function echoPair(rt: Runtime): Promise<{ client: Conn; server: Conn; stop(): Promise<void> }> {
  const l = await rt.listen({ port: 0 });
  const accepted = l.accept();
  const client = await rt.connect({ host: "127.0.0.1", port: l.port });
  const server = await accepted;
  const serving = (async () => {
    const buf = rt.buffers.acquire(16 << 10);
    for (;;) {
      const r = await server.read(buf);
      if (r.res <= 0) return;
      if ((await server.writeAll(buf.subarray(0, r.res))).res < 0) return;
    }
  })();
  return {
    client,
    server,
    async stop() {
      await client.close();
      await serving;
      await server.close();
      await l.close();
    },
  };
}

/** CPU time of this JS thread in ns (schedstat): being preempted adds none, so it holds on a busy machine. */
function threadCpuNs(): number {
  return Number(readFileSync("/proc/thread-self/schedstat", "utf8").split(" ")[0]);
}

interface IdleSecond {
  steps: number;
  pollWakes: number;
  sleeps: number;
  /** Sleeps that let go of the eventfd reader (nothing open): none may, with a read armed and a listener. */
  releases: number;
  cpuMs: number;
}

/** Counters and this thread's CPU over one idle second of a runtime with an armed read and a listener. */
async function idleSecond(): Promise<IdleSecond> {
  const rt = createUringRuntime();
  const p = await echoPair(rt); // the server's read stays armed all along
  await Bun.sleep(20);
  Bun.gc(true);
  const s0 = rt.stats();
  const releases0 = rt.core.loop.releases;
  const cpu0 = threadCpuNs();
  await Bun.sleep(1000);
  const cpuMs = (threadCpuNs() - cpu0) / 1e6;
  const s1 = rt.stats();
  const releases = rt.core.loop.releases - releases0;
  await p.stop();
  await rt.close();
  return {
    steps: s1.steps - s0.steps,
    pollWakes: s1.wake!.pollWakes - s0.wake!.pollWakes,
    sleeps: s1.wake!.sleeps - s0.wake!.sleeps,
    releases,
    cpuMs: Math.round(cpuMs * 100) / 100,
  };
}

describe("uring idle loop", () => {
  it("an idle runtime sleeps for 1 s: few steps, < 10 ms of CPU, no polling", async () => {
    // Measured 2026-12-05 (2 vCPU Xeon, 3 runs): 0 steps, 0 new sleeps (one
    // sleep spans the second), 2.1-2.5 ms of this thread's CPU (the test
    // runner's own work included). A polling loop would step ~1,000 times.
    // All test files share one process, so a garbage collection of what the
    // earlier files left can land in the window (CI saw one): up to three
    // tries; a loop that polls or spins fails all three.
    const within = (r: IdleSecond) => r.steps <= 3 && r.pollWakes === 0 && r.sleeps <= 2 && r.releases === 0 && r.cpuMs < 10;
    const r = await bestOf(3, idleSecond, within);
    expect({ ...r, within: within(r) }).toEqual({ ...r, within: true });
  }, 20_000);

  it("setTimeout(10) is as punctual beside an idle runtime as without one", async () => {
    const alone = await timerLateness(10);
    const rt = createUringRuntime();
    const p = await echoPair(rt);
    await Bun.sleep(20);
    const beside = await timerLateness(10);
    await p.stop();
    await rt.close();
    // Median lateness measured 0.11-0.15 ms alone, 0.12-0.16 ms beside; 1 ms is
    // the noise of a shared machine, a late loop wake-up costs far more.
    expect(beside[5]!).toBeLessThan(alone[5]! + 1);
  });

  it("an op queued from a timer callback wakes the idle loop at once, through JS", async () => {
    const rt = createUringRuntime();
    const p = await echoPair(rt);
    await Bun.sleep(20);
    const before = rt.stats().wake!;
    const { took, res } = await new Promise<{ took: number; res: number }>((resolve, reject) => {
      setTimeout(() => {
        const t0 = performance.now();
        const out = rt.buffers.acquire(5);
        out.set([1, 2, 3, 4, 5]);
        p.client
          .writeAll(out)
          .then(() => p.client.read(rt.buffers.acquire(5)))
          .then((back) => resolve({ took: performance.now() - t0, res: back.res }), reject);
      }, 5);
    });
    const after = rt.stats().wake!;
    await p.stop();
    await rt.close();
    expect(res).toBe(5);
    expect(after.jsWakes).toBeGreaterThan(before.jsWakes);
    // Measured 0.32-0.49 ms; a loop that slept through it waits for its next wake-up (~16 ms with the old lost eventfd).
    expect(took).toBeLessThan(2);
  });

  it("setTimeout(10) stays about as punctual while the runtime runs echo load", async () => {
    const alone = await timerLateness(20);
    const rt = createUringRuntime();
    const pairs = await Promise.all(Array.from({ length: 4 }, () => echoPair(rt)));
    let stop = false;
    let trips = 0;
    const load = pairs.map(async ({ client }) => {
      const out = rt.buffers.acquire(64);
      const inb = rt.buffers.acquire(64);
      while (!stop) {
        await client.writeAll(out);
        let got = 0;
        while (got < 64) {
          const r = await client.read(inb.subarray(got));
          if (r.res <= 0) return;
          got += r.res;
        }
        trips++;
      }
    });
    await Bun.sleep(20);
    const before = trips;
    const late = await timerLateness(20);
    const during = trips - before;
    stop = true;
    await Promise.all(load);
    for (const p of pairs) await p.stop();
    await rt.close();
    expect(during).toBeGreaterThan(500); // the load really ran meanwhile
    // Under load the loop yields a macrotask every 16 steps: measured median
    // 0.07-0.21 ms late (alone 0.12-0.14 ms), 19th of 20 2.0-5.0 ms (alone
    // 0.19-0.55 ms).
    expect(late[10]!).toBeLessThan(alone[10]! + 1);
    expect(late[18]!).toBeLessThan(alone[18]! + 10);
  });

  it("with nothing open the loop lets go of its eventfd reader; a timer armed later still wakes it through the eventfd, on time", async () => {
    const rt = createUringRuntime();
    try {
      await rt.sleep(1); // the loop has slept with a reader once
      const p = await echoPair(rt);
      await p.stop();
      await Bun.sleep(20); // idle, nothing open
      const released = rt.core.loop.releases;
      const w0 = rt.stats().wake!;
      const late: number[] = [];
      for (let i = 0; i < 5; i++) {
        await Bun.sleep(5); // idle with nothing open again: the next timer needs a new reader
        const t0 = performance.now();
        await rt.sleep(5);
        late.push(performance.now() - t0 - 5);
      }
      await Bun.sleep(5); // the last timer's idle moment
      const w1 = rt.stats().wake!;
      late.sort((a, b) => a - b);
      expect(released).toBeGreaterThan(0);
      // Each of the 5 timers ended a sleep through a new eventfd reader, and each idle moment between them released it.
      expect(w1.eventfdWakes - w0.eventfdWakes).toBeGreaterThanOrEqual(5);
      expect(rt.core.loop.releases - released).toBeGreaterThanOrEqual(5);
      expect(w1.pollWakes).toBe(w0.pollWakes);
      // Measured median 0.1-0.3 ms late (2 vCPU, busy); a timer slept through ends only at the next JS nudge, here never.
      expect(late[2]!).toBeLessThan(2);
    } finally {
      await rt.close();
    }
  });
});
