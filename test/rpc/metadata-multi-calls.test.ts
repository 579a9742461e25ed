/**
 * Multi-valued metadata end to end, on both drivers: several values per key
 * (str and bin) reach the handler (ctx.metadataMap.getAll; ctx.metadata shows
 * the first), headers and trailers with several values reach the client's
 * onHeaders/onTrailers and an error's metadata, a handler forwarding a
 * received record keeps every value, and a single value per key goes on the
 * wire byte for byte as before (the REQUEST and HELLO examples of
 * docs/PROTOCOL.md, written by the frame writers).
 */
import { expect, test } from "bun:test";
import { MsgWriter } from "../../src/codec/writer.ts";
import type { CallContext, Metadata } from "../../src/rpc/descriptor.ts";
import { writeHello, writeRequest } from "../../src/rpc/frames.ts";
import { MetadataMap } from "../../src/rpc/metadata-map.ts";
import { DEFAULT_LIMITS } from "../../src/rpc/protocol.ts";
import { RpcError, Status } from "../../src/rpc/status.ts";
import { caught } from "./helpers/caught.ts";
import { describeDrivers } from "./helpers/drivers.ts";
import { M, type Text } from "./helpers/fixtures.ts";
import { withServer } from "./helpers/harness.ts";
import { makeImpl, newProbe } from "./service-impl.ts";

function hex(bytes: Uint8Array): string {
  return Buffer.from(bytes).toString("hex");
}

test("one value per key: the frame writers produce docs/PROTOCOL.md's bytes", () => {
  const w = new MsgWriter();
  writeRequest(w, 3, "kv.v1.KeyValue/watch", undefined, { "x-user": "ann", "trace-bin": new Uint8Array([1, 2]) }, 8, null, undefined, 1 << 22);
  expect(hex(w.bytes())).toBe(
    "00000034" + "960203b46b762e76312e4b657956616c75652f7761746368c082a6782d75736572a3616e6ea974726163652d62696ec402010208",
  );
  const h = new MsgWriter();
  writeHello(h, DEFAULT_LIMITS);
  expect(hex(h.bytes())).toBe("00000010" + "97010001ce00400000cd03e840cd2000");
});

describeDrivers("multi-valued metadata", (d) => {
  test("request metadata, headers and trailers with several values, both directions", async () => {
    const seen: { first: unknown; all: unknown[]; bin: unknown[]; keys: string[] }[] = [];
    const records: Metadata[] = [];
    const impl = {
      ...makeImpl(newProbe()),
      echo(req: Text, ctx: CallContext): Text {
        records.push(ctx.metadata);
        seen.push({ first: ctx.metadata["x-a"], all: ctx.metadataMap.getAll("x-a"), bin: ctx.metadataMap.getAll("x-bin"), keys: Object.keys(ctx.metadata) });
        ctx.setHeader("x-h", "1");
        ctx.addHeader("x-h", "2");
        ctx.addHeader("x-one", "solo");
        ctx.addTrailer("x-t", new Uint8Array([1]));
        ctx.addTrailer("x-t", "two");
        ctx.setTrailer("x-replaced", "old");
        ctx.setTrailer("x-replaced", ["a", "b"]);
        if (req.text === "fail") {
          const e = new RpcError(Status.NOT_FOUND, "gone");
          e.metadata = new MetadataMap().add("x-e", "1").add("x-e", "2").toRecord();
          throw e;
        }
        return req;
      },
    };
    await withServer(d, impl, {}, async (h) => {
      const ch = h.channel();
      const md = new MetadataMap().add("x-a", "1").add("x-a", "2").add("x-a", "3").add("x-bin", new Uint8Array([0, 255])).add("x-bin", new Uint8Array([7])).toRecord();
      let headers: Metadata = {};
      let trailers: Metadata = {};
      const opts = { metadata: md, onHeaders: (m: Metadata) => (headers = m), onTrailers: (m: Metadata) => (trailers = m) };
      expect(await ch.unary(M.echo, { text: "ok" }, opts)).toEqual({ text: "ok" });
      expect(seen[0]).toEqual({ first: "1", all: ["1", "2", "3"], bin: [new Uint8Array([0, 255]), new Uint8Array([7])], keys: ["x-a", "x-bin"] });
      expect(headers["x-h"]).toBe("1");
      expect(MetadataMap.from(headers).getAll("x-h")).toEqual(["1", "2"]);
      expect(MetadataMap.from(headers).getAll("x-one")).toEqual(["solo"]);
      const t = MetadataMap.from(trailers);
      expect([t.getAll("x-t"), t.getAll("x-replaced")]).toEqual([[new Uint8Array([1]), "two"], ["a", "b"]]);
      // On an error: the error's values, then the handler's trailers.
      const e = await caught(ch.unary(M.echo, { text: "fail" }));
      expect(e.status).toBe(Status.NOT_FOUND);
      const em = MetadataMap.from(e.metadata);
      expect([em.getAll("x-e"), em.getAll("x-t"), em.getAll("x-replaced")]).toEqual([["1", "2"], [new Uint8Array([1]), "two"], ["a", "b"]]);
      // A record received and sent on keeps every value (a proxy forwarding ctx.metadata).
      await ch.unary(M.echo, { text: "ok" }, { metadata: { ...records[0]!, "x-extra": "e" } });
      expect(seen[2]).toEqual({ first: "1", all: ["1", "2", "3"], bin: [new Uint8Array([0, 255]), new Uint8Array([7])], keys: ["x-a", "x-bin", "x-extra"] });
    });
  });

  test("the server's metadata limit counts every value", async () => {
    await withServer(d, makeImpl(newProbe()), { maxMetadataBytes: 100 }, async (h) => {
      const ch = h.channel();
      // One value of 60 bytes fits; two of them (2 x (3 + 60)) do not.
      const one = new MetadataMap().add("x-a", "v".repeat(60)).toRecord();
      expect(await ch.unary(M.echo, { text: "ok" }, { metadata: one })).toEqual({ text: "ok" });
      const two = new MetadataMap().add("x-a", "v".repeat(60)).add("x-a", "w".repeat(60)).toRecord();
      const e = await caught(ch.unary(M.echo, { text: "ok" }, { metadata: two }));
      expect([e.status, e.message]).toEqual([Status.RESOURCE_EXHAUSTED, "metadata is over the limit of 100 bytes"]);
      expect(await ch.unary(M.echo, { text: "ok" }, { metadata: one })).toEqual({ text: "ok" });
    });
  });
});
