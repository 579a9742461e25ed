/**
 * Runs the shared driver suite against the epoll fallback driver (Bun's own
 * networking), plus the few behaviours only this driver promises.
 */
import { describe, expect, test } from "bun:test";
import { createEpollRuntime } from "../../src/runtime/epoll/runtime.ts";
import { runDriverSuite } from "./driver-suite.ts";
import { ascii } from "./helpers/bytes.ts";
import { readExactly } from "./helpers/conn-io.ts";

runDriverSuite("epoll", createEpollRuntime);

describe("epoll driver specifics", () => {
  test("reports its name and an unknown syscall count", async () => {
    const rt = createEpollRuntime();
    expect(rt.driver).toBe("epoll");
    expect(rt.stats().enters).toBe(-1);
    await rt.close();
  });

  test("bytes that arrive with no read pending are queued, bounded, and all delivered", async () => {
    const rt = createEpollRuntime();
    try {
      const listener = await rt.listen({ host: "127.0.0.1", port: 0 });
      // Far above the queue's high-water mark plus what the kernel buffers hold.
      const total = 24 << 20;
      let senderDone = false;
      const sender = (async () => {
        const c = await listener.accept();
        const out = rt.buffers.acquire(total);
        for (let i = 0; i < total; i++) out[i] = i % 251;
        const w = await c.writeAll(out);
        senderDone = true;
        await c.close();
        return w.res;
      })();
      const conn = await rt.connect({ host: "127.0.0.1", port: listener.port });
      await rt.sleep(150); // nobody reads: the queue fills and the socket pauses
      expect(senderDone).toBe(false); // so the sender is held back by TCP flow control
      const got = await readExactly(rt, conn, total);
      let bad = -1;
      for (let i = 0; i < total && bad < 0; i++) if (got[i] !== i % 251) bad = i;
      expect(bad).toBe(-1);
      expect(await sender).toBe(total);
      await conn.close();
      await listener.close();
    } finally {
      await rt.close();
    }
  });

  test("a read() while stream() is active fails with EINVAL and returns its buffer", async () => {
    const rt = createEpollRuntime();
    try {
      const listener = await rt.listen({ host: "127.0.0.1", port: 0 });
      const conn = await rt.connect({ host: "127.0.0.1", port: listener.port });
      conn.stream({ data() {}, end() {} });
      const buf = ascii("xx");
      const r = await conn.read(buf);
      expect(r.buf).toBe(buf);
      expect(r.error?.code).toBe("EINVAL");
      await listener.close();
    } finally {
      await rt.close();
    }
  });

  test("the buffer pool refuses a double release", () => {
    const rt = createEpollRuntime();
    const b = rt.buffers.acquire(100);
    rt.buffers.release(b);
    expect(() => rt.buffers.release(b)).toThrow("double release");
    expect(() => rt.buffers.release(new Uint8Array(8))).toThrow("did not hand out");
    void rt.close();
  });
});
