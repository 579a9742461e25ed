/**
 * Multi-valued metadata, negotiated (docs/PROTOCOL.md section 2 "HELLO
 * extensions" and section 5; docs/RPC.md "Metadata"), on both drivers: a
 * side announces `"metadata": "multi"` in its HELLO (beside `compression`),
 * and a side with nothing to announce sends version 1's 7-element HELLO byte
 * for byte; a peer that did not announce it (a raw version-1 peer, or a
 * ringrpc side with multiValuedMetadata: false) never receives an array
 * value: a client's call fails with FAILED_PRECONDITION before it is sent
 * (also when it was queued before the server's HELLO), a handler's header,
 * trailer or error metadata ends its call with INTERNAL; the connection
 * keeps serving, and single values go through as before.
 */
import { expect, test } from "bun:test";
import { MsgReader } from "../../src/codec/reader.ts";
import { MsgWriter } from "../../src/codec/writer.ts";
import { createChannel } from "../../src/rpc/client.ts";
import { resolveCompression } from "../../src/rpc/compression.ts";
import type { CallContext, Metadata } from "../../src/rpc/descriptor.ts";
import { writeHello } from "../../src/rpc/frames.ts";
import { readHelloExtensions } from "../../src/rpc/hello-extensions.ts";
import { MetadataMap } from "../../src/rpc/metadata-map.ts";
import { multiValuedKey } from "../../src/rpc/metadata-negotiation.ts";
import { DEFAULT_LIMITS, FrameType } from "../../src/rpc/protocol.ts";
import { Status } from "../../src/rpc/status.ts";
import { recordingLogger } from "../helpers/recording-logger.ts";
import { caught } from "./helpers/caught.ts";
import { describeDrivers } from "./helpers/drivers.ts";
import { KeyNotFound, M, type Text } from "./helpers/fixtures.ts";
import { withServer } from "./helpers/harness.ts";
import { frameBytes, HELLO, RawPeer } from "./helpers/raw-peer.ts";
import { makeImpl, newProbe } from "./service-impl.ts";

/** Version 1's HELLO body with the default limits (docs/PROTOCOL.md section 2). */
const V1_HELLO = "97010001ce00400000cd03e840cd2000";
/** REQUEST flags of a unary call: END_STREAM | kind unary. */
const UNARY = 3;
const PREDATES = "(it predates multi-valued metadata)";

function hex(bytes: Uint8Array): string {
  return Buffer.from(bytes).toString("hex");
}

function helloHex(compression: Parameters<typeof resolveCompression>[0], multi: boolean): string {
  const w = new MsgWriter();
  writeHello(w, DEFAULT_LIMITS, resolveCompression(compression, "test"), multi);
  return hex(w.bytes());
}

const twoValues = (k: string) => new MetadataMap().add(k, "1").add(k, "2").toRecord();

/** Every metadata map in frames a peer received (REQUEST, HEADERS, STATUS), for "no array ever" checks. */
function metadataMaps(frames: unknown[][]): Record<string, unknown>[] {
  const at = (f: unknown[]) => (f[0] === FrameType.REQUEST ? f[4] : f[0] === FrameType.HEADERS ? f[2] : f[0] === FrameType.STATUS ? f[4] : null);
  return frames.map(at).filter((m): m is Record<string, unknown> => m !== null && m !== undefined);
}

function hasArrayValue(frames: unknown[][]): boolean {
  return metadataMaps(frames).some((m) => Object.values(m).some(Array.isArray));
}

/** The frames of call `id` once it ended (RESPONSE or STATUS). */
async function callFrames(peer: RawPeer, id: number): Promise<unknown[][]> {
  const done = (f: unknown[]) => f[1] === id && (f[0] === FrameType.RESPONSE || f[0] === FrameType.STATUS);
  for (let i = 0; i < 200 && !peer.frames.some(done); i++) await Bun.sleep(10);
  return peer.frames.filter((f) => f[1] === id);
}

test("HELLO: nothing to announce is version 1's 7 elements byte for byte; metadata and compression share the 8th", () => {
  expect(helloHex(undefined, false)).toBe("00000010" + V1_HELLO);
  // 98 ... 81 | a8 "metadata" a5 "multi"
  expect(helloHex(undefined, true)).toBe("00000020" + "98010001ce00400000cd03e840cd2000" + "81a86d65746164617461a56d756c7469");
  // 98 ... 82 | ab "compression" 91 a4 "gzip" | a8 "metadata" a5 "multi"
  expect(helloHex({ algorithms: ["gzip"] }, true)).toBe(
    "00000032" + "98010001ce00400000cd03e840cd2000" + "82ab636f6d7072657373696f6e91a4677a6970" + "a86d65746164617461a56d756c7469",
  );
  const ext = (h: string) => readHelloExtensions(new MsgReader(Buffer.from(h, "hex")));
  expect(ext("81a86d65746164617461a56d756c7469")).toEqual({ compression: 0, multiValuedMetadata: true });
  // A `metadata` value this side does not know is not "multi"; a key it does not know is skipped; a non-str value is malformed.
  // 82 | a8 "metadata" a3 "all" | a6 "future" c0
  expect(ext("82a86d65746164617461a3616c6ca6667574757265c0")).toEqual({ compression: 0, multiValuedMetadata: false });
  expect(() => ext("81a86d6574616461746101")).toThrow();
});

test("multiValuedKey: the first key with several values, in a record (copies included) or a MetadataMap", () => {
  const md = new MetadataMap().add("a", "1").add("b", "1").add("b", "2").toRecord();
  expect(multiValuedKey(md)).toBe("b");
  expect(multiValuedKey({ ...md })).toBe("b");
  expect(multiValuedKey({ ...md, b: "9" })).toBe(null);
  expect(multiValuedKey({ a: "1" })).toBe(null);
  expect(multiValuedKey(new MetadataMap().add("x", "1").add("y", "1").add("y", new Uint8Array([2])))).toBe("y");
  expect(multiValuedKey(new MetadataMap().add("x", "1"))).toBe(null);
});

describeDrivers("multi-valued metadata negotiation", (d) => {
  test("a new client and server announce it and exchange several values both ways, compression on beside it", async () => {
    const gzip = { algorithms: ["gzip" as const], minBytes: 64 };
    const impl = {
      ...makeImpl(newProbe()),
      echo(req: Text, ctx: CallContext): Text {
        ctx.addHeader("x-h", "1");
        ctx.addHeader("x-h", "2");
        ctx.setTrailer("x-t", ["a", "b"]);
        return { text: `${ctx.metadataMap.getAll("x-a").join(",")} ${req.text}` };
      },
    };
    await withServer(d, impl, { compression: gzip }, async (h) => {
      const raw = await RawPeer.connect(h.rt, h.port);
      expect(await raw.waitFrame(FrameType.HELLO)).toEqual([...HELLO, { compression: ["gzip"], metadata: "multi" }]);
      await raw.close();
      const ch = h.channel({ compression: gzip });
      let headers: Metadata = {};
      let trailers: Metadata = {};
      const big = "z".repeat(900); // compressed (minBytes 64); under the Text validation limit of 1000
      const res = await ch.unary(M.echo, { text: big }, { metadata: twoValues("x-a"), onHeaders: (m) => (headers = m), onTrailers: (m) => (trailers = m) });
      expect(res.text).toBe(`1,2 ${big}`);
      expect([MetadataMap.from(headers).getAll("x-h"), MetadataMap.from(trailers).getAll("x-t")]).toEqual([["1", "2"], ["a", "b"]]);
    });
  });

  test("a raw version-1 client: a handler's several values end its call with INTERNAL, never an array; single values work as before", async () => {
    const seen: Metadata[] = [];
    const impl = {
      ...makeImpl(newProbe()),
      echo(req: Text, ctx: CallContext): Text {
        seen.push(ctx.metadata);
        if (req.text === "headers") {
          ctx.addHeader("x-h", "1");
          ctx.addHeader("x-h", "2");
        } else if (req.text === "set-headers") ctx.setHeader("x-h", ["1", "2"]);
        else if (req.text === "trailers") {
          ctx.setTrailer("x-t", "1");
          ctx.addTrailer("x-t", "2");
        } else if (req.text === "error") {
          const e = new KeyNotFound("k");
          e.metadata = twoValues("x-e");
          throw e;
        } else if (req.text === "one-each") {
          ctx.addHeader("x-h", "1");
          ctx.addTrailer("x-t", "1");
        }
        return req;
      },
    };
    const logger = recordingLogger();
    await withServer(d, impl, { logger }, async (h) => {
      const peer = await RawPeer.connect(h.rt, h.port);
      await peer.send(frameBytes(HELLO));
      await peer.waitFrame(FrameType.HELLO);
      const client = `client at 127.0.0.1:`;
      // Each case: its request metadata, the frames before STATUS (the value set before the refused one stays), the STATUS's trailers, the message's end.
      const cases: [string, Record<string, unknown> | null, unknown[][], unknown, RegExp | null][] = [
        ["headers", null, [[FrameType.HEADERS, 1, { "x-h": "1" }]], null, /header "x-h" \(it predates multi-valued metadata\): set one value$/],
        ["set-headers", null, [], null, /header "x-h" \(it predates multi-valued metadata\): set one value$/],
        ["trailers", null, [], { "x-t": "1" }, /trailer "x-t" \(it predates multi-valued metadata\): set one value$/],
        ["error", null, [], null, /metadata key "x-e" of the error \(it predates multi-valued metadata\): the handler's NOT_FOUND was not sent; give one value per key$/],
        ["plain", { "x-a": "1", "x-bin": new Uint8Array([7]) }, [], null, null],
      ];
      let id = 1;
      for (const [text, md, before, trailers, refused] of cases) {
        await peer.send(frameBytes([FrameType.REQUEST, id, M.echo.path, null, md, UNARY, [text]]));
        const frames = await callFrames(peer, id);
        if (refused === null) expect(frames).toEqual([[FrameType.RESPONSE, id, [text]]]);
        else {
          expect(frames.slice(0, -1)).toEqual(before);
          const status = frames.at(-1)!;
          expect([status.slice(0, 3), status[4], status[5], status[6]]).toEqual([[FrameType.STATUS, id, Status.INTERNAL], trailers, null, null]);
          const message = String(status[3]);
          expect(message.startsWith(client) && message.includes(" does not accept several values for ")).toBe(true);
          expect(message).toMatch(refused);
        }
        id++;
      }
      // Single values of both kinds reached the handler as they always did.
      expect(MetadataMap.from(seen[4]).getAll("x-bin")).toEqual([new Uint8Array([7])]);
      expect(seen[4]!["x-a"]).toBe("1");
      // One value each for a header and a trailer: sent as before.
      await peer.send(frameBytes([FrameType.REQUEST, id, M.echo.path, null, null, UNARY, ["one-each"]]));
      expect(await callFrames(peer, id)).toEqual([
        [FrameType.HEADERS, id, { "x-h": "1" }],
        [FrameType.MESSAGE, id, 0, ["one-each"]],
        [FrameType.STATUS, id, Status.OK, "", { "x-t": "1" }, null, null],
      ]);
      expect(hasArrayValue(peer.frames)).toBe(false);
      expect(peer.frames.some((f) => f[0] === FrameType.GOAWAY)).toBe(false);
      expect(peer.ended).toBe(false);
      // The server's log says why each refused call failed.
      expect(logger.named("handler_failed").filter((e) => String(e.msg).includes(PREDATES)).length).toBe(4);
      await peer.close();
    });
  });

  test("a raw version-1 server: a call with several values fails before it is sent, also when queued before the HELLO; the connection serves on", async () => {
    const rt = await d.make();
    const listener = await rt.listen({ host: "127.0.0.1", port: 0, reusePort: false });
    const ch = createChannel(rt, { endpoints: [{ host: "127.0.0.1", port: listener.port }] });
    try {
      // Both calls are made before the connection exists: they wait for the server's HELLO.
      const multi = ch.unary(M.echo, { text: "multi" }, { metadata: twoValues("x-a") });
      const single = ch.unary(M.echo, { text: "single" }, { metadata: { ...twoValues("x-a"), "x-a": "only" } });
      const peer = await RawPeer.accept(rt, listener);
      expect(await peer.waitFrame(FrameType.HELLO)).toEqual([...HELLO, { metadata: "multi" }]);
      await Bun.sleep(20);
      expect(peer.frames.length).toBe(1);
      await peer.send(frameBytes(HELLO));
      const e = await caught(multi);
      const refused = `server at 127.0.0.1:${listener.port} does not accept several values for metadata key "x-a" ${PREDATES}: call not sent; send one value per key`;
      expect([e.status, e.message]).toEqual([Status.FAILED_PRECONDITION, refused]);
      const req = (await peer.waitFrame(FrameType.REQUEST))!;
      expect([req[1], req[2], req[4], req[6]]).toEqual([1, M.echo.path, { "x-a": "only" }, ["single"]]);
      await peer.send(frameBytes([FrameType.RESPONSE, 1, ["single"]]));
      expect(await single).toEqual({ text: "single" });
      // Once the HELLO is known: refused again at once, and the next call still goes out on the same connection.
      const again = await caught(ch.unary(M.echo, { text: "multi" }, { metadata: twoValues("x-b") }));
      expect([again.status, again.message]).toEqual([Status.FAILED_PRECONDITION, refused.replace('"x-a"', '"x-b"')]);
      const next = ch.unary(M.echo, { text: "next" }, { metadata: { "x-b": "1" } });
      for (let i = 0; i < 200 && peer.frames.filter((f) => f[0] === FrameType.REQUEST).length < 2; i++) await Bun.sleep(10);
      await peer.send(frameBytes([FrameType.RESPONSE, 2, ["next"]]));
      expect(await next).toEqual({ text: "next" });
      expect(peer.frames.filter((f) => f[0] === FrameType.REQUEST).map((f) => f[1])).toEqual([1, 2]);
      expect(hasArrayValue(peer.frames)).toBe(false);
      expect(peer.ended).toBe(false);
      await peer.close();
    } finally {
      await ch.close();
      await listener.close();
      await rt.close();
    }
  });

  test("multiValuedMetadata: false sends version 1's HELLO byte for byte, and the peer then sends it one value per key", async () => {
    const impl = {
      ...makeImpl(newProbe()),
      echo(req: Text, ctx: CallContext): Text {
        if (req.text === "headers") ctx.setHeader("x-h", ["1", "2"]);
        return { text: ctx.metadataMap.getAll("x-a").join(",") };
      },
    };
    await withServer(d, impl, { multiValuedMetadata: false }, async (h) => {
      const raw = await RawPeer.connect(h.rt, h.port);
      await raw.waitFrame(FrameType.HELLO);
      expect(hex(raw.firstFrame!)).toBe(V1_HELLO);
      await raw.close();
      // A default channel to this server: several values refused before sending, one value fine.
      const ch = h.channel();
      const e = await caught(ch.unary(M.echo, { text: "x" }, { metadata: twoValues("x-a") }));
      expect([e.status, e.message]).toEqual([
        Status.FAILED_PRECONDITION,
        `server at 127.0.0.1:${h.port} does not accept several values for metadata key "x-a" ${PREDATES}: call not sent; send one value per key`,
      ]);
      expect(await ch.unary(M.echo, { text: "x" }, { metadata: { "x-a": "1" } })).toEqual({ text: "1" });
    });
    await withServer(d, impl, {}, async (h) => {
      // A channel that does not announce it: the server's handler may not give it two values.
      const ch = h.channel({ multiValuedMetadata: false });
      const e = await caught(ch.unary(M.echo, { text: "headers" }));
      expect([e.status, e.message.endsWith(`does not accept several values for header "x-h" ${PREDATES}: set one value`)]).toEqual([Status.INTERNAL, true]);
      // It still sends several values to a server that reads them.
      expect(await ch.unary(M.echo, { text: "x" }, { metadata: twoValues("x-a") })).toEqual({ text: "1,2" });
    });
    // The channel's own HELLO, seen by a raw server.
    const rt = await d.make();
    const listener = await rt.listen({ host: "127.0.0.1", port: 0, reusePort: false });
    const ch = createChannel(rt, { endpoints: [{ host: "127.0.0.1", port: listener.port }], multiValuedMetadata: false });
    try {
      // A call makes the channel connect; the raw server closes before its HELLO, so it fails with UNAVAILABLE.
      const call = caught(ch.unary(M.echo, { text: "x" }));
      const peer = await RawPeer.accept(rt, listener);
      await peer.waitFrame(FrameType.HELLO);
      expect(hex(peer.firstFrame!)).toBe(V1_HELLO);
      await peer.close();
      expect((await call).status).toBe(Status.UNAVAILABLE);
    } finally {
      await ch.close();
      await listener.close();
      await rt.close();
    }
  });
});
