/**
 * The client channel: connection loss, lazy reconnect, backoff, balancing
 * over several endpoints, retries of idempotent methods, interceptors.
 */
import { describe, expect, test } from "bun:test";
import { createChannel } from "../../src/rpc/client.ts";
import type { ClientInterceptor, ServerInterceptor } from "../../src/rpc/interceptors.ts";
import { createRpcServer } from "../../src/rpc/server.ts";
import { RpcError, Status } from "../../src/rpc/status.ts";
import type { Listener, Runtime } from "../../src/runtime/types.ts";
import { describeDrivers } from "./helpers/drivers.ts";
import { M, TestService } from "./helpers/fixtures.ts";
import { recordInto, sleep, until, withServer } from "./helpers/harness.ts";
import { frameBytes, HELLO } from "./helpers/raw-peer.ts";
import { dropAfterRequest, startRawServer } from "./helpers/raw-server.ts";
import { makeImpl, newProbe } from "./service-impl.ts";
import { caught } from "./helpers/caught.ts";

async function closedPort(rt: Runtime): Promise<number> {
  const l = await rt.listen({ host: "127.0.0.1", port: 0, reusePort: false });
  const port = l.port;
  await l.close();
  return port;
}

/** A test server on rt; `errors` collects what its serve loop raised. */
async function startServer(rt: Runtime) {
  const server = createRpcServer(rt, [{ descriptor: TestService, impl: makeImpl(newProbe()), validate: true }]);
  const listener = await rt.listen({ host: "127.0.0.1", port: 0, reusePort: false });
  const errors: string[] = [];
  const serving = server.serve(listener).catch(recordInto(errors, "serve"));
  return { server, listener, serving, errors, port: listener.port };
}

/** Stops a startServer() server and asserts its serve loop raised nothing. */
async function stopServer(s: Awaited<ReturnType<typeof startServer>>): Promise<void> {
  await s.server.shutdown(50);
  await s.listener.close();
  await s.serving;
  expect(s.errors).toEqual([]);
}

describeDrivers("rpc channel", (d) => {
  test("connection loss fails in-flight calls promptly with UNAVAILABLE; the next call reconnects", async () => {
    const rt = await d.make();
    try {
      const server = createRpcServer(rt, [{ descriptor: TestService, impl: makeImpl(newProbe()), validate: true }]);
      const listener: Listener = await rt.listen({ host: "127.0.0.1", port: 0, reusePort: false });
      let accepted = 0;
      let dying: Promise<void> = Promise.resolve();
      const acceptLoop = (async () => {
        for (;;) {
          // close() ends the loop with an AbortError; anything else rejects acceptLoop, awaited below.
          const c = await listener.accept().catch((e: { name?: string }) => (e.name === "AbortError" ? null : Promise.reject(e)));
          if (c === null) return;
          if (++accepted === 1) {
            // The first connection says HELLO, takes calls, then dies.
            const hello = rt.buffers.acquire(frameBytes(HELLO).length);
            hello.set(frameBytes(HELLO));
            await c.writeAll(hello);
            c.stream({ data: () => {}, end: () => {} });
            dying = sleep(50).then(() => c.close());
          } else server.handle(c);
        }
      })();
      const ch = createChannel(rt, { endpoints: [{ host: "127.0.0.1", port: listener.port }] });
      const t0 = Date.now();
      const lost = await Promise.all([1, 2, 3].map(() => caught(ch.unary(M.echo, { text: "x" }))));
      for (const e of lost) {
        expect(e.status).toBe(Status.UNAVAILABLE);
        expect(e.message).toContain("connection lost");
      }
      // The server drops the connection 50 ms in: measured 50-52 ms, 5 runs per driver, 2026-12-06.
      expect(Date.now() - t0).toBeLessThan(150);
      expect(await ch.unary(M.echo, { text: "again" })).toEqual({ text: "again" });
      expect(accepted).toBe(2);
      await ch.close();
      await server.shutdown(50);
      await listener.close();
      await acceptLoop;
      await dying;
    } finally {
      await rt.close();
    }
  });

  test("an unreachable endpoint fails with UNAVAILABLE, then fast during backoff", async () => {
    const rt = await d.make();
    try {
      const port = await closedPort(rt);
      const ch = createChannel(rt, { endpoints: [{ host: "127.0.0.1", port }], backoff: { initialMs: 5000 } });
      const first = await caught(ch.unary(M.echo, { text: "x" }));
      expect(first.status).toBe(Status.UNAVAILABLE);
      expect(first.message).toContain("cannot connect");
      const t0 = Date.now();
      const second = await caught(ch.unary(M.echo, { text: "x" }));
      expect(second.status).toBe(Status.UNAVAILABLE);
      expect(second.message).toContain("backoff");
      // Relative to the 5 s backoff it must not wait out: measured 0 ms, 5 runs per driver, 2026-12-06.
      expect(Date.now() - t0).toBeLessThan(5000 / 10);
      await ch.close();
      // Several addresses, none reachable: one message names each and why.
      const other = await closedPort(rt);
      const both = createChannel(rt, { target: `127.0.0.1:${port},127.0.0.1:${other}` });
      const e = await caught(both.unary(M.echo, { text: "x" }));
      expect(e.status).toBe(Status.UNAVAILABLE);
      expect(e.message).toStartWith(`no address of 127.0.0.1:${port},127.0.0.1:${other} can take the call now (127.0.0.1:${port}: cannot connect to 127.0.0.1:${port}: `);
      expect(e.message).toContain(`; 127.0.0.1:${other}: cannot connect to 127.0.0.1:${other}: `);
      expect(e.message).toEndWith("each is tried again after its backoff (call not sent)");
      await both.close();
    } finally {
      await rt.close();
    }
  });

  test("round robin and least-outstanding spread calls over endpoints", async () => {
    const rt = await d.make();
    try {
      const a = await startServer(rt);
      const b = await startServer(rt);
      const endpoints = [
        { host: "127.0.0.1", port: a.port },
        { host: "127.0.0.1", port: b.port },
      ];
      const rr = createChannel(rt, { endpoints });
      // The first call connects to every address; count from when both are ready.
      await rr.unary(M.echo, { text: "warm" });
      expect(await until(() => rr.stats().connections === 2)).toBe(true);
      const warm = [a.server.stats().totalCalls, b.server.stats().totalCalls];
      for (let i = 0; i < 10; i++) await rr.unary(M.echo, { text: `${i}` });
      expect(a.server.stats().totalCalls - warm[0]!).toBe(5);
      expect(b.server.stats().totalCalls - warm[1]!).toBe(5);
      const lo = createChannel(rt, { endpoints, balance: "least_outstanding" });
      await lo.unary(M.echo, { text: "warm" });
      expect(await until(() => lo.stats().connections === 2)).toBe(true);
      const before = [a.server.stats().totalCalls, b.server.stats().totalCalls];
      // Calls held open by the servers until the test opens their gates (an
      // open for a gate a server does not hold only marks it opened there).
      const direct = [a, b].map((s) => createChannel(rt, { endpoints: [{ host: "127.0.0.1", port: s.port }] }));
      const active = () => [a.server.stats().activeCalls, b.server.stats().activeCalls];
      // 4 held calls spread 2 + 2; then b's two finish, so a has 2 outstanding and b none.
      const first = [100, 101, 102, 103].map((n) => lo.unary(M.gate, { n }));
      expect(await until(() => active()[0]! + active()[1]! === 4)).toBe(true);
      expect(active()).toEqual([2, 2]);
      for (const n of [100, 101, 102, 103]) await direct[1]!.unary(M.open, { n });
      expect(await until(() => active()[1] === 0)).toBe(true);
      // 6 more: least-outstanding fills b first and ends at 4 + 4; round robin
      // would give 5 + 3, and one endpoint for all 6 would give 8 + 0 or 2 + 6.
      const more = [0, 1, 2, 3, 4, 5].map((n) => lo.unary(M.gate, { n }));
      expect(await until(() => active()[0]! + active()[1]! === 8)).toBe(true);
      expect(active()).toEqual([4, 4]);
      for (const n of [100, 101, 102, 103, 0, 1, 2, 3, 4, 5]) for (const ch of direct) await ch.unary(M.open, { n });
      expect((await Promise.all([...first, ...more])).map((r) => r.n)).toEqual([100, 101, 102, 103, 0, 1, 2, 3, 4, 5]);
      // lo's calls (a: 2 + 2, b: 2 + 4) plus the opens sent to each server directly.
      expect(a.server.stats().totalCalls - before[0]!).toBe(4 + 10);
      expect(b.server.stats().totalCalls - before[1]!).toBe(6 + 14);
      await rr.close();
      await lo.close();
      for (const ch of direct) await ch.close();
      for (const s of [a, b]) await stopServer(s);
    } finally {
      await rt.close();
    }
  });

  test("a call that may have run is retried only when idempotent; one that was never sent goes to another address", async () => {
    const rt = await d.make();
    try {
      const good = await startServer(rt);
      // A server that reads each connection's first REQUEST, then drops the connection: that call may have run.
      const dropper = await startRawServer(rt, dropAfterRequest);
      const dropped = dropper.requests;
      const endpoints = [
        { host: "127.0.0.1", port: dropper.port },
        { host: "127.0.0.1", port: good.port },
      ];
      const opts = { endpoints, retry: { maxAttempts: 3, initialBackoffMs: 1 }, outlierDetection: false as const };
      const retrying = createChannel(rt, opts);
      for (let i = 0; i < 4; i++) expect(await retrying.unary(M.echo, { text: `idem${i}` })).toEqual({ text: `idem${i}` });
      // Round robin sent some echo attempts to the dropper; each was retried on the good server.
      expect(dropped.filter((p) => p.endsWith("/echo")).length).toBeGreaterThan(0);
      expect(retrying.stats().retries).toBe(dropped.length);
      const plain = createChannel(rt, opts);
      await plain.unary(M.echo, { text: "warm" });
      const retriesBefore = plain.stats().retries;
      const failed: RpcError[] = [];
      // Round robin reaches the dropper within a few calls (its connection is remade as calls pass it).
      for (let i = 0; i < 50 && failed.length === 0; i++) await plain.unary(M.delay, { n: 2 }).catch((e: RpcError) => failed.push(e));
      // Every delay the dropper read failed, and only those: nothing was retried, nothing lost.
      expect(failed.length).toBe(dropped.filter((p) => p.endsWith("/delay")).length);
      expect(failed.length).toBeGreaterThan(0);
      for (const e of failed) {
        expect(e.status).toBe(Status.UNAVAILABLE);
        expect(e.message).toContain("may have run");
      }
      expect(plain.stats().retries).toBe(retriesBefore);
      // A non-idempotent call whose address refuses the connection was never sent: it goes to the other address.
      const bad = await closedPort(rt);
      const unsent = createChannel(rt, { endpoints: [{ host: "127.0.0.1", port: bad }, { host: "127.0.0.1", port: good.port }] });
      for (let i = 0; i < 3; i++) expect(await unsent.unary(M.delay, { n: 1 })).toEqual({ n: 1 });
      await retrying.close();
      await plain.close();
      await unsent.close();
      await dropper.stop();
      await stopServer(good);
    } finally {
      await rt.close();
    }
  });

  test("interceptors: client adds auth metadata, server refuses without it, both see every call kind", async () => {
    const seen: string[] = [];
    const auth: ServerInterceptor = (call, next) => {
      seen.push(`server:${call.method.name}`);
      if (call.ctx.metadata.authorization !== "Bearer t0ken") throw new RpcError(Status.UNAUTHENTICATED, "missing or bad token");
      return next(call);
    };
    const addToken: ClientInterceptor = (call, next) => {
      seen.push(`client:${call.method.name}`);
      return next({ ...call, options: { ...call.options, metadata: { ...call.options.metadata, authorization: "Bearer t0ken" } } });
    };
    await withServer(d, makeImpl(newProbe()), { interceptors: [auth] }, async (h) => {
      const anon = h.channel();
      const e = await caught(anon.unary(M.echo, { text: "x" }));
      expect(e.status).toBe(Status.UNAUTHENTICATED);
      const ch = h.channel({ interceptors: [addToken] });
      expect(await ch.unary(M.echo, { text: "x" })).toEqual({ text: "x" });
      const got: number[] = [];
      for await (const m of ch.serverStream(M.count, { n: 3 })) got.push(m.n);
      expect(got).toEqual([0, 1, 2]);
      expect(await ch.clientStream(M.sum, [{ n: 2 }, { n: 3 }])).toEqual({ n: 5 });
      await sleep(1);
      expect(seen).toEqual(["server:echo", "client:echo", "server:echo", "client:count", "server:count", "client:sum", "server:sum"]);
    });
  });
});
