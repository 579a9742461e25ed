/**
 * An echo server written only against the public Runtime API, for driver
 * tests: accept in a loop, then echo each connection either with
 * read/writeAll or with stream() plus an ordered write queue (pausing the
 * stream while too much is queued). Records unexpected errors instead of
 * throwing them into nowhere; tests assert `errors` is empty.
 */
import type { Conn, Listener, Runtime } from "../../../src/runtime/types.ts";

export type EchoMode = "read" | "stream";

export interface EchoServer {
  readonly port: number;
  readonly listener: Listener;
  /** Connections accepted so far. */
  readonly accepted: number;
  readonly errors: unknown[];
  stop(): Promise<void>;
}

const STREAM_HIGH_WATER = 1 << 20;
const STREAM_LOW_WATER = 256 << 10;

export async function startEchoServer(rt: Runtime, mode: EchoMode = "read"): Promise<EchoServer> {
  const listener = await rt.listen({ host: "127.0.0.1", port: 0 });
  const live = new Set<Conn>();
  const served = new Set<Promise<void>>();
  const errors: unknown[] = [];
  let accepted = 0;
  let stopping = false;

  const acceptLoop = (async () => {
    for (;;) {
      let conn: Conn;
      try {
        conn = await listener.accept();
      } catch (e) {
        if (!stopping) errors.push(e);
        return;
      }
      accepted++;
      live.add(conn);
      const p = (mode === "read" ? echoByReads(rt, conn) : echoByStream(conn))
        .catch((e: unknown) => {
          errors.push(e);
        })
        .finally(() => {
          live.delete(conn);
          served.delete(p);
        });
      served.add(p);
    }
  })();

  return {
    port: listener.port,
    listener,
    get accepted() {
      return accepted;
    },
    errors,
    async stop() {
      stopping = true;
      await listener.close();
      await acceptLoop;
      await Promise.all([...live].map((c) => c.close()));
      await Promise.all([...served]);
    },
  };
}

async function echoByReads(rt: Runtime, conn: Conn): Promise<void> {
  const buf = rt.buffers.acquire(64 * 1024);
  try {
    for (;;) {
      const r = await conn.read(buf);
      if (r.res <= 0) return; // end of stream, or the connection went away
      const w = await conn.writeAll(buf.subarray(0, r.res));
      if (w.res < 0) return;
    }
  } finally {
    rt.buffers.release(buf);
    await conn.close();
  }
}

function echoByStream(conn: Conn): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    const queue: Uint8Array[] = [];
    let queued = 0;
    let writing = false;
    let ended = false;
    let paused = false;
    const finish = () => {
      void conn.close().then(resolve);
    };
    const pump = async () => {
      writing = true;
      while (queue.length > 0) {
        const chunk = queue.shift()!;
        queued -= chunk.length;
        if (paused && queued <= STREAM_LOW_WATER) {
          paused = false;
          conn.resume();
        }
        const w = await conn.writeAll(chunk);
        if (w.res < 0) {
          queue.length = 0;
          break;
        }
      }
      writing = false;
      if (ended) finish();
    };
    conn.stream({
      data(chunk) {
        const copy = chunk.slice(); // chunk is only valid during this call
        queue.push(copy);
        queued += copy.length;
        if (!paused && queued > STREAM_HIGH_WATER) {
          paused = true;
          conn.pause();
        }
        if (!writing) pump().catch(reject); // the caller records it in errors
      },
      end() {
        ended = true;
        if (!writing) finish();
      },
    });
  });
}
