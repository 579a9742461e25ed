/**
 * A channel whose target is a DNS name, against a real DNS server on
 * loopback (dnsmasq: test/helpers/dns-server.ts) and servers on 127.0.0.2,
 * 127.0.0.3 and 127.0.0.4 (one port): calls spread over every record, the
 * channel follows records changed while it runs (an address added gets
 * calls, an address removed gets none but finishes the calls it has), it
 * resolves again as soon as a connection fails instead of waiting for the
 * interval, it keeps its last addresses while the DNS server is down, and
 * a name it cannot resolve fails calls with UNAVAILABLE naming the server
 * and the reason.
 */
import { afterAll, beforeAll, expect, test } from "bun:test";
import { createSocket } from "node:dgram";
import { createChannel } from "../../src/rpc/client.ts";
import type { RpcError } from "../../src/rpc/status.ts";
import { Status } from "../../src/rpc/status.ts";
import { type DnsServer, dnsmasqMissing, startDnsServer } from "../helpers/dns-server.ts";
import { skipTitle } from "../helpers/skip.ts";
import { caught } from "./helpers/caught.ts";
import { describeDrivers } from "./helpers/drivers.ts";
import { M } from "./helpers/fixtures.ts";
import { sleep, until } from "./helpers/harness.ts";
import { type LoopbackServer, startLoopbackServers, startOn } from "./helpers/loopback-servers.ts";

const missing = dnsmasqMissing();
let dns: DnsServer | null = null;

beforeAll(async () => {
  if (missing === null) dns = await startDnsServer({});
}, 15000);

afterAll(async () => {
  await dns?.stop();
});

const HOSTS = ["127.0.0.2", "127.0.0.3", "127.0.0.4"];

/** A UDP port with nothing bound to it (a DNS server that is not there). */
async function deadUdpPort(): Promise<number> {
  const sock = createSocket("udp4");
  await new Promise<void>((resolve) => sock.bind(0, "127.0.0.1", resolve));
  const port = sock.address().port;
  await new Promise<void>((resolve) => sock.close(() => resolve()));
  return port;
}

describeDrivers("discovery over DNS", (d) => {
  const it = (title: string, body: () => Promise<void>, timeoutMs = 15000) => test.skipIf(missing !== null)(skipTitle(title, missing), body, timeoutMs);

  it("a dns: target spreads calls over every record and follows records changed while it runs", async () => {
    const rt = await d.make();
    const errors: string[] = [];
    let servers: LoopbackServer[] = [];
    try {
      servers = await startLoopbackServers(rt, HOSTS, errors);
      const [a, b, c] = servers as [LoopbackServer, LoopbackServer, LoopbackServer];
      const name = `spread-${d.name}.test`;
      await dns!.set({ [name]: [a.host, b.host] });
      const ch = createChannel(rt, { target: `dns://${dns!.address}/${name}:${a.port}`, resolve: { intervalMs: 100 } });
      for (let i = 0; i < 20; i++) await ch.unary(M.echo, { text: `${i}` });
      expect(a.calls()).toBeGreaterThan(0);
      expect(b.calls()).toBeGreaterThan(0);
      expect(a.calls() + b.calls()).toBe(20);
      expect(c.calls()).toBe(0);
      // Two held calls, one on each address (round robin alternates between ready ones); b's is let go.
      const gates = [100, 101].map((n) => ch.unary(M.gate, { n }));
      expect(await until(() => a.server.stats().activeCalls === 1 && b.server.stats().activeCalls === 1)).toBe(true);
      const toB = createChannel(rt, { endpoints: [{ host: b.host, port: b.port }] });
      for (const n of [100, 101]) await toB.unary(M.open, { n });
      expect(await until(() => b.server.stats().activeCalls === 0)).toBe(true);
      // Then a leaves the name and c joins it.
      await dns!.set({ [name]: [b.host, c.host] });
      expect(await until(() => ch.stats().addresses.map((x) => x.address).sort().join(",") === `${b.host}:${b.port},${c.host}:${c.port}`)).toBe(true);
      const aBefore = a.calls();
      for (let i = 0; i < 20; i++) await ch.unary(M.echo, { text: `${i}` });
      expect(a.calls()).toBe(aBefore);
      expect(c.calls()).toBeGreaterThan(0);
      // The removed address finishes the call it had, then its connection closes.
      expect(a.server.stats().activeCalls).toBe(1);
      const toA = createChannel(rt, { endpoints: [{ host: a.host, port: a.port }] });
      for (const n of [100, 101]) await toA.unary(M.open, { n });
      expect(await Promise.all(gates)).toEqual([{ n: 100 }, { n: 101 }]);
      expect(await until(() => a.server.stats().connections === 1)).toBe(true); // toA's only
      await toA.close();
      await toB.close();
      await ch.close();
    } finally {
      for (const s of servers) await s.stop();
      await rt.close();
    }
    expect(errors).toEqual([]);
  });

  it("a failed connection makes the channel resolve again at once, not at its next interval", async () => {
    const rt = await d.make();
    const errors: string[] = [];
    let servers: LoopbackServer[] = [];
    try {
      servers = await startLoopbackServers(rt, HOSTS.slice(0, 2), errors);
      const [a, b] = servers as [LoopbackServer, LoopbackServer];
      const name = `refresh-${d.name}.test`;
      await dns!.set({ [name]: [a.host] });
      // An hour between scheduled resolutions: only the failure can make the channel look again.
      const ch = createChannel(rt, { target: `dns://${dns!.address}/${name}:${a.port}`, resolve: { intervalMs: 3_600_000, minIntervalMs: 50 } });
      expect(await ch.unary(M.echo, { text: "on a" })).toEqual({ text: "on a" });
      await dns!.set({ [name]: [b.host] });
      await a.stop();
      const t0 = Date.now();
      // Calls go on: while the channel resolves again they wait (or are sent again), none fails.
      for (let i = 0; i < 5; i++) expect(await ch.unary(M.echo, { text: `${i}` }, { timeoutMs: 2000 })).toEqual({ text: `${i}` });
      // Measured 1-60 ms (2 shared cores, 2026-12-07): the GOAWAY and the refused reconnect each ask at once.
      expect(Date.now() - t0).toBeLessThan(1500);
      expect(b.calls()).toBe(5);
      expect(ch.stats().addresses.map((x) => x.address)).toEqual([`${b.host}:${b.port}`]);
      await ch.close();
    } finally {
      for (const s of servers) await s.stop();
      await rt.close();
    }
    expect(errors).toEqual([]);
  });

  it("while the DNS server is down the channel keeps the addresses it had; a name it never resolved fails with the reason", async () => {
    const rt = await d.make();
    const errors: string[] = [];
    let servers: LoopbackServer[] = [];
    try {
      servers = await startLoopbackServers(rt, HOSTS.slice(0, 1), errors);
      const a = servers[0]!;
      const name = `keep-${d.name}.test`;
      // A DNS server of this test's own, stopped halfway.
      const own = await startDnsServer({ [name]: [a.host] });
      let ownStopped = false;
      try {
        const ch = createChannel(rt, { target: `dns://${own.address}/${name}:${a.port}`, resolve: { intervalMs: 50, minIntervalMs: 20, timeoutMs: 200 } });
        expect(await ch.unary(M.echo, { text: "1" })).toEqual({ text: "1" });
        await own.stop();
        ownStopped = true;
        await sleep(300); // several failed resolutions
        expect(await ch.unary(M.echo, { text: "2" })).toEqual({ text: "2" });
        await ch.close();
      } finally {
        if (!ownStopped) await own.stop();
      }
      const dead = await deadUdpPort();
      const nowhere = createChannel(rt, { target: `dns://127.0.0.1:${dead}/${name}:${a.port}`, resolve: { timeoutMs: 300 } });
      const e1 = await caught(nowhere.unary(M.echo, { text: "x" }));
      expect(e1.status).toBe(Status.UNAVAILABLE);
      expect(e1.message).toContain(`cannot resolve dns://127.0.0.1:${dead}/${name}:${a.port}: DNS server 127.0.0.1:${dead}: `);
      await nowhere.close();
      const unknown = createChannel(rt, { target: `dns://${dns!.address}/no-such-name.test:${a.port}` });
      const e2: RpcError = await caught(unknown.unary(M.echo, { text: "x" }));
      expect(e2.status).toBe(Status.UNAVAILABLE);
      expect(e2.message).toContain(`cannot resolve dns://${dns!.address}/no-such-name.test:${a.port}`);
      expect(e2.message).toContain("(call not sent)");
      await unknown.close();
    } finally {
      for (const s of servers) await s.stop();
      await rt.close();
    }
    expect(errors).toEqual([]);
  });

  it("AAAA records count too: an IPv6 loopback server gets calls", async () => {
    const rt = await d.make();
    const errors: string[] = [];
    let servers: LoopbackServer[] = [];
    try {
      servers = await startLoopbackServers(rt, HOSTS.slice(0, 1), errors);
      const a = servers[0]!;
      let v6: LoopbackServer | null = null;
      try {
        v6 = await startOn(rt, "::1", a.port, errors);
      } catch (e) {
        // Without IPv6 on loopback this part cannot run; say so in the failure instead of passing quietly.
        throw new Error(`cannot listen on [::1]:${a.port} (IPv6 loopback missing?): ${(e as Error).message}`);
      }
      servers.push(v6);
      const name = `dual-${d.name}.test`;
      await dns!.set({ [name]: [a.host, "::1"] });
      const ch = createChannel(rt, { target: `dns://${dns!.address}/${name}:${a.port}` });
      for (let i = 0; i < 10; i++) await ch.unary(M.echo, { text: `${i}` });
      expect(ch.stats().addresses.map((x) => x.address).sort()).toEqual([`${a.host}:${a.port}`, `[::1]:${a.port}`]);
      expect(v6.calls()).toBeGreaterThan(0);
      expect(a.calls()).toBeGreaterThan(0);
      await ch.close();
    } finally {
      for (const s of servers) await s.stop();
      await rt.close();
    }
    expect(errors).toEqual([]);
  });
});
