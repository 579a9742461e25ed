/**
 * Backpressure: a peer that does not read its responses stops being read
 * from (write high-water mark), and resumes without loss once it reads; a
 * client stream's producer stays within the server's credit; a client's
 * unary calls to a server that does not read wait unencoded once the
 * connection's output is over its mark.
 */
import { describe, expect, test } from "bun:test";
import { createServer, type Socket } from "node:net";
import { createChannel } from "../../src/rpc/client.ts";
import { Status } from "../../src/rpc/status.ts";
import { caught } from "./helpers/caught.ts";
import { FrameDecoder } from "../../src/rpc/frame-decoder.ts";
import { describeDrivers } from "./helpers/drivers.ts";
import { M } from "./helpers/fixtures.ts";
import { sleep, until, withServer } from "./helpers/harness.ts";
import { frameBytes, HELLO } from "./helpers/raw-peer.ts";
import { makeImpl, newProbe } from "./service-impl.ts";

describeDrivers("rpc backpressure", (d) => {
  test("client: unary calls to a server that does not read wait unencoded once the output is over writeHighWaterBytes", async () => {
    // A server that says HELLO and then never reads: what the kernel's buffers cannot take stays with the client.
    const sockets: Socket[] = [];
    const server = createServer((s) => {
      sockets.push(s);
      s.on("error", () => {});
      s.write(frameBytes(HELLO));
      s.pause();
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const port = (server.address() as { port: number }).port;
    const rt = await d.make();
    const ch = createChannel(rt, { endpoints: [{ host: "127.0.0.1", port }], writeHighWaterBytes: 64 * 1024 });
    try {
      const text = "u".repeat(64 * 1024);
      // 16 MiB of requests: more than loopback's socket buffers hold, so the rest must wait somewhere.
      const calls = Array.from({ length: 256 }, () => caught(ch.unary(M.echo, { text }, { timeoutMs: 1500 })));
      expect(await until(() => (ch.stats().addresses[0]?.queuedCalls ?? 0) > 0, 2000)).toBe(true);
      await sleep(200);
      const a = ch.stats().addresses[0]!;
      // At most the mark plus one request (and its frame head) is encoded and unsent; before, every call was (~10 MiB).
      expect({ unsentUnderMark: a.unsentBytes <= 64 * 1024 + text.length + 1024, queued: a.queuedCalls > 100 }).toEqual({ unsentUnderMark: true, queued: true });
      const statuses = new Set((await Promise.all(calls)).map((e) => e.status));
      expect([...statuses]).toEqual([Status.DEADLINE_EXCEEDED]);
    } finally {
      await ch.close();
      await rt.close();
      for (const s of sockets) s.destroy();
      server.close();
    }
  });

  test("a peer that does not read stops being read from, then gets every answer", async () => {
    await withServer(d, makeImpl(newProbe()), { writeHighWaterBytes: 64 * 1024, maxConcurrentCalls: 100000 }, async (h) => {
      const conn = await h.rt.connect({ host: "127.0.0.1", port: h.port });
      const calls = 12000;
      const text = "r".repeat(1000);
      const parts: Uint8Array[] = [frameBytes(HELLO)];
      for (let id = 1; id <= calls; id++) parts.push(frameBytes([2, id, "test.v1.Test/echo", null, null, 1, [text]]));
      const total = parts.reduce((n, p) => n + p.length, 0);
      const out = h.rt.buffers.acquire(total);
      let off = 0;
      for (const p of parts) {
        out.set(p, off);
        off += p.length;
      }
      const writing = conn.writeAll(out);
      // Wait until the server stops taking calls (no progress for 100 ms), at most ~3 s.
      let stalled = -1;
      for (let i = 0; i < 30; i++) {
        const before = h.server.stats().totalCalls;
        await sleep(100);
        if (h.server.stats().totalCalls === before) {
          stalled = before;
          break;
        }
      }
      expect(stalled).toBeGreaterThan(0);
      expect(stalled).toBeLessThan(calls);
      let frames = 0;
      const dec = new FrameDecoder(1 << 20);
      conn.stream({ data: (c) => void dec.push(c, () => frames++), end: () => {} });
      expect(await until(() => frames === calls + 1, 8000)).toBe(true);
      const w = await writing;
      expect(w.res).toBe(total);
      h.rt.buffers.release(w.buf);
      expect(h.server.stats().totalCalls).toBe(calls);
      await conn.close();
    });
  }, 15000);

  test("shutdown does not hang on a peer that never reads", async () => {
    await withServer(d, makeImpl(newProbe()), { writeHighWaterBytes: 64 * 1024 }, async (h) => {
      const conn = await h.rt.connect({ host: "127.0.0.1", port: h.port });
      const parts: Uint8Array[] = [frameBytes(HELLO)];
      for (let id = 1; id <= 8000; id++) parts.push(frameBytes([2, id, "test.v1.Test/echo", null, null, 1, ["s".repeat(1000)]]));
      const all = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
      let off = 0;
      for (const p of parts) {
        all.set(p, off);
        off += p.length;
      }
      const out = h.rt.buffers.acquire(all.length);
      out.set(all);
      const writing = conn.writeAll(out);
      await sleep(100);
      const t0 = Date.now();
      await h.server.shutdown(50);
      // shutdown(50) then each connection drains its writes for up to 1 s
      // (src/rpc/frame-output.ts drain) before it closes: measured 1-1024 ms
      // over 5 runs per driver, 2026-12-06. Anything near 2 s means a hang.
      expect(Date.now() - t0).toBeLessThan(1500);
      expect(h.server.stats().connections).toBe(0);
      await conn.close();
      await writing;
    });
  }, 10000);

  test("a client stream's producer stays within the server's credit while the handler does not read", async () => {
    let release: () => void = () => {};
    const gate = new Promise<void>((r) => (release = r));
    const impl = {
      ...makeImpl(newProbe()),
      async sum(reqs: AsyncIterable<{ n: number }>) {
        await gate;
        let s = 0;
        for await (const r of reqs) s += r.n;
        return { n: s };
      },
    };
    await withServer(d, impl, { initialWindow: 8 }, async (h) => {
      let produced = 0;
      async function* nums() {
        for (let i = 0; i < 500; i++) {
          produced++;
          yield { n: 2 };
        }
      }
      const p = h.channel().clientStream(M.sum, nums());
      await sleep(100);
      expect(produced).toBeLessThanOrEqual(8 + 1);
      expect(produced).toBeGreaterThan(0);
      release();
      expect(await p).toEqual({ n: 1000 });
      expect(produced).toBe(500);
    });
  });
});
