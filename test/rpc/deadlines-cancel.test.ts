/**
 * Deadlines, cancellation and stream flow control over real sockets on
 * every available driver.
 */
import { describe, expect, test } from "bun:test";
import type { Channel } from "../../src/rpc/client.ts";
import { RpcError, Status } from "../../src/rpc/status.ts";
import { describeDrivers } from "./helpers/drivers.ts";
import { KeyNotFound, M } from "./helpers/fixtures.ts";
import { sleep, until, withServer } from "./helpers/harness.ts";
import { makeImpl, newProbe } from "./service-impl.ts";
import { caught } from "./helpers/caught.ts";


describeDrivers("rpc deadlines and cancellation", (d) => {
  test("a call past its timeout fails with DEADLINE_EXCEEDED and the handler's signal aborts", async () => {
    const probe = newProbe();
    await withServer(d, makeImpl(probe), {}, async (h) => {
      const ch = h.channel();
      const t0 = Date.now();
      const e = await caught(ch.unary(M.hang, { text: "x" }, { timeoutMs: 50 }));
      const took = Date.now() - t0;
      expect(e.status).toBe(Status.DEADLINE_EXCEEDED);
      expect(took).toBeGreaterThanOrEqual(45);
      // Measured 50-55 ms over 5 runs per driver, 2026-12-06.
      expect(took).toBeLessThan(100);
      expect(await until(() => probe.aborted.length === 1, 1000)).toBe(true);
      expect(["CANCELLED", "DEADLINE_EXCEEDED"]).toContain(probe.aborted[0]!.reason);
      expect(h.server.stats().activeCalls).toBe(0);
    });
  });

  test("the method's IDL default deadline applies when the caller sets none", async () => {
    await withServer(d, makeImpl(newProbe()), {}, async (h) => {
      const e = await caught(h.channel().unary(M.idlDefault, { text: "x" }));
      expect(e.status).toBe(Status.DEADLINE_EXCEEDED);
    });
  });

  test("the server sees the budget and it shrinks across a hop", async () => {
    let ch: Channel | null = null;
    const downstream = async (ctx: { deadline: number | undefined }) => {
      await sleep(30);
      const r = await ch!.unary(M.hop, { n: 0 }, ctx.deadline === undefined ? {} : { deadline: ctx.deadline });
      return r.n;
    };
    await withServer(d, makeImpl(newProbe(), downstream), {}, async (h) => {
      ch = h.channel();
      const direct = await ch.unary(M.hop, { n: 0 }, { timeoutMs: 1000 });
      // Measured 999-1000 ms left (5 runs per driver, 2026-12-06).
      expect(direct.n).toBeGreaterThan(980);
      expect(direct.n).toBeLessThanOrEqual(1000);
      const hopped = await ch.unary(M.hop, { n: 1 }, { timeoutMs: 1000 });
      // After the hop's 30 ms sleep: measured 966-970 ms left (5 runs per driver, 2026-12-06).
      expect(hopped.n).toBeGreaterThan(940);
      expect(hopped.n).toBeLessThanOrEqual(1000 - 25);
      const none = await ch.unary(M.hop, { n: 0 });
      expect(none.n).toBe(-1);
    });
  });

  test("a client abort reaches the handler's signal within milliseconds", async () => {
    const probe = newProbe();
    await withServer(d, makeImpl(probe), {}, async (h) => {
      const ch = h.channel();
      await ch.unary(M.echo, { text: "warm" });
      const ac = new AbortController();
      const p = caught(ch.unary(M.hang, { text: "x" }, { signal: ac.signal }));
      await sleep(20);
      const abortedAt = Date.now();
      ac.abort();
      const e = await p;
      expect(e.status).toBe(Status.CANCELLED);
      expect(await until(() => probe.aborted.length === 1, 1000)).toBe(true);
      expect(probe.aborted[0]!.reason).toBe("CANCELLED");
      // Measured 0-1 ms (Date.now resolution), 5 runs per driver, 2026-12-06.
      expect(probe.aborted[0]!.at - abortedAt).toBeLessThan(10);
      // An already aborted signal fails at once without sending.
      const pre = await caught(ch.unary(M.echo, { text: "x" }, { signal: AbortSignal.abort() }));
      expect(pre.status).toBe(Status.CANCELLED);
    });
  });

  test("connection loss and server shutdown abort the handler's signal with UNAVAILABLE", async () => {
    const probe = newProbe();
    await withServer(d, makeImpl(probe), {}, async (h) => {
      const dropped = h.channel();
      const lost = caught(dropped.unary(M.hang, { text: "x" }));
      await until(() => h.server.stats().activeCalls === 1, 1000);
      await dropped.close();
      expect((await lost).status).toBe(Status.UNAVAILABLE);
      expect(await until(() => probe.aborted.length === 1, 1000)).toBe(true);
      expect(probe.aborted[0]!.reason).toBe("UNAVAILABLE");

      const ch = h.channel();
      const cut = caught(ch.unary(M.hang, { text: "y" }));
      await until(() => h.server.stats().activeCalls === 1, 1000);
      await h.server.shutdown(20);
      const e = await cut;
      expect(e.status).toBe(Status.UNAVAILABLE);
      expect(e.message).toContain("server shut down");
      expect(probe.aborted.length).toBe(2);
      expect(probe.aborted[1]!.reason).toBe("UNAVAILABLE");
    });
  });

  test("breaking out of a stream loop stops the producer", async () => {
    const probe = newProbe();
    await withServer(d, makeImpl(probe), { initialWindow: 16 }, async (h) => {
      const ch = h.channel({ initialWindow: 16 });
      let seen = 0;
      for await (const m of ch.serverStream(M.count, { n: 1_000_000 })) {
        expect(m.n).toBe(seen);
        if (++seen === 5) break;
      }
      expect(await until(() => probe.streamStopped === 1, 2000)).toBe(true);
      // At most the window (16) plus the credit the 5 consumed messages gave back; measured 16.
      expect(probe.produced).toBeLessThanOrEqual(16 + 5);
      expect(h.server.stats().activeCalls).toBe(0);
    });
  });

  test("breaking out of a bidi loop stops both producers", async () => {
    await withServer(d, makeImpl(newProbe()), { initialWindow: 8 }, async (h) => {
      const ch = h.channel({ initialWindow: 8 });
      let sent = 0;
      async function* forever() {
        for (;;) {
          sent++;
          yield { text: `w${sent}` };
          await sleep(1);
        }
      }
      const replies: string[] = [];
      for await (const r of ch.bidi(M.chat, forever())) {
        replies.push(r.text);
        if (replies.length === 3) break;
      }
      expect(replies).toEqual(["W1", "W2", "W3"]);
      expect(await until(() => h.server.stats().activeCalls === 0, 1000)).toBe(true);
      await sleep(30);
      const after = sent;
      await sleep(50);
      expect(sent).toBe(after);
      // The 3 answered plus at most one window (8) in flight; measured 4.
      expect(sent).toBeLessThanOrEqual(3 + 8);
    });
  });

  test("a typed error thrown mid-stream reaches the consumer after the messages before it", async () => {
    const impl = {
      ...makeImpl(newProbe()),
      async *count() {
        yield { n: 1 };
        yield { n: 2 };
        throw new KeyNotFound("mid");
      },
    };
    await withServer(d, impl, {}, async (h) => {
      const got: number[] = [];
      let err: RpcError | null = null;
      try {
        for await (const m of h.channel().serverStream(M.count, { n: 0 })) got.push(m.n);
      } catch (e) {
        err = e as RpcError;
      }
      expect(got).toEqual([1, 2]);
      expect(err?.code).toBe("test.v1.KeyNotFound");
      expect((err as KeyNotFound).key).toBe("mid");
    });
  });

  test("a stalled consumer keeps the producer bounded and resumes without loss", async () => {
    const probe = newProbe();
    await withServer(d, makeImpl(probe), {}, async (h) => {
      const ch = h.channel({ initialWindow: 32 });
      const total = 5000;
      const it = ch.serverStream(M.count, { n: total })[Symbol.asyncIterator]();
      const first = await it.next();
      expect(first.value).toEqual({ n: 0 });
      // The producer fills the window (32) and then must stop.
      expect(await until(() => probe.produced >= 32, 2000)).toBe(true);
      await sleep(100);
      const stalledAt = probe.produced;
      expect(stalledAt).toBeLessThanOrEqual(32 + 2);
      await sleep(50);
      expect(probe.produced).toBe(stalledAt);
      let expectNext = 1;
      for (;;) {
        const r = await it.next();
        if (r.done) break;
        expect(r.value.n).toBe(expectNext++);
      }
      expect(expectNext).toBe(total);
      expect(probe.produced).toBe(total);
    });
  });

  test("a client stream waits for the server's credit (producer bounded)", async () => {
    let produced = 0;
    let consumed = 0;
    let maxAhead = 0;
    // A slow handler: it takes a message, notes how far the producer ran
    // ahead of it, and pauses every 50 messages. Without credit the client
    // would push all 2000 messages into the server's buffer at once.
    const impl = {
      ...makeImpl(newProbe()),
      async sum(reqs: AsyncIterable<{ n: number }>) {
        let s = 0;
        for await (const r of reqs) {
          consumed++;
          maxAhead = Math.max(maxAhead, produced - consumed);
          s += r.n;
          if (consumed % 50 === 0) await sleep(1);
        }
        return { n: s };
      },
    };
    await withServer(d, impl, { initialWindow: 8 }, async (h) => {
      const ch = h.channel();
      async function* nums() {
        for (let i = 0; i < 2000; i++) {
          produced++;
          yield { n: 1 };
        }
      }
      expect(await ch.clientStream(M.sum, nums())).toEqual({ n: 2000 });
      expect(produced).toBe(2000);
      expect(maxAhead).toBeGreaterThan(0);
      expect(maxAhead).toBeLessThanOrEqual(8 + 1);
    });
  });
});
