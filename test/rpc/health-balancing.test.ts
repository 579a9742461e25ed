/**
 * Health-aware balancing: servers on 127.0.0.2-4 (one port) with the
 * health service, and a channel over all three. With `healthCheck` a server
 * whose health turns NOT_SERVING (as a whole, or the watched service) gets
 * no new calls until it is SERVING again; a server without the health
 * service counts as serving; a server that sent GOAWAY gets no new calls
 * while its open ones finish, with or without health checking. The health
 * watch is not counted as the caller's call. The client's hand-written
 * health codec (src/rpc/health-watch.ts) writes and reads what the
 * generated one does.
 */
import { describe, expect, test } from "bun:test";
import { MsgReader } from "../../src/codec/reader.ts";
import { MsgWriter } from "../../src/codec/writer.ts";
import { type Channel, createChannel } from "../../src/rpc/client.ts";
import { HEALTH_CHECK, HEALTH_WATCH } from "../../src/rpc/health-watch.ts";
import { Health, ServingStatus } from "../../src/services/gen/health.ts";
import type { Runtime } from "../../src/runtime/types.ts";
import { describeDrivers } from "./helpers/drivers.ts";
import { M, TestService } from "./helpers/fixtures.ts";
import { until, withServer } from "./helpers/harness.ts";
import { type LoopbackServer, startLoopbackServers } from "./helpers/loopback-servers.ts";
import { makeImpl, newProbe } from "./service-impl.ts";

const HOSTS = ["127.0.0.2", "127.0.0.3", "127.0.0.4"];

function bytes(write: (w: MsgWriter) => void): number[] {
  const w = new MsgWriter(64);
  write(w);
  return [...w.bytes()];
}

describe("the client's health codec", () => {
  test("writes the generated request bytes and reads every generated reply", () => {
    for (const service of ["", "kv.v1.KeyValue", "é".repeat(40)]) {
      expect(bytes((w) => HEALTH_WATCH.input.encode(w, { service }))).toEqual(bytes((w) => Health.methods.watch.input.encode(w, { service })));
      expect(bytes((w) => HEALTH_CHECK.input.encode(w, { service }))).toEqual(bytes((w) => Health.methods.check.input.encode(w, { service })));
    }
    for (const status of Object.values(ServingStatus)) {
      const wire = new Uint8Array(bytes((w) => Health.methods.watch.output.encode(w, { status })));
      expect(HEALTH_WATCH.output.decode(new MsgReader(wire))).toEqual({ status });
    }
    expect([HEALTH_WATCH.path, HEALTH_WATCH.kind, HEALTH_CHECK.path, HEALTH_CHECK.kind]).toEqual([Health.methods.watch.path, "server_stream", Health.methods.check.path, "unary"]);
  });
});

describeDrivers("health-aware balancing", (d) => {
  async function withServers(body: (rt: Runtime, s: LoopbackServer[], target: string) => Promise<void>): Promise<void> {
    const rt = await d.make();
    const errors: string[] = [];
    let servers: LoopbackServer[] = [];
    try {
      servers = await startLoopbackServers(rt, HOSTS, errors);
      await body(rt, servers, servers.map((s) => `${s.host}:${s.port}`).join(","));
    } finally {
      for (const s of servers) await s.stop();
      await rt.close();
    }
    expect(errors).toEqual([]);
  }
  const calls = (s: LoopbackServer[]) => s.map((x) => x.server.stats().totalCalls);
  const since = (before: number[], s: LoopbackServer[]) => calls(s).map((n, i) => n - before[i]!);
  const run = async (ch: Channel, n: number) => {
    for (let i = 0; i < n; i++) expect(await ch.unary(M.echo, { text: `${i}` })).toEqual({ text: `${i}` });
  };

  test("a server whose health turns NOT_SERVING gets no new calls until it is SERVING again", async () => {
    await withServers(async (rt, s) => {
      const ch = createChannel(rt, { target: s.map((x) => `${x.host}:${x.port}`).join(","), healthCheck: true });
      await run(ch, 3);
      expect(await until(() => ch.stats().addresses.every((a) => a.ready === 1))).toBe(true);
      // The health watches are open calls on each connection, not the caller's.
      expect(ch.stats().activeCalls).toBe(0);
      let before = calls(s);
      await run(ch, 12);
      expect(since(before, s)).toEqual([4, 4, 4]);
      s[1]!.health.setStatus("", ServingStatus.NOT_SERVING);
      expect(await until(() => ch.stats().addresses[1]!.serving === false)).toBe(true);
      before = calls(s);
      await run(ch, 12);
      expect(since(before, s)).toEqual([6, 0, 6]);
      s[1]!.health.setStatus("", ServingStatus.SERVING);
      expect(await until(() => ch.stats().addresses[1]!.ready === 1)).toBe(true);
      before = calls(s);
      await run(ch, 12);
      expect(since(before, s)).toEqual([4, 4, 4]);
      await ch.close();
    });
  });

  test("healthCheck { service } watches that service: its NOT_SERVING counts, another's does not", async () => {
    await withServers(async (rt, s) => {
      const ch = createChannel(rt, { target: s.map((x) => `${x.host}:${x.port}`).join(","), healthCheck: { service: TestService.name } });
      await run(ch, 3);
      expect(await until(() => ch.stats().addresses.every((a) => a.ready === 1))).toBe(true);
      s[0]!.health.setStatus("other.v1.Service", ServingStatus.NOT_SERVING);
      s[2]!.health.setStatus(TestService.name, ServingStatus.NOT_SERVING);
      expect(await until(() => ch.stats().addresses[2]!.serving === false)).toBe(true);
      const before = calls(s);
      await run(ch, 10);
      expect(since(before, s)).toEqual([5, 5, 0]);
      expect(ch.stats().addresses.map((a) => a.serving)).toEqual([true, true, false]);
      await ch.close();
    });
  });

  test("a server that sent GOAWAY gets no new calls while its open one finishes, with or without health checking", async () => {
    for (const healthCheck of [false, true]) {
      await withServers(async (rt, s) => {
        const ch = createChannel(rt, { target: s.map((x) => `${x.host}:${x.port}`).join(","), healthCheck });
        await run(ch, 3);
        expect(await until(() => ch.stats().addresses.every((a) => a.ready === 1))).toBe(true);
        // Three calls of 300 ms, one per address; then the second server drains (GOAWAY) with its call open.
        const slow = [0, 1, 2].map(() => ch.unary(M.delay, { n: 300 }));
        // Each server's open calls: the slow one, and the health watch when there is one.
        expect(await until(() => s.every((x) => x.server.stats().activeCalls === (healthCheck ? 2 : 1)))).toBe(true);
        const draining = s[1]!.stop(5000);
        expect(await until(() => ch.stats().addresses[1]!.ready === 0)).toBe(true);
        const before = calls(s);
        await run(ch, 10);
        expect(since(before, s)).toEqual([5, 0, 5]);
        // Its open call finished on it, then it stopped.
        expect(await Promise.all(slow)).toEqual([{ n: 300 }, { n: 300 }, { n: 300 }]);
        await draining;
        await ch.close();
      });
    }
  });

  test("a server without the health service counts as serving", async () => {
    await withServer(d, makeImpl(newProbe()), {}, async (h) => {
      const ch = h.channel({ healthCheck: true });
      expect(await ch.unary(M.echo, { text: "no health service" })).toEqual({ text: "no health service" });
      expect(ch.stats().addresses.map((a) => [a.ready, a.serving])).toEqual([[1, true]]);
    });
  });
});
