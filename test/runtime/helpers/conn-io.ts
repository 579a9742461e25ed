/**
 * Client-side I/O helpers over the public Conn API, used by the shared
 * driver suite: read an exact byte count, collect a stream() sink, connect
 * many connections with bounded concurrency.
 */
import type { Conn, Runtime } from "../../../src/runtime/types.ts";

/** Reads exactly n bytes with reads of at most `chunk` bytes from `rt`'s pool; throws on end or error. */
export async function readExactly(rt: Runtime, conn: Conn, n: number, chunk = 64 * 1024): Promise<Uint8Array> {
  const out = new Uint8Array(n);
  const buf = rt.buffers.acquire(Math.max(1, Math.min(chunk, n)));
  try {
    let got = 0;
    while (got < n) {
      const want = Math.min(buf.length, n - got);
      const r = await conn.read(want === buf.length ? buf : buf.subarray(0, want));
      if (r.error) throw r.error;
      if (r.res === 0) throw new Error(`end of stream after ${got} of ${n} bytes`);
      out.set(r.buf.subarray(0, r.res), got);
      got += r.res;
    }
    return out;
  } finally {
    rt.buffers.release(buf);
  }
}

/** Streams conn into memory until `n` bytes arrived; rejects on an early end. Copies each chunk. */
export function collectStream(conn: Conn, n: number, onChunk?: (received: number) => void): Promise<Uint8Array> {
  return new Promise((resolve, reject) => {
    const out = new Uint8Array(n);
    let got = 0;
    conn.stream({
      data(chunk) {
        if (got + chunk.length > n) {
          reject(new Error(`stream delivered ${got + chunk.length} bytes, expected ${n}`));
          return;
        }
        out.set(chunk, got);
        got += chunk.length;
        onChunk?.(got);
        if (got === n) resolve(out);
      },
      end(error) {
        if (got < n) reject(error ?? new Error(`stream ended after ${got} of ${n} bytes`));
      },
    });
  });
}

/** Opens `count` connections to 127.0.0.1:port with at most `parallel` connects in flight. */
export async function connectMany(rt: Runtime, port: number, count: number, parallel: number): Promise<Conn[]> {
  const conns: Conn[] = [];
  let next = 0;
  const worker = async () => {
    while (next < count) {
      next++;
      conns.push(await rt.connect({ host: "127.0.0.1", port }));
    }
  };
  await Promise.all(Array.from({ length: Math.min(parallel, count) }, worker));
  return conns;
}
