/**
 * End-to-end calls over real 127.0.0.1 sockets on every available driver:
 * the four call kinds, out-of-order answers, many concurrent calls,
 * metadata, headers and trailers, every status and a typed error.
 */
import { describe, expect, test } from "bun:test";
import { RpcError, Status } from "../../src/rpc/status.ts";
import { drivers, uringSkipReason } from "./helpers/drivers.ts";
import { KeyNotFound, M, Missing } from "./helpers/fixtures.ts";
import { withServer } from "./helpers/harness.ts";
import { makeImpl, newProbe } from "./service-impl.ts";
import { caught } from "./helpers/caught.ts";


if (uringSkipReason !== null) test.skip(`rpc tests on the uring driver (${uringSkipReason})`, () => {});

for (const d of drivers) {
  describe(`rpc calls (${d.name})`, () => {
    test("unary round trip with metadata, headers and trailers", async () => {
      const probe = newProbe();
      await withServer(d, makeImpl(probe), {}, async (h) => {
        const ch = h.channel();
        expect(await ch.unary(M.echo, { text: "hi" }, { metadata: { "x-user": "ann", "trace-bin": new Uint8Array([9]) } })).toEqual({ text: "hi" });
        expect(probe.lastMetadata?.["x-user"]).toBe("ann");
        expect(probe.lastMetadata?.["trace-bin"]).toEqual(new Uint8Array([9]));
        let headers: Record<string, unknown> = {};
        let trailers: Record<string, unknown> = {};
        const r = await ch.unary(M.echo, { text: "headers" }, { onHeaders: (m) => (headers = m), onTrailers: (m) => (trailers = m) });
        expect(r).toEqual({ text: "headers" });
        expect(headers["x-h"]).toBe("hv");
        expect(trailers["x-t"]).toEqual(new Uint8Array([1, 2, 3]));
      });
    });

    test("server stream, client stream and bidi", async () => {
      const probe = newProbe();
      await withServer(d, makeImpl(probe), {}, async (h) => {
        const ch = h.channel();
        const got: number[] = [];
        for await (const m of ch.serverStream(M.count, { n: 200 })) got.push(m.n);
        expect(got).toEqual(Array.from({ length: 200 }, (_, i) => i));
        function* nums() {
          for (let i = 1; i <= 300; i++) yield { n: i };
        }
        expect(await ch.clientStream(M.sum, nums())).toEqual({ n: 45150 });
        expect(await ch.clientStream(M.sum, [])).toEqual({ n: 0 });
        async function* words() {
          for (const w of ["a", "bc", "def"]) yield { text: w };
        }
        const echoed: string[] = [];
        for await (const m of ch.bidi(M.chat, words())) echoed.push(m.text);
        expect(echoed).toEqual(["A", "BC", "DEF"]);
      });
    });

    test("answers arrive out of order and each reaches its caller", async () => {
      await withServer(d, makeImpl(newProbe()), {}, async (h) => {
        const ch = h.channel();
        const order: number[] = [];
        const delays = [60, 5, 30, 1, 45];
        const results = await Promise.all(delays.map((n) => ch.unary(M.delay, { n }).then((r) => (order.push(r.n), r.n))));
        expect(results).toEqual(delays);
        expect(order).toEqual([...delays].sort((a, b) => a - b));
      });
    });

    test("10,000 concurrent calls on one connection", async () => {
      await withServer(d, makeImpl(newProbe()), { maxConcurrentCalls: 10000 }, async (h) => {
        const ch = h.channel();
        const n = 10000;
        const calls = Array.from({ length: n }, (_, i) => ch.unary(M.echo, { text: `m${i}` }));
        const res = await Promise.all(calls);
        for (let i = 0; i < n; i++) expect(res[i]!.text).toBe(`m${i}`);
        expect(h.server.stats().totalConnections).toBe(1);
      });
    }, 20000);

    test("every status code and a typed error cross the wire intact", async () => {
      await withServer(d, makeImpl(newProbe()), {}, async (h) => {
        const ch = h.channel();
        for (let code = 1; code <= 16; code++) {
          const e = await caught(ch.unary(M.fail, { text: `status:${code}` }));
          expect(e.status as number).toBe(code);
          expect(e.message).toBe(`status ${code} on purpose`);
        }
        const typed = await caught(ch.unary(M.fail, { text: "typed" }));
        expect(typed).toBeInstanceOf(KeyNotFound);
        expect(typed.code).toBe("test.v1.KeyNotFound");
        expect(typed.status).toBe(Status.NOT_FOUND);
        expect((typed as KeyNotFound).key).toBe("k1");
      });
    });

    test("handler throw and reject give INTERNAL without a stack; unknown method gives UNIMPLEMENTED", async () => {
      await withServer(d, makeImpl(newProbe()), {}, async (h) => {
        const ch = h.channel();
        const thrown = await caught(ch.unary(M.fail, { text: "x" }));
        expect(thrown.status).toBe(Status.INTERNAL);
        expect(thrown.message).toBe("thrown on purpose");
        const rejected = await caught(ch.unary(M.fail, { text: "reject" }));
        expect(rejected.status).toBe(Status.INTERNAL);
        expect(rejected.message).toBe("rejected on purpose");
        const missing = await caught(ch.unary(Missing, { text: "x" }));
        expect(missing.status).toBe(Status.UNIMPLEMENTED);
        expect(missing.message).toContain("test.v1.Test/missing");
        // The connection is still good.
        expect(await ch.unary(M.echo, { text: "ok" })).toEqual({ text: "ok" });
      });
    });

    test("unencodable and oversized responses, debug stacks, non-Error throws", async () => {
      await withServer(d, makeImpl(newProbe()), { debug: true }, async (h) => {
        const ch = h.channel({ maxFrameBytes: 1024 });
        const bad = await caught(ch.unary(M.fail, { text: "bad-response" }));
        expect(bad.status).toBe(Status.INTERNAL);
        expect(bad.message).toContain("could not encode response test.v1.Text");
        const big = await caught(ch.unary(M.fail, { text: "big-response" }));
        expect(big.status).toBe(Status.RESOURCE_EXHAUSTED);
        expect(big.message).toContain("over the peer's limit of 1024 bytes");
        const stacked = await caught(ch.unary(M.fail, { text: "x" }));
        expect(stacked.message).toContain("thrown on purpose");
        expect(stacked.message).toContain("service-impl.ts");
        const plain = await caught(ch.unary(M.fail, { text: "not-an-error" }));
        expect(plain.status).toBe(Status.INTERNAL);
        expect(plain.message).toBe("a plain string");
        expect(await ch.unary(M.echo, { text: "fine" })).toEqual({ text: "fine" });
      });
    });

    test("a streaming handler that returns no iterable gives INTERNAL", async () => {
      const impl = { ...makeImpl(newProbe()), count: () => 42 };
      await withServer(d, impl, {}, async (h) => {
        let err: RpcError | null = null;
        try {
          for await (const _ of h.channel().serverStream(M.count, { n: 1 })) void _;
        } catch (e) {
          err = e as RpcError;
        }
        expect(err?.status).toBe(Status.INTERNAL);
        expect(err?.message).toContain("must return an iterable");
      });
    });

    test("validation failure gives INVALID_ARGUMENT naming the field", async () => {
      await withServer(d, makeImpl(newProbe()), {}, async (h) => {
        const ch = h.channel();
        const e = await caught(ch.unary(M.delay, { n: -1 }));
        expect(e.status).toBe(Status.INVALID_ARGUMENT);
        expect(e.message).toContain("n: must not be negative");
      });
    });
  });
}
