/**
 * Method-kind mismatches (docs/PROTOCOL.md section 10, rule 18) and
 * deadlines that settle a call whatever the server sends or does not send.
 * A client whose idea of a method's kind differs from the server's fails
 * only that call with UNIMPLEMENTED "method kind mismatch ...", whichever
 * side notices it, and the connection keeps serving other calls. Real
 * servers cover what a ringrpc server sends; raw servers (RawPeer) send the
 * frames an older or foreign server would, on both drivers.
 */
import { expect, test } from "bun:test";
import { type Channel, createChannel } from "../../src/rpc/client.ts";
import type { MethodDescriptor } from "../../src/rpc/descriptor.ts";
import { FrameType } from "../../src/rpc/protocol.ts";
import { type RpcError, Status } from "../../src/rpc/status.ts";
import type { Listener, Runtime } from "../../src/runtime/types.ts";
import { caught } from "./helpers/caught.ts";
import { type DriverCase, describeDrivers } from "./helpers/drivers.ts";
import { M, type Num, type Text } from "./helpers/fixtures.ts";
import { sleep, until, withServer } from "./helpers/harness.ts";
import { frameBytes, HELLO, RawPeer } from "./helpers/raw-peer.ts";
import { makeImpl, newProbe } from "./service-impl.ts";

const SKEW = "client and server were built from different IDLs";

/** The server's method as a client built from an older IDL with another kind sees it. */
function asKind<I, O>(m: MethodDescriptor<I, O>, kind: MethodDescriptor["kind"]): MethodDescriptor<I, O> {
  return { ...m, kind };
}

/** Reads a stream to its end; rejects with the error the stream ended with. */
async function drain<T>(s: AsyncIterable<T>): Promise<T[]> {
  const got: T[] = [];
  for await (const v of s) got.push(v);
  return got;
}

/** The error p failed with, or "pending" when it has not settled within ms. */
async function settledWithin(p: Promise<unknown>, ms: number): Promise<RpcError | "pending" | "succeeded"> {
  const outcome = p.then(
    () => "succeeded" as const,
    (e: RpcError) => e,
  );
  return Promise.race([outcome, sleep(ms).then(() => "pending" as const)]);
}

/** p's value, or the error it failed with (so a test that fails early leaves no unhandled rejection). */
function orError<T>(p: Promise<T>): Promise<T | RpcError> {
  return p.then(
    (v) => v,
    (e: RpcError) => e,
  );
}

interface RawServer {
  rt: Runtime;
  ch: Channel;
  /** Accepts the channel's connection and trades HELLOs (call it after the first call started). */
  accept(): Promise<RawPeer>;
}

/** A channel to a hand-driven server on 127.0.0.1; everything is closed after body. */
async function withRawServer(d: DriverCase, body: (s: RawServer) => Promise<void>): Promise<void> {
  const rt = await d.make();
  let listener: Listener | null = null;
  let ch: Channel | null = null;
  const peers: RawPeer[] = [];
  try {
    const l = (listener = await rt.listen({ host: "127.0.0.1", port: 0, reusePort: false }));
    ch = createChannel(rt, { endpoints: [{ host: "127.0.0.1", port: l.port }] });
    await body({
      rt,
      ch,
      async accept() {
        const peer = await RawPeer.accept(rt, l);
        peers.push(peer);
        expect(await peer.waitFrame(FrameType.HELLO)).not.toBeNull();
        await peer.send(frameBytes(HELLO));
        return peer;
      },
    });
  } finally {
    await ch?.close();
    for (const p of peers) await p.close();
    await listener?.close();
    await rt.close();
  }
}

/** The frame of `type` for call `id` the raw server received, waited for (null after 2 s). */
async function frameOf(peer: RawPeer, type: number, id: number): Promise<unknown[] | null> {
  const find = () => peer.frames.find((f) => f[0] === type && f[1] === id);
  await until(() => find() !== undefined, 2000);
  return find() ?? null;
}

describeDrivers("method-kind mismatch", (d) => {
  test("(a) a unary client calling a server-streaming method gets UNIMPLEMENTED before the handler runs; a concurrent call on the connection completes", async () => {
    const probe = newProbe();
    await withServer(d, makeImpl(probe), {}, async (h) => {
      const ch = h.channel();
      const gated = orError(ch.unary(M.gate, { n: 1 }));
      const e = await caught(ch.unary(asKind(M.count, "unary"), { n: 3 }));
      expect(e.status).toBe(Status.UNIMPLEMENTED);
      expect(e.message).toBe(`method kind mismatch on test.v1.Test/count: client unary, server server_stream; ${SKEW}`);
      expect(probe.produced).toBe(0);
      expect(await ch.unary(M.open, { n: 1 })).toEqual({ n: 1 });
      expect(await gated).toEqual({ n: 1 });
    });
  });

  test("(a) against a server that does not check the declared kind, a second MESSAGE fails the unary call, CANCELs it and keeps the connection", async () => {
    await withRawServer(d, async ({ ch, accept }) => {
      const call = caught(ch.unary(M.echo, { text: "x" }, { timeoutMs: 2000 }));
      const server = await accept();
      expect(await frameOf(server, FrameType.REQUEST, 1)).not.toBeNull();
      const t0 = performance.now();
      // A server-streaming handler's first two messages.
      await server.send(frameBytes([3, 1, 0, ["a"]]));
      await server.send(frameBytes([3, 1, 0, ["b"]]));
      const e = await call;
      expect(e.status).toBe(Status.UNIMPLEMENTED);
      expect(e.message).toBe(`method kind mismatch on test.v1.Test/echo: client unary, server server_stream or bidi (it sent a second MESSAGE); ${SKEW}`);
      // Measured 0.1-0.9 ms over 5 runs per driver, 2026-12-05; the deadline is 2000 ms.
      expect(performance.now() - t0).toBeLessThan(500);
      expect(await frameOf(server, FrameType.CANCEL, 1)).toEqual([FrameType.CANCEL, 1]);
      const next = ch.unary(M.echo, { text: "y" });
      expect(await frameOf(server, FrameType.REQUEST, 2)).not.toBeNull();
      await server.send(frameBytes([5, 2, ["y"]]));
      expect(await next).toEqual({ text: "y" });
      expect(server.frames.some((f) => f[0] === FrameType.GOAWAY)).toBe(false);
    });
  });

  test("(b) a server-streaming or bidi client that receives a RESPONSE fails at once, well under its timeout, and the connection serves the next call", async () => {
    await withRawServer(d, async ({ ch, accept }) => {
      const stream = settledWithin(drain(ch.serverStream(M.count, { n: 3 }, { timeoutMs: 5000 })), 1000);
      const server = await accept();
      expect(await frameOf(server, FrameType.REQUEST, 1)).not.toBeNull();
      const t0 = performance.now();
      await server.send(frameBytes([5, 1, [7]]));
      const e = await stream;
      expect(e).not.toBe("pending");
      expect((e as RpcError).status).toBe(Status.UNIMPLEMENTED);
      expect((e as RpcError).message).toBe(`method kind mismatch on test.v1.Test/count: client server_stream, server unary or client_stream (it sent a RESPONSE); ${SKEW}`);
      // Measured 0.1-0.9 ms over 5 runs per driver, 2026-12-05; the timeout is 5000 ms.
      expect(performance.now() - t0).toBeLessThan(500);

      const bidi = settledWithin(drain(ch.bidi(M.chat, [{ text: "a" }], { timeoutMs: 5000 })), 1000);
      expect(await frameOf(server, FrameType.REQUEST, 2)).not.toBeNull();
      await server.send(frameBytes([5, 2, ["A"]]));
      const be = await bidi;
      expect(be).not.toBe("pending");
      expect((be as RpcError).status).toBe(Status.UNIMPLEMENTED);
      expect((be as RpcError).message).toBe(`method kind mismatch on test.v1.Test/chat: client bidi, server unary or client_stream (it sent a RESPONSE); ${SKEW}`);

      const next = ch.unary(M.echo, { text: "z" });
      expect(await frameOf(server, FrameType.REQUEST, 3)).not.toBeNull();
      await server.send(frameBytes([5, 3, ["z"]]));
      expect(await next).toEqual({ text: "z" });
      // The RESPONSE ended those calls on the server: nothing to CANCEL, and no GOAWAY.
      expect(server.frames.filter((f) => f[0] === FrameType.CANCEL || f[0] === FrameType.GOAWAY)).toEqual([]);
    });
  });

  test("(b) a server-streaming client calling a unary method gets UNIMPLEMENTED from the server", async () => {
    await withServer(d, makeImpl(newProbe()), {}, async (h) => {
      const ch = h.channel();
      const e = await settledWithin(drain(ch.serverStream(asKind(M.echo, "server_stream"), { text: "x" }, { timeoutMs: 5000 })), 1000);
      expect(e).not.toBe("pending");
      expect((e as RpcError).status).toBe(Status.UNIMPLEMENTED);
      expect((e as RpcError).message).toBe(`method kind mismatch on test.v1.Test/echo: client server_stream, server unary; ${SKEW}`);
      expect(await ch.unary(M.echo, { text: "after" })).toEqual({ text: "after" });
    });
  });

  test("(c) client-stream and bidi mismatches fail only their call: no GOAWAY, a concurrent call and the next call succeed", async () => {
    const probe = newProbe();
    await withServer(d, makeImpl(probe), {}, async (h) => {
      const ch = h.channel();
      const gated = orError(ch.unary(M.gate, { n: 2 }));
      const cases = (
        [
          [ch.clientStream(asKind(M.count, "client_stream"), [{ n: 1 }]), "on test.v1.Test/count: client client_stream, server server_stream"],
          [ch.unary(asKind(M.sum, "unary"), { n: 1 }), "on test.v1.Test/sum: client unary, server client_stream"],
          [drain(ch.bidi(asKind(M.sum, "bidi"), [{ n: 1 }])), "on test.v1.Test/sum: client bidi, server client_stream"],
          [ch.clientStream(asKind(M.chat, "client_stream"), [{ text: "a" }, { text: "b" }]), "on test.v1.Test/chat: client client_stream, server bidi"],
          [drain(ch.serverStream(asKind(M.chat, "server_stream"), { text: "a" })), "on test.v1.Test/chat: client server_stream, server bidi"],
        ] as [Promise<unknown>, string][]
      ).map(([call, where]) => [settledWithin(call, 1000), where] as const);
      for (const [outcome, where] of cases) {
        const e = await outcome;
        expect(e).not.toBe("pending");
        expect(e).not.toBe("succeeded");
        expect([(e as RpcError).status, (e as RpcError).message]).toEqual([Status.UNIMPLEMENTED, `method kind mismatch ${where}; ${SKEW}`]);
      }
      expect(await ch.clientStream(M.sum, [{ n: 2 }, { n: 3 }])).toEqual({ n: 5 });
      expect(await ch.unary(M.open, { n: 2 })).toEqual({ n: 2 });
      expect(await gated).toEqual({ n: 2 });
      expect(h.server.stats().totalConnections).toBe(1);
    });
  });
});

describeDrivers("deadlines settle every call", (d) => {
  /** One call of each kind with a 100 ms budget; streams are not read until asked. */
  function callsOfEveryKind(ch: Channel) {
    const opts = { timeoutMs: 100 };
    return {
      unary: caught(ch.unary(M.echo, { text: "x" }, opts)),
      clientStream: caught(ch.clientStream(M.sum, [{ n: 1 }], opts)),
      serverStream: ch.serverStream(M.count, { n: 3 }, opts),
      bidi: ch.bidi(M.chat, [{ text: "a" }], opts),
    };
  }

  /** Checks the four calls ended with DEADLINE_EXCEEDED and the streams yield `buffered` first. */
  async function expectAllExpired(calls: ReturnType<typeof callsOfEveryKind>, buffered: { serverStream: Num[]; bidi: Text[] }): Promise<void> {
    expect((await calls.unary).status).toBe(Status.DEADLINE_EXCEEDED);
    expect((await calls.clientStream).status).toBe(Status.DEADLINE_EXCEEDED);
    for (const [stream, first] of [
      [calls.serverStream, buffered.serverStream],
      [calls.bidi, buffered.bidi],
    ] as [AsyncIterable<unknown>, unknown[]][]) {
      const got: unknown[] = [];
      const t0 = performance.now();
      const e = await caught(
        (async () => {
          for await (const v of stream) got.push(v);
        })(),
      );
      // Already settled before the first read: measured under 0.3 ms over 5 runs per driver, 2026-12-05.
      expect(performance.now() - t0).toBeLessThan(50);
      expect(e.status).toBe(Status.DEADLINE_EXCEEDED);
      expect(got).toEqual(first);
    }
  }

  test("(d) a server that sends nothing after HELLO: every kind fails with DEADLINE_EXCEEDED and CANCELs, streams included before anyone reads them", async () => {
    await withRawServer(d, async ({ ch, accept }) => {
      const t0 = performance.now();
      const calls = callsOfEveryKind(ch);
      const server = await accept();
      for (const id of [1, 2, 3, 4]) expect(await frameOf(server, FrameType.CANCEL, id)).toEqual([FrameType.CANCEL, id]);
      // Four CANCELs at the 100 ms deadline: measured 100.9-103 ms over 5 runs per driver, 2026-12-05.
      expect(performance.now() - t0).toBeLessThan(300);
      await expectAllExpired(calls, { serverStream: [], bidi: [] });
    });
  });

  test("(d) frames that do not end a call (HEADERS, a first MESSAGE) leave the deadline running for every kind", async () => {
    await withRawServer(d, async ({ ch, accept }) => {
      const calls = callsOfEveryKind(ch);
      const server = await accept();
      for (const id of [1, 2, 3, 4]) expect(await frameOf(server, FrameType.REQUEST, id)).not.toBeNull();
      await server.send(frameBytes([6, 1, { "x-h": "v" }]));
      await server.send(frameBytes([3, 1, 0, ["x"]]));
      await server.send(frameBytes([3, 2, 0, [1]]));
      await server.send(frameBytes([3, 3, 0, [0]]));
      await server.send(frameBytes([3, 4, 0, ["A"]]));
      for (const id of [1, 2, 3, 4]) expect(await frameOf(server, FrameType.CANCEL, id)).toEqual([FrameType.CANCEL, id]);
      await expectAllExpired(calls, { serverStream: [{ n: 0 }], bidi: [{ text: "A" }] });
    });
  });
});
