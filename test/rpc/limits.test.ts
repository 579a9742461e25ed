/**
 * Limits and malformed input: each gives the error or close documented in
 * docs/PROTOCOL.md section 7, and other connections keep working.
 */
import { describe, expect, test } from "bun:test";
import { FrameType, GoAwayReason } from "../../src/rpc/protocol.ts";
import { type RpcError, Status } from "../../src/rpc/status.ts";
import { describeDrivers } from "./helpers/drivers.ts";
import { M } from "./helpers/fixtures.ts";
import { type Harness, until, withServer } from "./helpers/harness.ts";
import { frameBytes, HELLO, RawPeer, rawFrame } from "./helpers/raw-peer.ts";
import { makeImpl, newProbe } from "./service-impl.ts";

/** Asserts the peer got GOAWAY with `reason`, then the close, and that a normal client still works. */
async function expectGoAwayAndOthersFine(h: Harness, peer: RawPeer, reason: number): Promise<void> {
  const ga = await peer.waitFrame(FrameType.GOAWAY);
  expect(ga).not.toBeNull();
  expect(ga![3]).toBe(reason);
  expect(typeof ga![4]).toBe("string");
  expect(await peer.waitEnd()).toBe(true);
  await peer.close();
  expect(await h.channel().unary(M.echo, { text: "still fine" })).toEqual({ text: "still fine" });
}

describeDrivers("rpc limits", (d) => {
  test("a length prefix over maxFrameBytes gets FRAME_TOO_LARGE before the body is sent", async () => {
    await withServer(d, makeImpl(newProbe()), { maxFrameBytes: 1024 }, async (h) => {
      const other = h.channel();
      expect(await other.unary(M.echo, { text: "before" })).toEqual({ text: "before" });
      const peer = await RawPeer.connect(h.rt, h.port);
      await peer.send(frameBytes(HELLO));
      await peer.send(new Uint8Array([0x00, 0x10, 0x00, 0x00])); // 1 MiB announced, no body
      await expectGoAwayAndOthersFine(h, peer, GoAwayReason.FRAME_TOO_LARGE);
      expect(await other.unary(M.echo, { text: "after" })).toEqual({ text: "after" });
    });
  });

  test("bad msgpack gets MALFORMED_FRAME", async () => {
    await withServer(d, makeImpl(newProbe()), {}, async (h) => {
      const peer = await RawPeer.connect(h.rt, h.port);
      await peer.send(frameBytes(HELLO));
      await peer.send(rawFrame([0xc1, 0xc1, 0xc1]));
      await expectGoAwayAndOthersFine(h, peer, GoAwayReason.MALFORMED_FRAME);
    });
  });

  test("an unknown frame type gets UNKNOWN_FRAME_TYPE", async () => {
    await withServer(d, makeImpl(newProbe()), {}, async (h) => {
      const peer = await RawPeer.connect(h.rt, h.port);
      await peer.send(frameBytes(HELLO));
      await peer.send(frameBytes([99, 0]));
      await expectGoAwayAndOthersFine(h, peer, GoAwayReason.UNKNOWN_FRAME_TYPE);
    });
  });

  test("a first frame that is not HELLO gets PROTOCOL_ERROR; a wrong version UNSUPPORTED_VERSION", async () => {
    await withServer(d, makeImpl(newProbe()), {}, async (h) => {
      const peer = await RawPeer.connect(h.rt, h.port);
      expect(await peer.waitFrame(FrameType.HELLO)).toEqual([1, 0, 1, 4 * 1024 * 1024, 1000, 64, 8192, { metadata: "multi" }]);
      await peer.send(frameBytes([10, 0, 1]));
      await expectGoAwayAndOthersFine(h, peer, GoAwayReason.PROTOCOL_ERROR);
      const v9 = await RawPeer.connect(h.rt, h.port);
      await v9.send(frameBytes([1, 0, 9, 1024, 10, 8, 1024]));
      await expectGoAwayAndOthersFine(h, v9, GoAwayReason.UNSUPPORTED_VERSION);
      const zeroWindow = await RawPeer.connect(h.rt, h.port);
      await zeroWindow.send(frameBytes([1, 0, 1, 4096, 10, 0, 1024]));
      await expectGoAwayAndOthersFine(h, zeroWindow, GoAwayReason.PROTOCOL_ERROR);
      expect(zeroWindow.frames.find((f) => f[0] === FrameType.GOAWAY)![4]).toBe("HELLO initialWindow 0 is below the minimum 1");
    });
  });

  test("a peer that sends nothing gets HANDSHAKE_TIMEOUT; an idle one IDLE_TIMEOUT", async () => {
    await withServer(d, makeImpl(newProbe()), { firstFrameTimeoutMs: 60, idleTimeoutMs: 150 }, async (h) => {
      const silent = await RawPeer.connect(h.rt, h.port);
      const idle = await RawPeer.connect(h.rt, h.port);
      await idle.send(frameBytes(HELLO));
      const t0 = Date.now();
      await expectGoAwayAndOthersFine(h, silent, GoAwayReason.HANDSHAKE_TIMEOUT);
      expect(await idle.waitFrame(FrameType.GOAWAY)).not.toBeNull();
      expect(idle.frames.find((f) => f[0] === FrameType.GOAWAY)![3]).toBe(GoAwayReason.IDLE_TIMEOUT);
      expect(Date.now() - t0).toBeGreaterThanOrEqual(100);
      expect(await idle.waitEnd()).toBe(true);
      await idle.close();
    });
  });

  test("PING gets PONG; a raw unary call works byte for byte", async () => {
    await withServer(d, makeImpl(newProbe()), {}, async (h) => {
      const peer = await RawPeer.connect(h.rt, h.port);
      await peer.send(frameBytes(HELLO));
      await peer.send(frameBytes([10, 0, 77]));
      expect(await peer.waitFrame(FrameType.PONG)).toEqual([11, 0, 77]);
      await peer.send(frameBytes([2, 1, "test.v1.Test/echo", null, null, 1, ["raw"]]));
      expect(await peer.waitFrame(FrameType.RESPONSE)).toEqual([5, 1, ["raw"]]);
      await peer.send(frameBytes([2, 2, "test.v1.Test/echo", null, null, 1, [42]]));
      const st = await peer.waitFrame(FrameType.STATUS);
      expect(st![1]).toBe(2);
      expect(st![2]).toBe(Status.INVALID_ARGUMENT);
      expect(st![3]).toContain("field text");
      await peer.close();
    });
  });

  test("too many concurrent calls get RESOURCE_EXHAUSTED, the rest complete", async () => {
    await withServer(d, makeImpl(newProbe()), { maxConcurrentCalls: 10 }, async (h) => {
      const peer = await RawPeer.connect(h.rt, h.port);
      await peer.send(frameBytes(HELLO));
      for (let id = 1; id <= 15; id++) await peer.send(frameBytes([2, id, "test.v1.Test/delay", null, null, 1, [40]]));
      await until(() => peer.frames.filter((f) => f[0] === FrameType.RESPONSE || f[0] === FrameType.STATUS).length === 15, 2000);
      const responses = peer.frames.filter((f) => f[0] === FrameType.RESPONSE);
      const refused = peer.frames.filter((f) => f[0] === FrameType.STATUS);
      expect(responses.map((f) => f[1])).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
      expect(refused.map((f) => [f[1], f[2]])).toEqual([11, 12, 13, 14, 15].map((id) => [id, Status.RESOURCE_EXHAUSTED]));
      await peer.close();
    });
  });

  test("a channel queues calls beyond the server's maxConcurrentCalls instead of failing them", async () => {
    await withServer(d, makeImpl(newProbe()), { maxConcurrentCalls: 10 }, async (h) => {
      const ch = h.channel();
      let peak = 0;
      const calls = Array.from({ length: 40 }, () => ch.unary(M.delay, { n: 10 }).then((r) => ((peak = Math.max(peak, h.server.stats().activeCalls)), r.n)));
      expect(await Promise.all(calls)).toEqual(Array.from({ length: 40 }, () => 10));
      expect(peak).toBeLessThanOrEqual(10);
      expect(h.server.stats().totalCalls).toBe(40);
    });
  });

  test("metadata over maxMetadataBytes gets RESOURCE_EXHAUSTED for that call only", async () => {
    await withServer(d, makeImpl(newProbe()), { maxMetadataBytes: 64 }, async (h) => {
      const ch = h.channel();
      const e = await ch.unary(M.echo, { text: "x" }, { metadata: { "x-big": "y".repeat(100) } }).catch((e: RpcError) => e);
      expect((e as RpcError).status).toBe(Status.RESOURCE_EXHAUSTED);
      expect(await ch.unary(M.echo, { text: "x" }, { metadata: { "x-small": "y" } })).toEqual({ text: "x" });
    });
  });

  test("connections over maxConnections get TOO_MANY_CONNECTIONS", async () => {
    await withServer(d, makeImpl(newProbe()), { maxConnections: 1 }, async (h) => {
      const first = await RawPeer.connect(h.rt, h.port);
      await first.send(frameBytes(HELLO));
      expect(await first.waitFrame(FrameType.HELLO)).not.toBeNull();
      const second = await RawPeer.connect(h.rt, h.port);
      const ga = await second.waitFrame(FrameType.GOAWAY);
      expect(ga![3]).toBe(GoAwayReason.TOO_MANY_CONNECTIONS);
      expect(await second.waitEnd()).toBe(true);
      await first.send(frameBytes([2, 1, "test.v1.Test/echo", null, null, 1, ["ok"]]));
      expect(await first.waitFrame(FrameType.RESPONSE)).toEqual([5, 1, ["ok"]]);
      await first.close();
      await second.close();
    });
  });
});
