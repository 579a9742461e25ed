/**
 * Per-message compression (docs/PROTOCOL.md "HELLO extensions" and
 * "Compressed messages"; docs/RPC.md "Compression"), on both drivers: round
 * trips above and below the threshold with fewer bytes on the wire; a peer
 * that does not advertise never receives a compressed frame (a raw peer with
 * version 1's HELLO, and a server without compression); a raw peer that
 * advertises gzip gets MESSAGE(compressed) + STATUS for a large response; a
 * decompression bomb fails only its call with RESOURCE_EXHAUSTED and the
 * process does not grow by anything like its size; a corrupt payload or an
 * algorithm the server did not advertise fails only its call; and the other
 * calls on the connection keep working.
 */
import { expect, test } from "bun:test";
import { gunzipSync } from "node:zlib";
import { createChannel } from "../../src/rpc/client.ts";
import { MsgWriter } from "../../src/codec/writer.ts";
import { resolveCompression, zstdAvailable } from "../../src/rpc/compression.ts";
import { writeHello } from "../../src/rpc/frames.ts";
import { DEFAULT_LIMITS } from "../../src/rpc/protocol.ts";
import { Status } from "../../src/rpc/status.ts";
import { caught } from "./helpers/caught.ts";
import { type Blob, blobBinding, Blobs, compressible, random } from "../../bench/compression/blob-service.ts";
import { skipTitle } from "../helpers/skip.ts";
import { describeDrivers } from "./helpers/drivers.ts";
import { withServer } from "./helpers/harness.ts";
import { frameBytes, HELLO, RawPeer } from "./helpers/raw-peer.ts";
import { makeImpl, newProbe } from "./service-impl.ts";

const GZIP = { algorithms: ["gzip" as const], minBytes: 1024 };
const ECHO = Blobs.echo.path;
/** REQUEST flags of a unary call: END_STREAM | kind unary; 0x10 = gzip, 0x20 = zstd (bits 4-5). */
const UNARY = 3;

function bytesMoved(h: { server: { metricsReport(): { connections: { bytesIn: number; bytesOut: number } } } }) {
  const c = h.server.metricsReport().connections;
  return c.bytesIn + c.bytesOut;
}

async function pipeAll(ch: { bidi(m: typeof Blobs.pipe, reqs: Iterable<Blob>): AsyncIterable<Blob> }, msgs: Blob[]): Promise<Blob[]> {
  const out: Blob[] = [];
  for await (const m of ch.bidi(Blobs.pipe, msgs)) out.push(m);
  return out;
}

/** A raw client that has said HELLO (with `extensions` as its 8th element when given) and read the server's. */
async function rawClient(rt: Parameters<typeof RawPeer.connect>[0], port: number, extensions?: unknown): Promise<{ peer: RawPeer; hello: unknown[] }> {
  const peer = await RawPeer.connect(rt, port);
  await peer.send(frameBytes(extensions === undefined ? HELLO : [...HELLO, extensions]));
  const hello = (await peer.waitFrame(1))!;
  return { peer, hello };
}

async function waitCall(peer: RawPeer, id: number): Promise<unknown[][]> {
  const done = (f: unknown[]) => f[1] === id && (f[0] === 5 || f[0] === 7);
  for (let i = 0; i < 200 && !peer.frames.some(done); i++) await Bun.sleep(10);
  return peer.frames.filter((f) => f[1] === id);
}

test("the HELLO of a side with compression is docs/PROTOCOL.md's example; without, version 1's 7 elements", () => {
  const w = new MsgWriter();
  writeHello(w, DEFAULT_LIMITS, resolveCompression({ algorithms: ["gzip", "zstd"] }, "test"));
  expect(Buffer.from(w.bytes()).toString("hex")).toBe("00000028" + "98010001ce00400000cd03e840cd2000" + "81ab636f6d7072657373696f6e92a4677a6970a47a737464");
  const plain = new MsgWriter();
  writeHello(plain, DEFAULT_LIMITS, resolveCompression(undefined, "test"));
  expect(Buffer.from(plain.bytes()).toString("hex")).toBe("00000010" + "97010001ce00400000cd03e840cd2000");
});

describeDrivers("compression", (d) => {
  test("compressed round trips above and below the threshold, unary and bidi, with fewer bytes on the wire", async () => {
    await withServer(d, makeImpl(newProbe()), { compression: GZIP }, async (h) => {
      const ch = h.channel({ compression: GZIP });
      const big = compressible(256 * 1024);
      const before = bytesMoved(h);
      expect((await ch.unary(Blobs.echo, { data: big })).data).toEqual(big);
      // 512 KiB of payload crossed (both ways); compressed it is a few KiB.
      const moved = bytesMoved(h) - before;
      expect(moved).toBeLessThan(32 * 1024);
      const small = compressible(100);
      expect((await ch.unary(Blobs.echo, { data: small })).data).toEqual(small);
      const msgs = [compressible(64 * 1024), compressible(10), random(4096), compressible(2048)].map((data) => ({ data }));
      expect((await pipeAll(ch, msgs)).map((m) => m.data)).toEqual(msgs.map((m) => m.data));
    }, [blobBinding]);
  });

  test.skipIf(!zstdAvailable())(skipTitle("zstd round trip when both sides prefer it", !zstdAvailable() && "this Bun has no built-in zstd (Bun.zstdCompressSync)"), async () => {
    const opts = { algorithms: ["zstd" as const, "gzip" as const] };
    await withServer(d, makeImpl(newProbe()), { compression: opts }, async (h) => {
      const ch = h.channel({ compression: opts });
      const big = compressible(1024 * 1024);
      const before = bytesMoved(h);
      expect((await ch.unary(Blobs.echo, { data: big })).data).toEqual(big);
      expect(bytesMoved(h) - before).toBeLessThan(32 * 1024);
    }, [blobBinding]);
  });

  test("a peer that does not advertise never receives a compressed frame", async () => {
    await withServer(d, makeImpl(newProbe()), { compression: GZIP }, async (h) => {
      // A version-1 client (7-element HELLO): the server advertises gzip, but answers it uncompressed.
      const { peer, hello } = await rawClient(h.rt, h.port);
      expect(hello).toEqual([...HELLO, { compression: ["gzip"], metadata: "multi" }]);
      const big = compressible(64 * 1024);
      await peer.send(frameBytes([2, 1, ECHO, null, null, UNARY, [big]]));
      const frames = await waitCall(peer, 1);
      expect(frames.map((f) => f[0])).toEqual([5]);
      expect(Uint8Array.from((frames[0]![2] as [Uint8Array])[0])).toEqual(big);
      await peer.close();
    }, [blobBinding]);
    // A server without compression: a compressing channel sends it nothing compressed (it would refuse it with UNIMPLEMENTED).
    await withServer(d, makeImpl(newProbe()), {}, async (h) => {
      const ch = h.channel({ compression: GZIP });
      const big = compressible(64 * 1024);
      const before = bytesMoved(h);
      expect((await ch.unary(Blobs.echo, { data: big })).data).toEqual(big);
      expect(bytesMoved(h) - before).toBeGreaterThan(2 * big.length);
      const { hello } = await rawClient(h.rt, h.port, { compression: ["gzip"] });
      // No `compression` key: the server accepts no algorithm (it announces only that it reads several metadata values).
      expect(hello).toEqual([...HELLO, { metadata: "multi" }]);
    }, [blobBinding]);
  });

  test("a raw peer that advertises gzip gets a large response as compressed MESSAGE + STATUS, a small one as RESPONSE", async () => {
    await withServer(d, makeImpl(newProbe()), { compression: GZIP }, async (h) => {
      const { peer } = await rawClient(h.rt, h.port, { compression: ["gzip", "br-from-the-future"] });
      const big = compressible(64 * 1024);
      await peer.send(frameBytes([2, 1, ECHO, null, null, UNARY | 0x10, Bun.gzipSync(frameBytes([big]).slice(4) as Uint8Array<ArrayBuffer>)]));
      const frames = await waitCall(peer, 1);
      expect(frames.map((f) => [f[0], f[2]]).map(([t, flags]) => (t === 3 ? [t, flags] : [t]))).toEqual([[3, 0x10], [7]]);
      const inner = gunzipSync(frames[0]![3] as Uint8Array);
      expect(Uint8Array.from(inner)).toEqual(Uint8Array.from(frameBytes([big]).subarray(4)));
      expect(frames[1]!.slice(2, 4)).toEqual([0, ""]);
      await peer.send(frameBytes([2, 3, ECHO, null, null, UNARY, [compressible(100)]]));
      expect((await waitCall(peer, 3)).map((f) => f[0])).toEqual([5]);
      await peer.close();
    }, [blobBinding]);
  });

  test("a decompression bomb fails its call with RESOURCE_EXHAUSTED, allocating no more than the limit; the connection goes on", async () => {
    await withServer(d, makeImpl(newProbe()), { compression: GZIP }, async (h) => {
      // 512 MiB of zeros in about 500 KiB, against the server's 4 MiB maxFrameBytes.
      const bomb = Bun.gzipSync(new Uint8Array(512 * 1024 * 1024), { level: 9 });
      expect(bomb.length).toBeLessThan(1024 * 1024);
      const { peer } = await rawClient(h.rt, h.port, { compression: ["gzip"] });
      Bun.gc(true);
      const rssBefore = process.memoryUsage().rss;
      await peer.send(frameBytes([2, 1, ECHO, null, null, UNARY | 0x10, bomb]));
      const frames = await waitCall(peer, 1);
      const grew = process.memoryUsage().rss - rssBefore;
      expect(frames.map((f) => f.slice(0, 3))).toEqual([[7, 1, Status.RESOURCE_EXHAUSTED]]);
      expect(frames[0]![3]).toBe(`gzip-compressed message of ${bomb.length} bytes decompresses to more than the limit of 4194304 bytes`);
      // Measured: about 8 MiB (the capped output and zlib's buffers); the whole would be 512 MiB.
      expect(grew).toBeLessThan(96 * 1024 * 1024);
      // The same bomb as a bidi MESSAGE ends that call only; a unary call after it works.
      await peer.send(frameBytes([2, 3, Blobs.pipe.path, null, null, 8]));
      await peer.send(frameBytes([3, 3, 0x10, bomb]));
      const pipe = await waitCall(peer, 3);
      expect(pipe.map((f) => f.slice(0, 3))).toEqual([[7, 3, Status.RESOURCE_EXHAUSTED]]);
      await peer.send(frameBytes([2, 5, ECHO, null, null, UNARY, [compressible(10)]]));
      expect((await waitCall(peer, 5)).map((f) => f[0])).toEqual([5]);
      expect(peer.ended).toBe(false);
      await peer.close();
    }, [blobBinding]);
  });

  test("a corrupt payload or an algorithm the server did not advertise fails only that call", async () => {
    await withServer(d, makeImpl(newProbe()), { compression: GZIP }, async (h) => {
      const { peer } = await rawClient(h.rt, h.port, { compression: ["gzip"] });
      const garbage = new Uint8Array([0x1f, 0x8b, 8, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
      await peer.send(frameBytes([2, 1, ECHO, null, null, UNARY | 0x10, garbage]));
      const bad = await waitCall(peer, 1);
      expect(bad.map((f) => f.slice(0, 3))).toEqual([[7, 1, Status.INTERNAL]]);
      expect(String(bad[0]![3])).toStartWith("gzip-compressed message of 13 bytes is corrupt: ");
      await peer.send(frameBytes([2, 3, ECHO, null, null, UNARY | 0x20, garbage]));
      const zstd = await waitCall(peer, 3);
      expect(zstd.map((f) => f.slice(0, 4))).toEqual([[7, 3, Status.UNIMPLEMENTED, "message compressed with zstd, which this side did not advertise in its HELLO"]]);
      await peer.send(frameBytes([2, 5, ECHO, null, null, UNARY | 0x10, "not a bin"]));
      expect((await waitCall(peer, 5)).map((f) => f.slice(0, 4))).toEqual([[7, 5, Status.INTERNAL, "a compressed message must be a bin of the compressed bytes"]]);
      await peer.send(frameBytes([2, 7, ECHO, null, null, UNARY, [compressible(10)]]));
      expect((await waitCall(peer, 7)).map((f) => f[0])).toEqual([5]);
      await peer.close();
      // A real client on the same server is unaffected.
      const ch = h.channel({ compression: GZIP });
      const big = compressible(8192);
      expect((await ch.unary(Blobs.echo, { data: big })).data).toEqual(big);
    }, [blobBinding]);
  });

  test("a channel fails the call whose response is a bomb or corrupt, and its other calls on the connection go on", async () => {
    const rt = await d.make();
    const listener = await rt.listen({ host: "127.0.0.1", port: 0, reusePort: false });
    const ch = createChannel(rt, { endpoints: [{ host: "127.0.0.1", port: listener.port }], compression: GZIP, maxFrameBytes: 1024 * 1024 });
    try {
      const bomb = Bun.gzipSync(new Uint8Array(64 * 1024 * 1024), { level: 9 });
      const accepted = RawPeer.accept(rt, listener);
      const first = caught(ch.unary(Blobs.echo, { data: compressible(10) }));
      const peer = await accepted;
      await peer.send(frameBytes([...HELLO, { compression: ["gzip"] }]));
      // One connection, three calls: a bomb, a corrupt payload, then a plain answer.
      const answers = [(id: number) => [3, id, 0x10, bomb], (id: number) => [3, id, 0x10, new Uint8Array([1, 2, 3])], (id: number) => [5, id, [new Uint8Array([7])]]];
      const ids: number[] = [];
      const serving = (async () => {
        while (ids.length < answers.length) {
          const requests = peer.frames.filter((f) => f[0] === 2);
          if (requests.length > ids.length) {
            const id = requests[ids.length]![1] as number;
            await peer.send(frameBytes(answers[ids.length]!(id)));
            ids.push(id);
          } else await Bun.sleep(5);
        }
      })();
      const e1 = await first;
      expect([e1.status, e1.message]).toEqual([Status.RESOURCE_EXHAUSTED, `gzip-compressed message of ${bomb.length} bytes decompresses to more than the limit of 1048576 bytes`]);
      const e2 = await caught(ch.unary(Blobs.echo, { data: compressible(10) }));
      expect(e2.status).toBe(Status.INTERNAL);
      expect(e2.message).toStartWith("gzip-compressed message of 3 bytes is corrupt: ");
      expect((await ch.unary(Blobs.echo, { data: compressible(10) })).data).toEqual(new Uint8Array([7]));
      await serving;
      // Both failed calls were cancelled towards the server, on the one connection.
      expect(peer.frames.filter((f) => f[0] === 8).map((f) => f[1])).toEqual(ids.slice(0, 2));
      await peer.close();
    } finally {
      await ch.close();
      await listener.close();
      await rt.close();
    }
  });
});
