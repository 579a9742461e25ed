/**
 * io_uring driver: streaming reads over the provided buffer ring. A stream
 * carries far more data than the ring's buffers hold (so every buffer is
 * returned and the multishot recv re-arms after ENOBUFS), in order, with
 * pause/resume; a locally closed stream ends once with end(null).
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
    let firstBad = -1;
    for (let i = 0; i < total && firstBad < 0; i++) if (back[i] !== payload[i]) firstBad = i;
    expect(firstBad).toBe(-1);
    expect(biggest).toBeLessThanOrEqual(4096);
    expect(chunks).toBeGreaterThanOrEqual(total / 4096); // every buffer was used many times over
    await client.close();
    await echoed; // the server's stream saw end of stream
    await server.close();
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
