/**
 * bench/server/server.ts, the server every benchmark run uses, called with
 * the generated bench client over real sockets on each driver (io_uring
 * missing is a skip with the reason): each method answers correctly, bad
 * requests get the documented errors, and sequential calls on one connection
 * come back fast (a lost wake-up costs ~16 ms per call).
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { Bench, BenchClient } from "../../bench/gen/bench.ts";
import type { MsgWriter } from "../../src/codec/writer.ts";
import { createChannel, type Channel } from "../../src/rpc/client.ts";
import { createRuntimeFor } from "../../src/runtime/select.ts";
import type { Runtime } from "../../src/runtime/types.ts";
import { probeUring } from "../../src/runtime/uring/probe.ts";
import { startServer, type ServerProcess } from "../helpers/server-process.ts";

const uring = probeUring();
/** Sequential calls timed on one connection, after WARMUP_CALLS untimed ones. */
const SEQUENTIAL_CALLS = 1000;
/** Past JIT tier-up: with 200 warm-up calls, compile pauses put p99 at 2-3.5 ms now and then (measured 2026-12-05). */
const WARMUP_CALLS = 2000;
/** Calls stop after this long, so a stall fails on the numbers, not on the test timeout (1,200 calls take ~60 ms). */
const SEQUENTIAL_BUDGET_MS = 4000;

function percentile(sorted: readonly number[], q: number): number {
  return sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)] as number;
}

for (const driver of ["uring", "epoll"] as const) {
  describe.skipIf(driver === "uring" && !uring.ok)(`bench server (${driver})${driver === "uring" && !uring.ok ? ` (skipped: io_uring unavailable here: ${uring.reason})` : ""}`, () => {
    let server: ServerProcess;
    let rt: Runtime;
    let channel: Channel;
    let client: BenchClient;
    beforeAll(async () => {
      server = await startServer("bench/server/server.ts", ["--port", "0", "--workers", "2", "--driver", driver]);
      rt = await createRuntimeFor(driver);
      channel = createChannel(rt, { endpoints: [{ host: server.host, port: server.port }] });
      client = new BenchClient(channel);
    });
    afterAll(async () => {
      await channel.close();
      await rt.close();
      expect(await server.stop()).toBe(0);
    });

    test("large messages in flight: 128 echoes of 1 MiB, 32 at a time, finish within seconds", async () => {
      const data = new Uint8Array(1 << 20).fill(5);
      let next = 0;
      const t0 = performance.now();
      await Promise.all(
        Array.from({ length: 32 }, async () => {
          while (next < 128) {
            next++;
            const r = await client.echo({ data });
            if (r.data.length !== data.length) throw new Error(`echo of ${data.length} bytes came back with ${r.data.length}`);
          }
        }),
      );
      // The server's output passes its high-water mark at once and it holds the requests it has
      // read (FrameDecoder.hold). When the hold joined every kept chunk to the ones before, the
      // io_uring server did ~14 calls/s here (~9 s); with a list of chunks ~160/s (under 1 s).
      expect(performance.now() - t0).toBeLessThan(5000);
    }, 20_000);

    test("announces its driver and worker count", () => {
      expect(server.driver).toBe(driver);
      expect(server.workers).toBe(2);
    });

    test(`${SEQUENTIAL_CALLS} sequential calls on one connection: p50 and p99 far below a lost wake-up`, async () => {
      const req = { data: new Uint8Array(64).fill(7) };
      const until = performance.now() + SEQUENTIAL_BUDGET_MS;
      for (let i = 0; i < WARMUP_CALLS && performance.now() < until; i++) await client.echo(req);
      const measure = async (): Promise<number[]> => {
        const us: number[] = [];
        for (let i = 0; i < SEQUENTIAL_CALLS && performance.now() < until; i++) {
          const t = performance.now();
          await client.echo(req);
          us.push((performance.now() - t) * 1000);
        }
        return us.sort((a, b) => a - b);
      };
      // The client shares a core with a server worker here: a run that misses the
      // bound is measured once more (another process's burst passes, a stall cannot).
      let us = await measure();
      if (percentile(us, 0.99) >= 2000) us = await measure();
      const [p50, p99] = [percentile(us, 0.5), percentile(us, 0.99)];
      // Measured 2026-12-05 (Xeon, 2 vCPU, shared and busy; client and server on the same driver, 9 runs):
      // uring p50 24-98 µs, p99 126-1267 µs; epoll p50 16-72 µs, p99 77-846 µs. With the 16 ms wake-up
      // stall every call takes ~16 ms (4 calls took 165 ms), so both bounds fail at once.
      expect({ calls: us.length, p50Under500us: p50 < 500, p99Under2ms: p99 < 2000, p50, p99 })
        .toMatchObject({ calls: SEQUENTIAL_CALLS, p50Under500us: true, p99Under2ms: true });
    }, 20_000);

    test("echo, echoText and add", async () => {
      const data = Uint8Array.from({ length: 64 }, (_, i) => i * 3);
      expect((await client.echo({ data })).data).toEqual(data);
      expect((await client.echoText({ text: "héllo, wörld" })).text).toBe("héllo, wörld");
      expect((await client.add({ a: 2147483647, b: 1 })).sum).toBe(2147483648n);
      expect((await client.add({ a: -5, b: 3 })).sum).toBe(-2n);
    });

    test("order totals price x quantity and echoes the items", async () => {
      const items = [
        { id: 1, name: "tea", price: 2.5, quantity: 4, tags: ["hot"], attrs: { size: "L" } },
        { id: 2, name: "cake", price: 3.25, quantity: 2, tags: [], attrs: {} },
      ];
      const r = await client.order({ customer: "ann", items });
      expect(r.total).toBe(16.5);
      expect(r.count).toBe(2);
      expect(r.items.map((i) => i.name)).toEqual(["tea", "cake"]);
      expect({ ...r.items[0]!.attrs }).toEqual({ size: "L" });
    });

    test("ticks streams count messages of size bytes in order", async () => {
      const seqs: number[] = [];
      for await (const t of client.ticks({ count: 300, size: 16 })) {
        expect(t.data).toEqual(new Uint8Array(16).fill(t.seq & 0xff));
        seqs.push(t.seq);
      }
      expect(seqs).toEqual(Array.from({ length: 300 }, (_, i) => i));
    });

    test("a request of the wrong shape is INVALID_ARGUMENT naming the field, and the server keeps serving", async () => {
      // Bypass the generated encoder: field 1 (a: i32) goes out as a string.
      const add = Bench.methods.add;
      const wrong = { ...add, input: { ...add.input, encode(w: MsgWriter) { w.mapHeader(2); w.int(1); w.str("x"); w.int(2); w.int(3); } } };
      const err = await channel.unary(wrong, { a: 0, b: 0 }).then(() => null, (e: { code: string; message: string }) => e);
      expect(err?.code).toBe("INVALID_ARGUMENT");
      expect(err?.message).toBe("could not decode bench.v1.AddRequest: field a: expected int but found string");
      expect((await client.add({ a: 1, b: 2 })).sum).toBe(3n);
    });

    test("a value the generated encoder cannot write fails on the client with INVALID_ARGUMENT, before sending", async () => {
      const bad = { a: 1.5, b: 2 } as unknown as { a: number; b: number };
      const err = await client.add(bad).then(() => null, (e: { code: string; message: string }) => e);
      expect(err?.code).toBe("INVALID_ARGUMENT");
      expect(err?.message).toBe("could not encode request bench.v1.AddRequest of bench.v1.Bench/add: AddRequest.a: expected i32 (an integer in [-2^31, 2^31-1]), got 1.5");
    });
  });
}
