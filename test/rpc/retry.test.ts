/**
 * Retries: the retry budget on its own; the transparent retry of calls no
 * server processed (a GOAWAY whose lastId is below them, whatever its
 * reason: sent again elsewhere, idempotent or not, and run exactly once);
 * the budget stopping retries of idempotent calls against a server that
 * keeps dropping them; and a resolver of the user's own, whose `refresh`
 * promise makes a call with no ready address wait for its next answer.
 */
import { describe, expect, test } from "bun:test";
import { createChannel } from "../../src/rpc/client.ts";
import { GoAwayReason } from "../../src/rpc/protocol.ts";
import type { Endpoint, Resolver, ResolverListener } from "../../src/rpc/resolver.ts";
import { RetryBudget } from "../../src/rpc/retry.ts";
import { Status } from "../../src/rpc/status.ts";
import { caught } from "./helpers/caught.ts";
import { describeDrivers } from "./helpers/drivers.ts";
import { M } from "./helpers/fixtures.ts";
import { sleep, withServer } from "./helpers/harness.ts";
import { makeImpl, newProbe } from "./service-impl.ts";
import type { Runtime } from "../../src/runtime/types.ts";
import { frameBytes } from "./helpers/raw-peer.ts";
import { dropAfterRequest, startRawServer } from "./helpers/raw-server.ts";

describe("retry budget", () => {
  test("starts with ten seconds' worth, earns `ratio` per call and `minPerSecond` per second, spends one per retry", async () => {
    const b = new RetryBudget(0.25, 10);
    let spent = 0;
    while (b.withdraw()) spent++;
    // 100 at the start, plus what the time spent draining earned (well under one).
    expect(spent).toBe(100);
    for (let i = 0; i < 4; i++) b.deposit();
    expect(b.withdraw()).toBe(true);
    expect(b.withdraw()).toBe(false);
    await sleep(120);
    expect(b.withdraw()).toBe(true);
    expect(b.withdraw()).toBe(false);
  });
});

/** A resolver driven by the test: `push` reports a list; `refresh` answers as `promise` says. */
class TestResolver implements Resolver {
  readonly description = "test-resolver";
  listener: ResolverListener | null = null;
  refreshes = 0;
  promise = false;
  onRefresh: () => void = () => {};
  constructor(private readonly first: Endpoint[]) {}
  start(l: ResolverListener): void {
    this.listener = l;
    l.addresses(this.first);
  }
  refresh(): boolean {
    this.refreshes++;
    this.onRefresh();
    return this.promise;
  }
  close(): void {
    this.listener = null;
  }
  push(list: Endpoint[]): void {
    this.listener?.addresses(list);
  }
}

describeDrivers("retries", (d) => {
  test("a call above a GOAWAY's lastId never ran: it goes to another address, idempotent or not, and runs once", async () => {
    await withServer(d, makeImpl(newProbe()), {}, async (h) => {
      for (const reason of [GoAwayReason.NO_ERROR, GoAwayReason.ENHANCE_YOUR_CALM]) {
        // Reads the REQUEST, then answers GOAWAY with lastId 0 (nothing processed) and closes.
        const refuser = await startRawServer(h.rt, async (peer) => {
          await peer.send(frameBytes([12, 0, 0, reason, "going away (test)"]));
          await peer.close();
        });
        const ch = createChannel(h.rt, { endpoints: [{ host: "127.0.0.1", port: refuser.port }, { host: "127.0.0.1", port: h.port }] });
        const before = h.server.stats().totalCalls;
        let made = 0;
        for (; made < 40 && refuser.requests.length < 2; made++) expect(await ch.unary(M.delay, { n: 1 })).toEqual({ n: 1 });
        expect(refuser.requests.length).toBeGreaterThanOrEqual(2);
        // Every delay ran exactly once, on the real server; each refused one was sent again.
        expect(h.server.stats().totalCalls - before).toBe(made);
        expect(ch.stats().transparentRetries).toBe(refuser.requests.length);
        await ch.close();
        await refuser.stop();
      }
    });
  });

  test("the retry budget stops retrying idempotent calls against a server that keeps dropping them", async () => {
    const rt = await d.make();
    try {
      const dropper = await startRawServer(rt, dropAfterRequest);
      const ch = createChannel(rt, {
        endpoints: [{ host: "127.0.0.1", port: dropper.port }],
        retry: { maxAttempts: 2, initialBackoffMs: 1, budget: { ratio: 0, minPerSecond: 0.3 } },
        outlierDetection: false,
      });
      // The budget holds 3 retries: calls 1-3 are tried twice, every later one once.
      for (let i = 0; i < 5; i++) {
        const e = await caught(ch.unary(M.echo, { text: `${i}` }));
        expect(e.status).toBe(Status.UNAVAILABLE);
        expect(e.message).toContain("may have run");
      }
      expect([ch.stats().retries, ch.stats().throttledRetries]).toEqual([3, 2]);
      expect(dropper.requests.length).toBe(5 + 3);
      await ch.close();
      await dropper.stop();
    } finally {
      await rt.close();
    }
  });

  test("a resolver of one's own: a call with no ready address waits for the answer its refresh promised, or fails at once without one", async () => {
    await withServer(d, makeImpl(newProbe()), {}, async (h) => {
      const dead = await closedPort(h);
      for (const promise of [true, false]) {
        const r = new TestResolver([{ host: "127.0.0.1", port: dead }]);
        r.promise = promise;
        // The new list comes 30 ms after the refresh, as a registry's answer would.
        r.onRefresh = () => void setTimeout(() => r.push([{ host: "127.0.0.1", port: h.port }]), 30);
        const ch = createChannel(h.rt, { target: r });
        const result = await ch.unary(M.delay, { n: 1 }).then((v) => v, (e: { code: string; message: string }) => `${e.code}: ${e.message}`);
        if (promise) expect(result).toEqual({ n: 1 });
        else expect(result).toStartWith(`UNAVAILABLE: cannot connect to 127.0.0.1:${dead}: `);
        expect(r.refreshes).toBeGreaterThanOrEqual(1);
        await ch.close();
        expect(r.listener).toBeNull();
      }
    });
  });
});

async function closedPort(h: { rt: Runtime }): Promise<number> {
  const l = await h.rt.listen({ host: "127.0.0.1", port: 0, reusePort: false });
  const port = l.port;
  await l.close();
  return port;
}
