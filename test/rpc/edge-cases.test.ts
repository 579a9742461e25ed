/**
 * Pins ringrpc's server (and, where marked, its client) to the numbered
 * rules of docs/PROTOCOL.md section 10 "Edge cases", one describe block per
 * rule group, with raw frames on both drivers.
 */
import { describe, expect, test } from "bun:test";
import { fillTickPayload, UNARY_METHODS } from "../../bench/peers/bench-methods.ts";
import { BenchService } from "../../bench/server/service.ts";
import { createChannel } from "../../src/rpc/client.ts";
import { FrameType, GoAwayReason } from "../../src/rpc/protocol.ts";
import { type RpcError, Status } from "../../src/rpc/status.ts";
import { describeDrivers } from "./helpers/drivers.ts";
import { M } from "./helpers/fixtures.ts";
import { type Harness, sleep, until, withServer } from "./helpers/harness.ts";
import { frameBytes, framesBytes, HELLO, RawPeer, rawFrame } from "./helpers/raw-peer.ts";
import { makeImpl, newProbe } from "./service-impl.ts";

const ECHO = "test.v1.Test/echo";


/** Connects, sends HELLO and then `bytes`; returns the peer. */
async function peerSending(h: Harness, bytes: Uint8Array): Promise<RawPeer> {
  const peer = await RawPeer.connect(h.rt, h.port);
  await peer.send(frameBytes(HELLO));
  await peer.send(bytes);
  return peer;
}

/** Asserts GOAWAY [12, 0, lastId, reason, message] then the close; returns the message. */
async function expectGoAway(peer: RawPeer, reason: number, lastId = 0): Promise<string> {
  const ga = await peer.waitFrame(FrameType.GOAWAY);
  expect(ga).not.toBeNull();
  expect([ga![0], ga![1], ga![2], ga![3]]).toEqual([FrameType.GOAWAY, 0, lastId, reason]);
  expect(await peer.waitEnd()).toBe(true);
  await peer.close();
  return ga![4] as string;
}

/** The STATUS frame of call `id`, waited for. */
async function statusOf(peer: RawPeer, id: number): Promise<unknown[]> {
  expect(await until(() => peer.frames.some((f) => f[0] === FrameType.STATUS && f[1] === id))).toBe(true);
  return peer.frames.find((f) => f[0] === FrameType.STATUS && f[1] === id)!;
}

/** A unary echo works on this peer's connection with this id (the connection is still fine). */
async function expectEchoWorks(peer: RawPeer, id: number): Promise<void> {
  await peer.send(frameBytes([2, id, ECHO, null, null, 1, ["ok"]]));
  expect(await until(() => peer.frames.some((f) => f[0] === FrameType.RESPONSE && f[1] === id))).toBe(true);
  expect(peer.frames.some((f) => f[0] === FrameType.GOAWAY)).toBe(false);
}

describeDrivers("rpc edge cases", (d) => {
  test("1-2: a first frame of unknown type is PROTOCOL_ERROR; server-only frames from a client are PROTOCOL_ERROR", async () => {
    await withServer(d, makeImpl(newProbe()), {}, async (h) => {
      const first = await RawPeer.connect(h.rt, h.port);
      await first.send(frameBytes([99, 0]));
      expect(await expectGoAway(first, GoAwayReason.PROTOCOL_ERROR)).toBe("first frame must be HELLO, got type 99");
      for (const f of [
        [5, 1, ["x"]],
        [6, 1, null],
        [7, 1, 0, "", null, null, null],
      ]) {
        const peer = await peerSending(h, frameBytes(f));
        expect(await expectGoAway(peer, GoAwayReason.PROTOCOL_ERROR)).toBe(`frame type ${f[0]} is server-to-client only`);
      }
    });
  });

  test("3: an unreadable head or REQUEST field is MALFORMED_FRAME; a message that does not decode is STATUS INVALID_ARGUMENT and uses up the id", async () => {
    await withServer(d, makeImpl(newProbe()), {}, async (h) => {
      for (const body of [
        [0x01], // not an array
        [0x92, 0xa1, 0x78, 0x01], // type is a str
        [0x92, 0x02, 0xcb, 0x3f, 0xf0, 0, 0, 0, 0, 0, 0], // id is a float
      ]) {
        const peer = await peerSending(h, rawFrame(body));
        expect(await expectGoAway(peer, GoAwayReason.MALFORMED_FRAME)).toStartWith("malformed frame:");
      }
      const badPath = await peerSending(h, frameBytes([2, 1, 5, null, null, 1, ["x"]]));
      await expectGoAway(badPath, GoAwayReason.MALFORMED_FRAME);
      const peer = await peerSending(h, frameBytes([2, 1, ECHO, null, null, 1, [42]]));
      const st = await statusOf(peer, 1);
      expect(st.slice(0, 3)).toEqual([FrameType.STATUS, 1, Status.INVALID_ARGUMENT]);
      expect(st[3]).toBe("could not decode test.v1.Text: field text: expected string but found int");
      await expectEchoWorks(peer, 2);
      await peer.send(frameBytes([2, 2, ECHO, null, null, 1, ["again"]]));
      expect(await expectGoAway(peer, GoAwayReason.PROTOCOL_ERROR, 2)).toBe("REQUEST id 2 is not greater than the previous id 2");
    });
  });

  test("4: GOAWAY for a connection error carries the highest REQUEST id the server processed (refused calls included)", async () => {
    await withServer(d, makeImpl(newProbe()), {}, async (h) => {
      const none = await peerSending(h, frameBytes([99, 0]));
      await expectGoAway(none, GoAwayReason.UNKNOWN_FRAME_TYPE, 0);
      const peer = await peerSending(h, framesBytes([2, 3, ECHO, null, null, 1, ["a"]], [2, 7, "test.v1.Test/nope", null, null, 1, ["b"]], [99, 0]));
      await expectGoAway(peer, GoAwayReason.UNKNOWN_FRAME_TYPE, 7);
      expect(peer.frames.filter((f) => f[0] !== FrameType.HELLO).map((f) => [f[0], f[1]])).toEqual([
        [FrameType.RESPONSE, 3],
        [FrameType.STATUS, 7],
        [FrameType.GOAWAY, 0],
      ]);
    });
  });

  test("5, 18: a REQUEST shaped for another method kind is STATUS UNIMPLEMENTED and the connection serves the next call; an inline message without END_STREAM or a declared kind that contradicts the shape is PROTOCOL_ERROR", async () => {
    const probe = newProbe();
    await withServer(d, makeImpl(probe), {}, async (h) => {
      const skew = "client and server were built from different IDLs";
      const inline = "unary or server_stream (its REQUEST carries an inline message)";
      const noInline = "client_stream or bidi (its REQUEST has no inline message)";
      // flags: bit 0 END_STREAM, bits 1-3 the declared kind (1 unary, 2 server_stream, 3 client_stream, 4 bidi).
      for (const [req, message] of [
        [[2, 1, ECHO, null, null, 1], `test.v1.Test/echo: client ${noInline}, server unary`],
        [[2, 1, "test.v1.Test/count", null, null, 0], `test.v1.Test/count: client ${noInline}, server server_stream`],
        [[2, 1, "test.v1.Test/sum", null, null, 1, [3]], `test.v1.Test/sum: client ${inline}, server client_stream`],
        [[2, 1, "test.v1.Test/chat", null, null, 1, ["x"]], `test.v1.Test/chat: client ${inline}, server bidi`],
        [[2, 1, "test.v1.Test/count", null, null, 1 | (1 << 1), [3]], "test.v1.Test/count: client unary, server server_stream"],
        [[2, 1, ECHO, null, null, 1 | (2 << 1), ["x"]], "test.v1.Test/echo: client server_stream, server unary"],
        [[2, 1, "test.v1.Test/sum", null, null, 4 << 1], "test.v1.Test/sum: client bidi, server client_stream"],
        [[2, 1, "test.v1.Test/chat", null, null, 3 << 1], "test.v1.Test/chat: client client_stream, server bidi"],
      ] as const) {
        const peer = await peerSending(h, frameBytes(req));
        const st = await statusOf(peer, 1);
        expect(st.slice(0, 4)).toEqual([FrameType.STATUS, 1, Status.UNIMPLEMENTED, `method kind mismatch on ${message}; ${skew}`]);
        await expectEchoWorks(peer, 2);
        await peer.close();
      }
      expect(probe.produced).toBe(0);
      // A declared kind that matches is served; reserved kind values (5-7) read as undeclared.
      const peer = await peerSending(h, framesBytes([2, 1, ECHO, null, null, 1 | (1 << 1), ["a"]], [2, 2, "test.v1.Test/sum", null, null, 3 << 1], [3, 2, 0, [4]], [4, 2], [2, 3, ECHO, null, null, 1 | (5 << 1), ["b"]]));
      expect(await peer.waitFrame(FrameType.RESPONSE)).toEqual([5, 1, ["a"]]);
      expect(await until(() => peer.frames.some((f) => f[0] === FrameType.RESPONSE && f[1] === 2 && (f[2] as number[])[0] === 4))).toBe(true);
      expect(await until(() => peer.frames.some((f) => f[0] === FrameType.RESPONSE && f[1] === 3))).toBe(true);
      await peer.close();
      for (const [req, message] of [
        [[2, 1, ECHO, null, null, 0, ["x"]], "REQUEST 1 carries an inline message without END_STREAM"],
        [[2, 1, "test.v1.Test/sum", null, null, 0, [3]], "REQUEST 1 carries an inline message without END_STREAM"],
        [[2, 1, ECHO, null, null, 1 | (3 << 1), ["x"]], "REQUEST 1 declares kind client_stream but carries an inline message"],
        [[2, 1, ECHO, null, null, 1 << 1], "REQUEST 1 declares kind unary but has no inline message"],
      ] as const) {
        const bad = await peerSending(h, frameBytes(req));
        expect(await expectGoAway(bad, GoAwayReason.PROTOCOL_ERROR, 1)).toBe(message);
        expect(bad.frames.some((f) => f[0] === FrameType.STATUS || f[0] === FrameType.RESPONSE)).toBe(false);
      }
    });
  });

  test("6-7: WINDOW credit <= 0 is PROTOCOL_ERROR, a non-int credit or PING opaque MALFORMED_FRAME; WINDOW for an unknown id is dropped", async () => {
    await withServer(d, makeImpl(newProbe()), {}, async (h) => {
      for (const [f, reason] of [
        [[9, 1, 0], GoAwayReason.PROTOCOL_ERROR],
        [[9, 1, -1], GoAwayReason.PROTOCOL_ERROR],
        [[9, 1, "x"], GoAwayReason.MALFORMED_FRAME],
        [[9, 1, 1.5], GoAwayReason.MALFORMED_FRAME],
        [[10, 0, "x"], GoAwayReason.MALFORMED_FRAME],
        [[10, 0], GoAwayReason.MALFORMED_FRAME],
      ] as const) {
        const peer = await peerSending(h, frameBytes(f));
        await expectGoAway(peer, reason);
      }
      const peer = await peerSending(h, framesBytes([9, 5, 3], [10, 0, 0xffffffff]));
      expect(await peer.waitFrame(FrameType.PONG)).toEqual([11, 0, 0xffffffff]);
      await expectEchoWorks(peer, 1);
      await peer.close();
    });
  });

  test("8: a server serves calls sent right after the client's HELLO, before the server's HELLO was read", async () => {
    await withServer(d, makeImpl(newProbe()), {}, async (h) => {
      const peer = await RawPeer.connect(h.rt, h.port);
      await peer.send(framesBytes(HELLO, [2, 1, ECHO, null, null, 1, ["early"]]));
      expect(await peer.waitFrame(FrameType.RESPONSE)).toEqual([5, 1, ["early"]]);
      expect(peer.frames[0]![0]).toBe(FrameType.HELLO);
      await peer.close();
    });
  });

  test("9: a MESSAGE after the client's END_STREAM/HALF_CLOSE on an open call is PROTOCOL_ERROR; on a finished call it is dropped", async () => {
    await withServer(d, makeImpl(newProbe()), {}, async (h) => {
      for (const sequence of [
        [[2, 1, "test.v1.Test/delay", null, null, 1, [300]], [3, 1, 0, [1]]],
        [[2, 1, "test.v1.Test/sum", null, null, 0], [3, 1, 0, [2]], [4, 1], [3, 1, 0, [3]]],
        [[2, 1, "test.v1.Test/sum", null, null, 0], [3, 1, 1, [2]], [3, 1, 0, [3]]],
        [[2, 1, "test.v1.Test/sum", null, null, 1], [3, 1, 0, [3]]],
      ]) {
        const peer = await peerSending(h, framesBytes(...sequence));
        expect(await expectGoAway(peer, GoAwayReason.PROTOCOL_ERROR, 1)).toBe("MESSAGE on call 1 after the client's END_STREAM");
      }
      const peer = await peerSending(h, frameBytes([2, 1, ECHO, null, null, 1, ["x"]]));
      expect(await peer.waitFrame(FrameType.RESPONSE)).toEqual([5, 1, ["x"]]);
      await peer.send(framesBytes([3, 1, 0, ["late"]], [4, 1], [8, 1]));
      await expectEchoWorks(peer, 2);
      await peer.close();
    });
  });

  test("10: an unknown path on a streaming-in REQUEST gets UNIMPLEMENTED; its MESSAGEs (even beyond the window) are dropped", async () => {
    await withServer(d, makeImpl(newProbe()), {}, async (h) => {
      const messages = Array.from({ length: 100 }, (_, i) => [3, 1, 0, [`m${i}`]]);
      const peer = await peerSending(h, framesBytes([2, 1, "test.v1.Test/nope", null, null, 0], ...messages, [4, 1]));
      const st = await statusOf(peer, 1);
      expect(st).toEqual([7, 1, Status.UNIMPLEMENTED, "unknown method test.v1.Test/nope", null, null, null]);
      await expectEchoWorks(peer, 2);
      expect(peer.frames.filter((f) => f[1] === 1).length).toBe(1);
      await peer.close();
    });
  });

  test("11: call-level checks run in the documented order", async () => {
    await withServer(d, makeImpl(newProbe()), { maxConcurrentCalls: 1, maxMetadataBytes: 16 }, async (h) => {
      const big = { "x-big": "y".repeat(40) };
      const peer = await peerSending(
        h,
        framesBytes(
          [2, 1, "test.v1.Test/hang", null, null, 1, ["hold the only slot"]],
          [2, 2, "test.v1.Test/nope", null, big, 1, ["x"]],
          [2, 3, "test.v1.Test/nope", null, { Bad: "v" }, 1, ["x"]],
          [2, 4, "test.v1.Test/nope", null, null, 1, ["x"]],
          [8, 1],
          [2, 5, "test.v1.Test/nope", 0, null, 1, [42]],
          [2, 6, ECHO, 0, null, 1, [42]],
          [2, 7, ECHO, 0, null, 1, ["z".repeat(1001)]],
          [2, 8, ECHO, 0, null, 1, ["x"]],
          [2, 9, ECHO, -5, null, 1, ["x"]],
        ),
      );
      const codes: [number, number, string][] = [];
      for (let id = 2; id <= 9; id++) {
        const st = await statusOf(peer, id);
        codes.push([id, st[2] as number, st[3] as string]);
      }
      expect(codes).toEqual([
        [2, Status.RESOURCE_EXHAUSTED, "metadata is over the limit of 16 bytes"],
        [3, Status.INVALID_ARGUMENT, 'invalid metadata key "Bad": keys are 1-255 bytes of [a-z0-9._-]'],
        [4, Status.RESOURCE_EXHAUSTED, "too many concurrent calls on this connection (limit 1)"],
        [5, Status.UNIMPLEMENTED, "unknown method test.v1.Test/nope"],
        [6, Status.INVALID_ARGUMENT, "could not decode test.v1.Text: field text: expected string but found int"],
        [7, Status.INVALID_ARGUMENT, "invalid test.v1.Text: text: longer than 1000 characters"],
        [8, Status.DEADLINE_EXCEEDED, "deadline exceeded before the call started"],
        [9, Status.DEADLINE_EXCEEDED, "deadline exceeded before the call started"],
      ]);
      expect(peer.frames.some((f) => f[1] === 1 && f[0] === FrameType.STATUS)).toBe(false);
      // The id check comes before the metadata; shutting down before everything else.
      await peer.send(framesBytes([2, 20, "test.v1.Test/hang", null, null, 1, ["x"]], [12, 0, 0, 0, "bye"], [2, 21, "test.v1.Test/nope", null, big, 1, [42]]));
      expect((await statusOf(peer, 21)).slice(2, 4)).toEqual([Status.UNAVAILABLE, "server is shutting down: retry on another connection"]);
      await peer.send(framesBytes([8, 20]));
      expect(await peer.waitEnd()).toBe(true);
      await peer.close();
      const order = await peerSending(h, framesBytes([2, 6, ECHO, null, null, 1, ["x"]], [2, 5, "test.v1.Test/nope", null, big, 1, ["x"]]));
      expect(await expectGoAway(order, GoAwayReason.PROTOCOL_ERROR, 6)).toBe("REQUEST id 5 is not greater than the previous id 6");
    });
  });

  test("12-13: metadata of the wrong msgpack shape, a non-int timeoutMs, and ids on the wrong kind of frame end the connection", async () => {
    await withServer(d, makeImpl(newProbe()), {}, async (h) => {
      for (const [f, reason] of [
        [[2, 1, ECHO, null, { "x-n": 5 }, 1, ["x"]], GoAwayReason.MALFORMED_FRAME],
        [[2, 1, ECHO, null, ["x-n", "v"], 1, ["x"]], GoAwayReason.MALFORMED_FRAME],
        [[2, 1, ECHO, null, 7, 1, ["x"]], GoAwayReason.MALFORMED_FRAME],
        [[2, 1, ECHO, "soon", null, 1, ["x"]], GoAwayReason.MALFORMED_FRAME],
        [[2, 1, ECHO, 2.5, null, 1, ["x"]], GoAwayReason.MALFORMED_FRAME],
        [[10, 3, 1], GoAwayReason.PROTOCOL_ERROR],
        [[11, 3, 1], GoAwayReason.PROTOCOL_ERROR],
        [[12, 3, 0, 0, ""], GoAwayReason.PROTOCOL_ERROR],
        [[3, 0, 0, ["x"]], GoAwayReason.PROTOCOL_ERROR],
        [[9, 0, 5], GoAwayReason.PROTOCOL_ERROR],
      ] as const) {
        const peer = await peerSending(h, frameBytes(f));
        await expectGoAway(peer, reason);
      }
      const helloWithId = await RawPeer.connect(h.rt, h.port);
      await helloWithId.send(frameBytes([1, 4, ...HELLO.slice(2)]));
      expect(await expectGoAway(helloWithId, GoAwayReason.PROTOCOL_ERROR)).toBe("frame type 1 carries call id 4: connection-level frames carry id 0");
    });
  });

  test("15: maxConcurrentCalls counts open calls only: synchronous answers never occupy a slot", async () => {
    await withServer(d, makeImpl(newProbe()), { maxConcurrentCalls: 1 }, async (h) => {
      const burst = Array.from({ length: 30 }, (_, i) => [2, i + 1, ECHO, null, null, 1, [`s${i}`]]);
      const peer = await peerSending(h, framesBytes(...burst));
      expect(await until(() => peer.frames.filter((f) => f[0] === FrameType.RESPONSE).length === 30)).toBe(true);
      await peer.send(framesBytes([2, 31, "test.v1.Test/hang", null, null, 1, ["x"]], [2, 32, ECHO, null, null, 1, ["y"]]));
      expect((await statusOf(peer, 32))[2]).toBe(Status.RESOURCE_EXHAUSTED);
      await peer.send(framesBytes([8, 31]));
      await expectEchoWorks(peer, 33);
      expect(peer.frames.some((f) => f[1] === 31 && f[0] !== FrameType.HELLO)).toBe(false);
      await peer.close();
    });
  });

  test("16: a client's GOAWAY NO_ERROR lets open calls finish, refuses new ones, and gets no GOAWAY back; another reason aborts everything", async () => {
    const probe = newProbe();
    await withServer(d, makeImpl(probe), {}, async (h) => {
      const peer = await peerSending(h, framesBytes([2, 1, "test.v1.Test/delay", null, null, 1, [80]], [12, 0, 0, 0, "client leaving"], [2, 2, ECHO, null, null, 1, ["x"]]));
      expect((await statusOf(peer, 2))[2]).toBe(Status.UNAVAILABLE);
      expect(await peer.waitFrame(FrameType.RESPONSE)).toEqual([5, 1, [80]]);
      expect(await peer.waitEnd()).toBe(true);
      expect(peer.frames.some((f) => f[0] === FrameType.GOAWAY)).toBe(false);
      await peer.close();
      const failing = await peerSending(h, framesBytes([2, 1, "test.v1.Test/hang", null, null, 1, ["x"]], [12, 0, 0, GoAwayReason.PROTOCOL_ERROR, "client saw garbage"]));
      expect(await failing.waitEnd()).toBe(true);
      expect(await until(() => probe.aborted.length === 1)).toBe(true);
      expect(failing.frames.map((f) => f[0])).toEqual([FrameType.HELLO]);
      await failing.close();
    });
  });

  test("17 (client): answers PING with PONG; a PING with a call id or a client-only frame from the server ends the connection", async () => {
    const rt = await d.make();
    const listener = await rt.listen({ host: "127.0.0.1", port: 0, reusePort: false });
    const ch = createChannel(rt, { endpoints: [{ host: "127.0.0.1", port: listener.port }] });
    try {
      for (const bad of [
        [10, 4, 1],
        [2, 1, ECHO, null, null, 1, ["x"]],
      ]) {
        const call = ch.unary(M.hang, { text: "x" }).then(
          () => null,
          (e: RpcError) => e,
        );
        const server = await RawPeer.accept(rt, listener);
        expect((await server.waitFrame(FrameType.HELLO))![0]).toBe(FrameType.HELLO);
        await server.send(framesBytes(HELLO, [10, 0, 5]));
        expect(await server.waitFrame(FrameType.PONG)).toEqual([11, 0, 5]);
        expect(await server.waitFrame(FrameType.REQUEST)).not.toBeNull();
        await server.send(frameBytes(bad));
        const ga = await server.waitFrame(FrameType.GOAWAY);
        expect([ga![2], ga![3]]).toEqual([0, GoAwayReason.PROTOCOL_ERROR]);
        const err = await call;
        expect(err?.status).toBe(Status.UNAVAILABLE);
        await server.close();
        await sleep(1);
      }
    } finally {
      await ch.close();
      await listener.close();
      await rt.close();
    }
  });
});

describe("14: bench.v1.Bench semantics (bench/bench.ridl)", () => {
  test("ringrpc's BenchService: ticks seq from 0 with size bytes of seq & 0xff, i64 add, total in item order", () => {
    const svc = new BenchService();
    // Copied as they come: each tick's data is valid until the next one is asked for.
    const ticks: [number, number[]][] = [];
    for (const t of svc.ticks({ count: 258, size: 3 })) ticks.push([t.seq, [...t.data]]);
    expect(ticks.length).toBe(258);
    expect(ticks[0]).toEqual([0, [0, 0, 0]]);
    expect(ticks[1]).toEqual([1, [1, 1, 1]]);
    expect(ticks[257]).toEqual([257, [1, 1, 1]]);
    expect(svc.add({ a: 0x7fffffff, b: 0x7fffffff }).sum).toBe(0xfffffffen);
    const item = (price: number, quantity: number) => ({ id: 1, name: "n", price, quantity, tags: [], attrs: {} });
    const r = svc.order({ customer: "c", items: [item(0.1, 3), item(0.2, 1)] });
    expect(r.total).toBe(0.1 * 3 + 0.2 * 1);
    expect(Object.is(svc.order({ customer: "c", items: [] }).total, 0)).toBe(true);
  });

  test("the Bun peer's helpers: fillTickPayload and add agree", () => {
    expect([...fillTickPayload(new Uint8Array(2), 0x1ff)]).toEqual([0xff, 0xff]);
    const add = UNARY_METHODS.get("bench.v1.Bench/add")!;
    expect(add(new Map([[1, -0x80000000], [2, -0x80000000]])).get(1)).toBe(-0x100000000n);
  });
});
