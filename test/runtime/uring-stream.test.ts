/**
 * io_uring driver: streaming reads over the provided buffer ring. A stream
 * carries far more data than the ring's buffers hold (so every buffer is
 * returned and the multishot recv re-arms after ENOBUFS), in order, with
 * pause/resume; the buffers start at bufInitial and grow at ENOBUFS; a
 * locally closed stream ends once with end(null).
 */
import { describe, expect, test } from "bun:test";
import type { Conn } from "../../src/runtime/types.ts";
import { createUringRuntime } from "../../src/runtime/uring/runtime.ts";
import { probeUring } from "../../src/runtime/uring/probe.ts";

const probe = probeUring();
const it = (name: string, fn: () => Promise<void>, timeoutMs = 15_000) => test.skipIf(!probe.ok)(name, fn, timeoutMs);

function pattern(n: number): Uint8Array {
  const b = new Uint8Array(n);
  let x = 12345;
  for (let i = 0; i < n; i++) {
    x = (x * 1103515245 + 12345) >>> 0;
    b[i] = x >>> 24;
  }
  return b;
}

/** Index of the first byte where a and b differ, or -1 when they are equal (a failure names the offset, not a whole-array diff). */
function firstMismatch(a: Uint8Array, b: Uint8Array): number {
  const n = Math.max(a.length, b.length);
  for (let i = 0; i < n; i++) if (a[i] !== b[i]) return i;
  return -1;
}

/** Echoes conn's stream back in order: one writeAll at a time, pausing while much is queued. */
function streamEcho(conn: Conn, copy: (chunk: Uint8Array) => Uint8Array): Promise<void> {
  const queue: Uint8Array[] = [];
  let queued = 0;
  let writing = false;
  let ended = false;
  let done!: () => void;
  let fail!: (e: unknown) => void;
  const finished = new Promise<void>((resolve, reject) => {
    done = resolve;
    fail = reject;
  });
  const pump = async () => {
    writing = true;
    while (queue.length > 0) {
      const b = queue.shift()!;
      const w = await conn.writeAll(b);
      if (w.error) throw w.error;
      queued -= b.length;
      if (queued < 64 << 10) conn.resume();
    }
    writing = false;
    if (ended) done();
  };
  conn.stream({
    data(chunk) {
      queue.push(copy(chunk));
      queued += chunk.length;
      if (queued > 256 << 10) conn.pause();
      if (!writing) pump().catch(fail); // the test awaits `finished`: a failed echo fails it with the error
    },
    end() {
      ended = true;
      if (!writing) done();
    },
  });
  return finished;
}

describe(`uring stream${probe.ok ? "" : ` (skipped: ${probe.reason})`}`, () => {
  it("4 MiB through a 32 KiB buffer ring arrives intact and in order", async () => {
    const rt = createUringRuntime({ bufCount: 8, bufSize: 4096 });
    const l = await rt.listen({ port: 0 });
    const accepted = l.accept();
    const client = await rt.connect({ host: "127.0.0.1", port: l.port });
    const server = await accepted;
    let chunks = 0;
    let biggest = 0;
    const echoed = streamEcho(server, (chunk) => {
      chunks++;
      biggest = Math.max(biggest, chunk.length);
      return chunk.slice();
    });
    const total = 4 << 20;
    const payload = pattern(total);
    const back = new Uint8Array(total);
    const reading = (async () => {
      const buf = rt.buffers.acquire(64 << 10);
      let got = 0;
      while (got < total) {
        const r = await client.read(buf);
        if (r.res <= 0) throw new Error(`read ended at ${got}: ${r.error?.message ?? "EOF"}`);
        back.set(buf.subarray(0, r.res), got);
        got += r.res;
      }
    })();
    const w = await client.writeAll(payload);
    expect(w.res).toBe(total);
    await reading;
    expect(firstMismatch(back, payload)).toBe(-1);
    expect(biggest).toBeLessThanOrEqual(4096);
    expect(chunks).toBeGreaterThanOrEqual(total / 4096); // every buffer was used many times over
    await client.close();
    await echoed; // the server's stream saw end of stream
    await server.close();
    await l.close();
    await rt.close();
  });

  it("the kernel gets bufInitial buffers, doubled at each ENOBUFS up to bufCount, and no byte is lost", async () => {
    expect(() => createUringRuntime({ bufCount: 8, bufInitial: 9 })).toThrow("bufInitial must be an integer from 1 to bufCount (8), got 9");
    expect(() => createUringRuntime({ bufCount: 8, bufInitial: 0 })).toThrow("bufInitial");
    const rt = createUringRuntime({ bufCount: 8, bufInitial: 1, bufSize: 4096 });
    expect(rt.stats().buffers!.recvBuffers).toBe(1);
    const l = await rt.listen({ port: 0 });
    const conns = 4;
    const total = 256 << 10;
    const payload = pattern(total);
    const received: Uint8Array[] = [];
    const arrived: Promise<void>[] = [];
    const clients: Conn[] = [];
    const servers: Conn[] = [];
    for (let c = 0; c < conns; c++) {
      const accepted = l.accept();
      clients.push(await rt.connect({ host: "127.0.0.1", port: l.port }));
      const server = await accepted;
      servers.push(server);
      const back = new Uint8Array(total);
      received.push(back);
      let got = 0;
      // dataIn reads the driver's view of the buffers, which is replaced as they grow.
      arrived.push(new Promise<void>((resolve) => server.stream({
        data: () => { throw new Error("the uring driver calls dataIn when a sink has it"); },
        dataIn(buf, start, end) {
          back.set(buf.subarray(start, end), got);
          got += end - start;
          if (got === total) resolve();
        },
        end() {},
      })));
    }
    const writes = await Promise.all(clients.map((c) => c.writeAll(payload)));
    for (const w of writes) expect(w.res).toBe(total);
    await Promise.race([Promise.all(arrived), rt.sleep(10_000).then(() => { throw new Error("not every byte arrived within 10 s"); })]);
    for (const back of received) expect(firstMismatch(back, payload)).toBe(-1);
    const b = rt.stats().buffers!;
    expect(b.recvNoBuffers).toBeGreaterThan(0);
    expect(b.recvBuffers).toBeGreaterThan(1);
    expect(b.recvBuffers).toBeLessThanOrEqual(8);
    expect([1, 2, 4, 8]).toContain(b.recvBuffers);
    for (const c of [...clients, ...servers]) await c.close();
    await l.close();
    await rt.close();
  });

  it("a locally closed stream ends once with end(null) and delivers nothing after", async () => {
    const rt = createUringRuntime();
    const l = await rt.listen({ port: 0 });
    const accepted = l.accept();
    const client = await rt.connect({ host: "127.0.0.1", port: l.port });
    const server = await accepted;
    const ends: unknown[] = [];
    let bytes = 0;
    server.stream({
      data(chunk) {
        bytes += chunk.length;
      },
      end(error) {
        ends.push(error);
      },
    });
    await client.writeAll(new Uint8Array([1, 2, 3]));
    for (let i = 0; i < 100 && bytes < 3; i++) await rt.sleep(1);
    expect(bytes).toBe(3);
    await server.close();
    expect(ends).toEqual([null]);
    await client.writeAll(new Uint8Array([4, 5, 6]));
    await rt.sleep(10);
    expect(bytes).toBe(3);
    expect(ends).toEqual([null]);
    expect(() => server.stream({ data() {}, end() {} })).toThrow("already");
    await client.close();
    await l.close();
    await rt.close();
  });
});
