/**
 * Client keepalive (ChannelOptions.keepaliveMs): a server that stops
 * answering is detected and the open calls fail with UNAVAILABLE; a server
 * that answers PING keeps the connection; with keepalive off nothing is sent.
 */
import { describe, expect, test } from "bun:test";
import { createChannel } from "../../src/rpc/client.ts";
import { FrameType } from "../../src/rpc/protocol.ts";
import { type RpcError, Status } from "../../src/rpc/status.ts";
import { describeDrivers } from "./helpers/drivers.ts";
import { M } from "./helpers/fixtures.ts";
import { until } from "./helpers/harness.ts";
import { HELLO, RawPeer, frameBytes } from "./helpers/raw-peer.ts";

/** The n-th (0-based) frame of this type the peer received, or null after 2 s. */
async function nthFrame(peer: RawPeer, type: number, n: number): Promise<unknown[] | null> {
  const of = () => peer.frames.filter((f) => f[0] === type);
  await until(() => of().length > n, 2000);
  return of()[n] ?? null;
}

describeDrivers("client keepalive", (d) => {
  test("a silent server is detected: PING, then the open call fails with UNAVAILABLE", async () => {
    const rt = await d.make();
    const listener = await rt.listen({ host: "127.0.0.1", port: 0, reusePort: false });
    const ch = createChannel(rt, { endpoints: [{ host: "127.0.0.1", port: listener.port }], keepaliveMs: 50, keepaliveTimeoutMs: 100 });
    try {
      const t0 = performance.now();
      const call = ch.unary(M.hang, { text: "x" }).then(() => null, (e: RpcError) => e);
      const server = await RawPeer.accept(rt, listener);
      expect((await server.waitFrame(FrameType.HELLO))![0]).toBe(FrameType.HELLO);
      await server.send(frameBytes(HELLO));
      expect(await server.waitFrame(FrameType.REQUEST)).not.toBeNull();
      // The server now says nothing: the client pings, then gives up.
      const ping = await server.waitFrame(FrameType.PING);
      expect(ping?.slice(0, 2)).toEqual([FrameType.PING, 0]);
      const err = await call;
      const took = performance.now() - t0;
      expect(err?.status).toBe(Status.UNAVAILABLE);
      expect(err?.message).toContain("keepalive: no frame within 100 ms of a PING");
      // keepaliveMs + keepaliveTimeoutMs = 150 ms at the least; measured 151-157 ms
      // over 5 runs per driver, 2026-12-06.
      expect(took).toBeLessThan(250);
      await server.close();
    } finally {
      await ch.close();
      await listener.close();
      await rt.close();
    }
  });

  test("a server that answers PING keeps the connection and the call", async () => {
    const rt = await d.make();
    const listener = await rt.listen({ host: "127.0.0.1", port: 0, reusePort: false });
    const ch = createChannel(rt, { endpoints: [{ host: "127.0.0.1", port: listener.port }], keepaliveMs: 30, keepaliveTimeoutMs: 200 });
    try {
      const call = ch.unary(M.hang, { text: "x" }).then(() => "ok", (e: RpcError) => e.message);
      const server = await RawPeer.accept(rt, listener);
      await server.waitFrame(FrameType.HELLO);
      await server.send(frameBytes(HELLO));
      const req = await server.waitFrame(FrameType.REQUEST);
      const t0 = performance.now();
      for (let i = 0; i < 4; i++) {
        const ping = await nthFrame(server, FrameType.PING, i);
        expect(ping).not.toBeNull();
        await server.send(frameBytes([FrameType.PONG, 0, ping![2]]));
      }
      // Still alive after 4 keepalive rounds (each: 30 ms idle, PING, the answer): answer the call.
      expect(performance.now() - t0).toBeGreaterThanOrEqual(3 * 30);
      // An answered PING is noticed at the next check, keepaliveTimeoutMs later
      // (src/rpc/keepalive.ts), so the rounds take ~30 + 3 x 200 ms: measured
      // 627-631 ms over 5 runs per driver, 2026-12-06.
      expect(performance.now() - t0).toBeLessThan(30 + 4 * 200);
      await server.send(frameBytes([FrameType.RESPONSE, req![1], ["done"]]));
      expect(await call).toBe("ok");
      expect(ch.stats().connections).toBe(1);
      await server.close();
    } finally {
      await ch.close();
      await listener.close();
      await rt.close();
    }
  });

  test("off by default: no PING on an idle call", async () => {
    const rt = await d.make();
    const listener = await rt.listen({ host: "127.0.0.1", port: 0, reusePort: false });
    const ch = createChannel(rt, { endpoints: [{ host: "127.0.0.1", port: listener.port }] });
    try {
      const call = ch.unary(M.hang, { text: "x" }, { timeoutMs: 400 }).then(() => null, (e: RpcError) => e);
      const server = await RawPeer.accept(rt, listener);
      await server.waitFrame(FrameType.HELLO);
      await server.send(frameBytes(HELLO));
      await server.waitFrame(FrameType.REQUEST);
      expect(await server.waitFrame(FrameType.PING, 300)).toBeNull();
      expect((await call)?.status).toBe(Status.DEADLINE_EXCEEDED);
      await server.close();
    } finally {
      await ch.close();
      await listener.close();
      await rt.close();
    }
  });
});
