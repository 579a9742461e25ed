/**
 * io_uring driver: streaming reads over the provided buffer ring. A stream
 * carries far more data than the ring's buffers hold (so every buffer is
 * returned and the multishot recv re-arms after ENOBUFS), in order, with
 * pause/resume; the buffers start at bufInitial and grow at ENOBUFS; small
 * reads share a buffer on an incremental ring; a locally closed stream ends
 * once with end(null).
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

/**
 * Copies conn's stream into `back` through dataIn (the uring driver's own
 * view of its provided buffers; it must not fall back to data), calling
 * `chunk` with each region's start in that view and the bytes copied so far.
 */
function copyDataIn(conn: Conn, back: Uint8Array, chunk: (start: number, got: number) => void): void {
  let got = 0;
  conn.stream({
    data: () => { throw new Error("the uring driver calls dataIn when a sink has it"); },
    dataIn(buf, start, end) {
      back.set(buf.subarray(start, end), got);
      got += end - start;
      chunk(start, got);
    },
    end() {},
  });
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
      // dataIn reads the driver's view of the buffers, which is replaced as they grow.
      arrived.push(new Promise<void>((resolve) => copyDataIn(server, back, (_start, got) => {
        if (got === total) resolve();
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

  it("the default buffers follow the ring: 2 of 256 KiB (up to 8) incremental, 32 of 8 KiB (up to 256) whole", async () => {
    const hasInc = probe.features.includes("BUF_INC");
    for (const bufIncremental of [true, false]) {
      const rt = createUringRuntime({ bufIncremental });
      const incremental = bufIncremental && hasInc;
      const { bufSize, bufInitial, bufCount } = rt.core.ring.opts;
      expect({ bufSize, bufInitial, bufCount }).toEqual(incremental ? { bufSize: 256 << 10, bufInitial: 2, bufCount: 8 } : { bufSize: 8 << 10, bufInitial: 32, bufCount: 256 });
      expect(rt.stats().buffers!.recvIncremental).toBe(incremental);
      await rt.close();
    }
  });

  for (const incremental of [true, false]) {
    it(`small reads ${incremental ? "share a buffer, each chunk at its offset (incremental ring)" : "each take a whole buffer (bufIncremental: false)"}`, async () => {
      const rt = createUringRuntime({ bufCount: 8, bufInitial: 1, bufSize: 4096, bufIncremental: incremental });
      // This project's kernels (6.18) have incremental buffer rings; one without them runs whole buffers.
      expect(rt.stats().buffers!.recvIncremental).toBe(incremental && probe.features.includes("BUF_INC"));
      const l = await rt.listen({ port: 0 });
      const accepted = l.accept();
      const client = await rt.connect({ host: "127.0.0.1", port: l.port });
      const server = await accepted;
      const writes = 30;
      const payload = pattern(writes * 100);
      const back = new Uint8Array(payload.length);
      const starts: number[] = [];
      let arrived: (got: number) => void = () => {};
      copyDataIn(server, back, (start, got) => {
        starts.push(start);
        arrived(got);
      });
      // One 100-byte write at a time, each read before the next is sent: 30 separate reads.
      for (let i = 0; i < writes; i++) {
        const seen = new Promise<void>((resolve) => { arrived = (got) => { if (got >= (i + 1) * 100) resolve(); }; });
        expect((await client.writeAll(payload.subarray(i * 100, (i + 1) * 100))).res).toBe(100);
        await Promise.race([seen, rt.sleep(2_000).then(() => { throw new Error(`write ${i} did not arrive within 2 s`); })]);
      }
      expect(firstMismatch(back, payload)).toBe(-1);
      expect(starts.length).toBe(writes);
      const offsets = starts.map((s) => s % 4096);
      if (rt.stats().buffers!.recvIncremental) expect(offsets).toEqual(starts.map((_, i) => i * 100));
      else expect(offsets).toEqual(starts.map(() => 0));
      expect(rt.stats().buffers!.recvNoBuffers).toBe(0);
      await client.close();
      await server.close();
      await l.close();
      await rt.close();
    });
  }

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
