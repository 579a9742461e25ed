/**
 * ServerOptions.authorize (src/rpc/server-auth.ts): the hook sees the
 * method, metadata and peer of a call before its body is decoded. A service
 * whose message types count their decodes shows that a refused call never
 * decodes anything, synchronous or asynchronous hook, unary or streaming;
 * what a refusal sends (an RpcError's status and message, anything else
 * UNAUTHENTICATED with a fixed message); that an allowed asynchronous hook
 * still decodes the inline message and every MESSAGE it held, in order;
 * that held MESSAGEs stay within the call's credit and count in the memory
 * budget, and that a deadline or CANCEL ends a call whose hook has not
 * answered. Both drivers, raw
 * frames where ordering matters, the real client elsewhere.
 */
import { describe, expect, test } from "bun:test";
import { DecodeError } from "../../src/codec/errors.ts";
import type { MsgReader } from "../../src/codec/reader.ts";
import type { MsgWriter } from "../../src/codec/writer.ts";
import type { MessageType, MethodDescriptor, MethodKind, ServiceDescriptor } from "../../src/rpc/descriptor.ts";
import { FrameType, GoAwayReason } from "../../src/rpc/protocol.ts";
import { type Authorize, type AuthorizeContext, REFUSED_MESSAGE } from "../../src/rpc/server-auth.ts";
import { createRpcServer } from "../../src/rpc/server.ts";
import { RpcError, Status } from "../../src/rpc/status.ts";
import { createEpollRuntime } from "../../src/runtime/epoll/runtime.ts";
import { describeDrivers } from "./helpers/drivers.ts";
import { M } from "./helpers/fixtures.ts";
import { type Harness, until, withServer } from "./helpers/harness.ts";
import { frameBytes, framesBytes, HELLO, RawPeer } from "./helpers/raw-peer.ts";
import { makeImpl, newProbe } from "./service-impl.ts";

/** Decodes seen by the counting service's message types. */
const decodes = { n: 0 };

/** A one-field message `[n]` whose decode is counted. */
const CountedNum: MessageType<{ n: number }> = {
  typeName: "auth.v1.Num",
  encode(w: MsgWriter, v: { n: number }) {
    w.arrayHeader(1);
    w.int(v.n);
  },
  decode(r: MsgReader) {
    decodes.n++;
    if (r.arrayHeader() !== 1) throw new DecodeError("expected 1 field");
    return { n: r.int() };
  },
  validate: () => null,
};

function method(name: string, kind: MethodKind): MethodDescriptor {
  return { service: "auth.v1.Counted", name, path: `auth.v1.Counted/${name}`, kind, input: CountedNum, output: CountedNum, idempotent: false, deadlineMs: undefined, errors: [] };
}

const Counted: ServiceDescriptor = {
  name: "auth.v1.Counted",
  methods: { double: method("double", "unary"), sum: method("sum", "client_stream") },
};
const countedImpl = {
  double: (req: { n: number }) => ({ n: req.n * 2 }),
  async sum(reqs: AsyncIterable<{ n: number }>) {
    let n = 0;
    for await (const r of reqs) n = n * 10 + r.n;
    return { n };
  },
};
const counted = [{ descriptor: Counted, impl: countedImpl, validate: true }];

/** Lets a call through with `authorization: let-me-in`, refuses it with UNAUTHENTICATED otherwise. */
const tokenCheck: Authorize = (ctx) => {
  if (ctx.metadata.authorization !== "let-me-in") throw new RpcError(Status.UNAUTHENTICATED, "missing or wrong token");
};

/** An asynchronous hook that answers only when the test opens its gate. */
function gatedHook(allow: boolean): { hook: Authorize; open: () => void; calls: AuthorizeContext[] } {
  let open = () => {};
  const gate = new Promise<void>((resolve) => {
    open = resolve;
  });
  const calls: AuthorizeContext[] = [];
  const hook: Authorize = async (ctx) => {
    calls.push(ctx);
    await gate;
    if (!allow) throw new RpcError(Status.PERMISSION_DENIED, "not for you");
  };
  return { hook, open, calls };
}

async function helloPeer(h: Harness): Promise<RawPeer> {
  const peer = await RawPeer.connect(h.rt, h.port);
  await peer.send(frameBytes(HELLO));
  return peer;
}


/** The first frame for call `id` that ends it (RESPONSE or STATUS), waited for. */
async function outcome(peer: RawPeer, id: number): Promise<unknown[] | null> {
  const ends = (f: unknown[]) => f[1] === id && (f[0] === FrameType.RESPONSE || f[0] === FrameType.STATUS);
  await until(() => peer.frames.some(ends));
  return peer.frames.find(ends) ?? null;
}

describeDrivers("authorize hook", (d) => {
  test("a refused call gets the hook's status and message and never decodes its body; an allowed one runs", async () => {
    await withServer(
      d,
      makeImpl(newProbe()),
      { authorize: tokenCheck },
      async (h) => {
        decodes.n = 0;
        const peer = await helloPeer(h);
        await peer.send(framesBytes([2, 1, "auth.v1.Counted/double", null, null, 1, [21]], [2, 2, "auth.v1.Counted/double", null, { authorization: "let-me-in" }, 1, [21]]));
        expect(await outcome(peer, 1)).toEqual([FrameType.STATUS, 1, Status.UNAUTHENTICATED, "missing or wrong token", null, null, null]);
        expect(await outcome(peer, 2)).toEqual([FrameType.RESPONSE, 2, [42]]);
        expect(decodes.n).toBe(1);
        // The hook runs before the body is looked at: a body that cannot decode is refused, not INVALID_ARGUMENT.
        await peer.send(framesBytes([2, 3, "test.v1.Test/echo", null, null, 1, "not a Text"], [2, 4, "test.v1.Test/echo", null, { authorization: "let-me-in" }, 1, "not a Text"]));
        expect(((await outcome(peer, 3)) ?? [])[2]).toBe(Status.UNAUTHENTICATED);
        expect(((await outcome(peer, 4)) ?? [])[2]).toBe(Status.INVALID_ARGUMENT);
        await peer.close();
      },
      counted,
    );
  });

  test("the hook sees the method descriptor, the metadata and the peer; an unknown path is UNIMPLEMENTED without it", async () => {
    const seen: AuthorizeContext[] = [];
    await withServer(d, makeImpl(newProbe()), { authorize: (ctx) => void seen.push(ctx) }, async (h) => {
      const peer = await helloPeer(h);
      await peer.send(framesBytes([2, 1, "test.v1.Test/nope", null, null, 1, ["x"]], [2, 2, "test.v1.Test/echo", null, { authorization: "Bearer t", "x-user": "ann" }, 1, ["hi"]]));
      expect(((await outcome(peer, 1)) ?? [])[2]).toBe(Status.UNIMPLEMENTED);
      expect(await outcome(peer, 2)).toEqual([FrameType.RESPONSE, 2, ["hi"]]);
      expect(seen.length).toBe(1);
      expect(seen[0]!.method.path).toBe("test.v1.Test/echo");
      expect(seen[0]!.method.kind).toBe("unary");
      expect({ ...seen[0]!.metadata }).toEqual({ authorization: "Bearer t", "x-user": "ann" });
      expect(seen[0]!.peer?.address).toBe("127.0.0.1");
      expect(seen[0]!.peer?.port).toBeGreaterThan(0);
      await peer.close();
    });
  });

  test("a hook that throws anything but an RpcError (or an RpcError with status OK) refuses with UNAUTHENTICATED and a fixed message (its own only with debug)", async () => {
    const leaky: Authorize = () => {
      throw new Error("token parser: key id 7 of tenant acme unknown");
    };
    for (const debug of [false, true]) {
      await withServer(d, makeImpl(newProbe()), { authorize: leaky, debug }, async (h) => {
        const err = await h
          .channel()
          .unary(M.echo, { text: "x" })
          .then(
            () => null,
            (e: unknown) => e as RpcError,
          );
        expect(err?.code).toBe("UNAUTHENTICATED");
        expect(err?.message).toBe(debug ? `${REFUSED_MESSAGE} (authorize threw: token parser: key id 7 of tenant acme unknown)` : REFUSED_MESSAGE);
      });
    }
    // An RpcError with status OK cannot refuse anything: it is a refusal like any other throw.
    const okThrown: Authorize = () => {
      throw new RpcError(Status.OK, "all good?");
    };
    await withServer(d, makeImpl(newProbe()), { authorize: okThrown }, async (h) => {
      const err = await h
        .channel()
        .unary(M.echo, { text: "x" })
        .then(
          () => null,
          (e: unknown) => e as RpcError,
        );
      expect([err?.code, err?.message]).toEqual(["UNAUTHENTICATED", REFUSED_MESSAGE]);
    });
  });

  test("an asynchronous hook that allows: the inline message and every MESSAGE held meanwhile are decoded after it, in order", async () => {
    const gate = gatedHook(true);
    await withServer(
      d,
      makeImpl(newProbe()),
      { authorize: gate.hook },
      async (h) => {
        decodes.n = 0;
        const peer = await helloPeer(h);
        await peer.send(
          framesBytes(
            [2, 1, "auth.v1.Counted/double", null, null, 1, [5]],
            [2, 2, "auth.v1.Counted/sum", null, null, 0],
            [3, 2, 0, [1]],
            [3, 2, 0, [2]],
            [3, 2, 1, [3]],
          ),
        );
        expect(await until(() => gate.calls.length === 2)).toBe(true);
        expect(decodes.n).toBe(0);
        expect(peer.frames.filter((f) => f[0] !== FrameType.HELLO)).toEqual([]);
        gate.open();
        expect(await outcome(peer, 1)).toEqual([FrameType.RESPONSE, 1, [10]]);
        expect(await outcome(peer, 2)).toEqual([FrameType.RESPONSE, 2, [123]]);
        expect(decodes.n).toBe(4);
        await peer.close();
      },
      counted,
    );
  });

  test("an asynchronous hook that refuses: its status, nothing decoded, later MESSAGEs dropped, the connection keeps serving", async () => {
    const gate = gatedHook(false);
    await withServer(
      d,
      makeImpl(newProbe()),
      { authorize: gate.hook },
      async (h) => {
        decodes.n = 0;
        const peer = await helloPeer(h);
        await peer.send(framesBytes([2, 1, "auth.v1.Counted/double", null, null, 1, [5]], [2, 2, "auth.v1.Counted/sum", null, null, 0], [3, 2, 0, [1]]));
        expect(await until(() => gate.calls.length === 2)).toBe(true);
        gate.open();
        expect(await outcome(peer, 1)).toEqual([FrameType.STATUS, 1, Status.PERMISSION_DENIED, "not for you", null, null, null]);
        expect(await outcome(peer, 2)).toEqual([FrameType.STATUS, 2, Status.PERMISSION_DENIED, "not for you", null, null, null]);
        await peer.send(framesBytes([3, 2, 0, [2]], [4, 2], [8, 99]));
        await peer.send(frameBytes([FrameType.PING, 0, 1]));
        expect(await peer.waitFrame(FrameType.PONG)).toEqual([FrameType.PONG, 0, 1]);
        expect(decodes.n).toBe(0);
        expect(peer.frames.some((f) => f[0] === FrameType.GOAWAY)).toBe(false);
        await peer.close();
      },
      counted,
    );
  });

  test("the bytes kept for a pending hook count in the server's memory budget until it answers", async () => {
    const gate = gatedHook(true);
    await withServer(d, makeImpl(newProbe()), { authorize: gate.hook }, async (h) => {
      const text = "t".repeat(200_000);
      const peer = await helloPeer(h);
      await peer.send(frameBytes([2, 1, "test.v1.Test/echo", null, null, 1, [text]]));
      expect(await until(() => gate.calls.length === 1)).toBe(true);
      expect(await until(() => h.server.stats().memory.usedBytes >= text.length)).toBe(true);
      gate.open();
      // Decoded once allowed: the echo method validates it (at most 1000 characters).
      expect(await outcome(peer, 1)).toEqual([FrameType.STATUS, 1, Status.INVALID_ARGUMENT, "invalid test.v1.Text: text: longer than 1000 characters", null, null, null]);
      expect(await until(() => h.server.stats().memory.usedBytes < text.length)).toBe(true);
      await peer.close();
    });
  });

  test("MESSAGEs held for a pending hook count against the call's credit: one beyond it is FLOW_CONTROL_ERROR", async () => {
    const gate = gatedHook(true);
    await withServer(
      d,
      makeImpl(newProbe()),
      { authorize: gate.hook, initialWindow: 2 },
      async (h) => {
        decodes.n = 0;
        const peer = await helloPeer(h);
        await peer.send(framesBytes([2, 1, "auth.v1.Counted/sum", null, null, 0], [3, 1, 0, [1]], [3, 1, 0, [2]], [3, 1, 0, [3]]));
        const ga = await peer.waitFrame(FrameType.GOAWAY);
        expect(ga).toEqual([FrameType.GOAWAY, 0, 1, GoAwayReason.FLOW_CONTROL_ERROR, "MESSAGE on call 1 beyond the granted credit"]);
        expect(await peer.waitEnd()).toBe(true);
        gate.open();
        await peer.close();
        expect(decodes.n).toBe(0);
      },
      counted,
    );
  });

  test("a deadline or a CANCEL ends a call whose hook has not answered; its later answer sends nothing", async () => {
    const gate = gatedHook(true);
    await withServer(
      d,
      makeImpl(newProbe()),
      { authorize: gate.hook },
      async (h) => {
        decodes.n = 0;
        const peer = await helloPeer(h);
        await peer.send(framesBytes([2, 1, "auth.v1.Counted/double", 30, null, 1, [1]], [2, 2, "auth.v1.Counted/double", null, null, 1, [2]], [8, 2]));
        expect(await outcome(peer, 1)).toEqual([FrameType.STATUS, 1, Status.DEADLINE_EXCEEDED, "deadline of 30 ms exceeded", null, null, null]);
        gate.open();
        await peer.send(frameBytes([2, 3, "auth.v1.Counted/double", null, null, 1, [3]]));
        expect(await outcome(peer, 3)).toEqual([FrameType.RESPONSE, 3, [6]]);
        expect(peer.frames.filter((f) => f[1] === 1 || f[1] === 2).length).toBe(1);
        expect(decodes.n).toBe(1);
        await peer.close();
      },
      counted,
    );
  });
});

describe("authorize option", () => {
  test("a value that is not a function is refused when the server is created", async () => {
    const rt = createEpollRuntime();
    try {
      expect(() => createRpcServer(rt, [], { authorize: "yes" as unknown as Authorize })).toThrow(
        "ServerOptions.authorize must be a function (ctx) => void | Promise<void>, got string",
      );
    } finally {
      await rt.close();
    }
  });
});
