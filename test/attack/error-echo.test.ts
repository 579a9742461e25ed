/**
 * Attack: error messages that echo what the peer sent. A raw peer sends
 * huge or hostile method paths, metadata keys, map keys and GOAWAY
 * messages; every error that quotes them must come back cut to 128
 * characters with the whole size (`…(N bytes)`) and with control and
 * non-printing characters escaped, and no message may name a byte offset
 * in the receiver's buffers. Expected texts are written out by hand (never
 * computed with peerText). Both drivers.
 */
import { expect, test } from "bun:test";
import { Packr } from "msgpackr";
import { bindBench } from "../../bench/gen/bench.ts";
import { BenchService } from "../../bench/server/service.ts";
import { createChannel } from "../../src/rpc/client.ts";
import { FrameType, GoAwayReason } from "../../src/rpc/protocol.ts";
import { Status } from "../../src/rpc/status.ts";
import { describeDrivers } from "../rpc/helpers/drivers.ts";
import { M } from "../rpc/helpers/fixtures.ts";
import { type Harness, until, withServer } from "../rpc/helpers/harness.ts";
import { frameBytes, HELLO, RawPeer, rawFrame } from "../rpc/helpers/raw-peer.ts";
import { makeImpl, newProbe } from "../rpc/service-impl.ts";

const ECHO = "test.v1.Test/echo";
const packr = new Packr({ useRecords: false, variableMapSize: true });

async function helloPeer(h: Harness): Promise<RawPeer> {
  const peer = await RawPeer.connect(h.rt, h.port);
  await peer.send(frameBytes(HELLO));
  return peer;
}

/** The message of call `id`'s STATUS, after checking its status code. */
async function statusMessage(peer: RawPeer, id: number, status: number): Promise<string> {
  expect(await until(() => peer.frames.some((f) => f[0] === FrameType.STATUS && f[1] === id))).toBe(true);
  const st = peer.frames.find((f) => f[0] === FrameType.STATUS && f[1] === id)!;
  expect(st[2]).toBe(status);
  return st[3] as string;
}

/** The GOAWAY's reason and message, once the server closed. */
async function goAway(peer: RawPeer): Promise<[number, string]> {
  const ga = await peer.waitFrame(FrameType.GOAWAY);
  expect(ga).not.toBeNull();
  expect(await peer.waitEnd()).toBe(true);
  return [ga![3] as number, ga![4] as string];
}

/** True when `s` holds a C0/C1 control or a bidi override: what must never reach a terminal raw. */
function hasRawControl(s: string): boolean {
  return /[\x00-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]/.test(s);
}

describeDrivers("error messages that echo peer input", (d) => {
  test("a 10 KB method path comes back as its first 128 characters and its size, and the connection keeps serving", async () => {
    await withServer(d, makeImpl(newProbe()), {}, async (h) => {
      const path = `x.v1.Y/${"m".repeat(10240 - 7)}`;
      const peer = await helloPeer(h);
      await peer.send(frameBytes([2, 1, path, null, null, 1, ["a"]]));
      const msg = await statusMessage(peer, 1, Status.UNIMPLEMENTED);
      expect(msg).toBe(`unknown method x.v1.Y/${"m".repeat(121)}…(10240 bytes)`);
      await peer.send(frameBytes([2, 2, ECHO, null, null, 1, ["still here"]]));
      expect(await peer.waitFrame(FrameType.RESPONSE)).toEqual([FrameType.RESPONSE, 2, ["still here"]]);
      await peer.close();
    });
  });

  test("terminal escapes, newlines and bidi overrides in a method path come back escaped", async () => {
    await withServer(d, makeImpl(newProbe()), {}, async (h) => {
      const peer = await helloPeer(h);
      await peer.send(frameBytes([2, 1, "x/\x1b[31mred\x1b[0m\nfake log line\u202eevil", null, null, 1, ["a"]]));
      const msg = await statusMessage(peer, 1, Status.UNIMPLEMENTED);
      expect(msg).toBe("unknown method x/\\x1b[31mred\\x1b[0m\\x0afake log line\\u{202e}evil");
      expect(hasRawControl(msg)).toBe(false);
      await peer.close();
    });
  });

  test("an invalid 4 KB metadata key comes back quoted, escaped and cut", async () => {
    await withServer(d, makeImpl(newProbe()), {}, async (h) => {
      const peer = await helloPeer(h);
      await peer.send(frameBytes([2, 1, ECHO, null, { [`\x07${"k".repeat(3999)}`]: "v" }, 1, ["a"]]));
      const msg = await statusMessage(peer, 1, Status.INVALID_ARGUMENT);
      expect(msg).toBe(`invalid metadata key "\\x07${"k".repeat(127)}"…(4000 bytes): keys are 1-255 bytes of [a-z0-9._-]`);
      await peer.close();
    });
  });

  test("INVALID_ARGUMENT names the field path with a hostile map key cut and escaped, and the expected type", async () => {
    await withServer(
      d,
      makeImpl(newProbe()),
      {},
      async (h) => {
        const key = `\n${"q".repeat(5000)}`;
        const order = new Map<number, unknown>([
          [1, "ann"],
          [2, [new Map<number, unknown>([[6, { [key]: 5 }]])]],
        ]);
        const peer = await helloPeer(h);
        await peer.send(frameBytes([2, 1, "bench.v1.Bench/order", null, null, 1, order]));
        const msg = await statusMessage(peer, 1, Status.INVALID_ARGUMENT);
        expect(msg).toBe(`could not decode bench.v1.OrderRequest: field items[0].attrs["\\x0a${"q".repeat(127)}"…(5001 bytes)]: expected string but found int`);
        await peer.close();
      },
      [bindBench(new BenchService())],
    );
  });

  test("decode errors name no byte offset of the server's buffers: invalid UTF-8, a truncated frame, a reserved byte", async () => {
    await withServer(
      d,
      makeImpl(newProbe()),
      {},
      async (h) => {
        const peer = await helloPeer(h);
        // [2, 1, ECHO, nil, nil, 1, ["ab"]] with "ab" replaced by the invalid UTF-8 bytes c3 28.
        const body = packr.pack([2, 1, ECHO, null, null, 1, ["ab"]]);
        body.set([0xc3, 0x28], body.length - 2);
        await peer.send(rawFrame([...body]));
        expect(await statusMessage(peer, 1, Status.INVALID_ARGUMENT)).toBe("could not decode test.v1.Text: field text: invalid UTF-8 in a string of 2 bytes");
        // An OrderRequest whose unknown field 9 holds the reserved byte 0xc1.
        const order = packr.pack([2, 2, "bench.v1.Bench/order", null, null, 1, 0]);
        await peer.send(rawFrame([...order.subarray(0, order.length - 1), 0x81, 0x09, 0xc1]));
        const reserved = await statusMessage(peer, 2, Status.INVALID_ARGUMENT);
        expect(reserved).toBe("could not decode bench.v1.OrderRequest: reserved msgpack byte 0xc1");
        // A REQUEST whose path declares 200 bytes and carries 2: a malformed frame.
        await peer.send(rawFrame([0x97, 0x02, 0x03, 0xd9, 200, 0x61, 0x62, 0xc0, 0xc0]));
        const [reason, message] = await goAway(peer);
        expect(reason).toBe(GoAwayReason.MALFORMED_FRAME);
        expect(message).toBe("malformed frame: truncated input: needed 200 more bytes, 4 remain");
        await peer.close();
      },
      [bindBench(new BenchService())],
    );
  });

  test("a server's GOAWAY message with terminal escapes and 10 KB reaches the client's error cut and escaped", async () => {
    const rt = await d.make();
    const listener = await rt.listen({ host: "127.0.0.1", port: 0, reusePort: false });
    const ch = createChannel(rt, { endpoints: [{ host: "127.0.0.1", port: listener.port }] });
    try {
      const accepted = RawPeer.accept(rt, listener);
      const call = ch.unary(M.echo, { text: "a" }).then(
        () => null,
        (e: unknown) => e as { code: string; message: string },
      );
      const server = await accepted;
      await server.send(frameBytes(HELLO));
      expect(await until(() => server.frames.some((f) => f[0] === FrameType.REQUEST))).toBe(true);
      // lastId 1 covers the call, so it may have run: it fails with the GOAWAY's message (a call above lastId would be sent again).
      await server.send(frameBytes([FrameType.GOAWAY, 0, 1, GoAwayReason.PROTOCOL_ERROR, `\x1b]0;pwned\x07${"z".repeat(10000)}`]));
      const err = await call;
      expect(err).not.toBeNull();
      expect(err!.code).toBe("UNAVAILABLE");
      expect(err!.message).toBe(
        `connection lost: server sent GOAWAY PROTOCOL_ERROR: \\x1b]0;pwned\\x07${"z".repeat(118)}…(10010 bytes) (127.0.0.1:${listener.port}; a call in flight may have run)`,
      );
      expect(hasRawControl(err!.message)).toBe(false);
      await server.close();
    } finally {
      await ch.close();
      await listener.close();
      await rt.close();
    }
  });
});
