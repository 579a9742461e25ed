/**
 * io_uring driver: the loop's idle behaviour (DESIGN.md, "The event loop"):
 * an idle runtime with armed reads and a listener costs ~0 CPU, and Bun's own
 * timers (setTimeout) stay on time both while the runtime sleeps on its
 * eventfd and while it runs echo load; JS queuing an op from a timer wakes
 * the idle loop.
 */
import { readFileSync } from "node:fs";
import { describe, expect, test } from "bun:test";
import type { Conn, Runtime } from "../../src/runtime/types.ts";
import { createUringRuntime } from "../../src/runtime/uring/runtime.ts";
import { probeUring } from "../../src/runtime/uring/probe.ts";

const probe = probeUring();
const it = (name: string, fn: () => Promise<void>, timeoutMs = 15_000) => test.skipIf(!probe.ok)(name, fn, timeoutMs);

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

function threadCpuNs(): number {
  return Number(readFileSync("/proc/thread-self/schedstat", "utf8").split(" ")[0]);
}

describe(`uring idle loop${probe.ok ? "" : ` (skipped: ${probe.reason})`}`, () => {
  it("an idle runtime uses < 2% CPU for 1 s and setTimeout(10) fires within a few ms", async () => {
    const rt = createUringRuntime();
    const p = await echoPair(rt); // the server's read stays armed all along
    await Bun.sleep(20);
    const s0 = rt.stats();
    // CPU of this JS thread only (ns on CPU, from schedstat): the shared test
    // process also runs GC and other files' leftovers on other threads.
    const cpu0 = threadCpuNs();
    const t0 = performance.now();
    await Bun.sleep(1000);
    const wall = performance.now() - t0;
    const pct = ((threadCpuNs() - cpu0) / 1e6 / wall) * 100;
    const steps = rt.stats().steps - s0.steps;
    expect(pct).toBeLessThan(2);
    expect(steps).toBeLessThan(20); // it slept on the eventfd, not polled
    const late = await timerLateness(10);
    expect(late[5]!).toBeLessThan(3);
    expect(late[9]!).toBeLessThan(20);
    await p.stop();
    await rt.close();
  });

  it("an op queued from a timer callback wakes the idle loop at once", async () => {
    const rt = createUringRuntime();
    const p = await echoPair(rt);
    await Bun.sleep(20);
    const took = await new Promise<number>((resolve) => {
      setTimeout(async () => {
        const t0 = performance.now();
        const out = rt.buffers.acquire(5);
        out.set([1, 2, 3, 4, 5]);
        await p.client.writeAll(out);
        const back = await p.client.read(rt.buffers.acquire(5));
        expect(back.res).toBe(5);
        resolve(performance.now() - t0);
      }, 5);
    });
    expect(took).toBeLessThan(20);
    await p.stop();
    await rt.close();
  });

  it("setTimeout(10) stays on time while the runtime runs echo load", async () => {
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
    expect(late[10]!).toBeLessThan(5);
    expect(late[18]!).toBeLessThan(30);
  });
});
