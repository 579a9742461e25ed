/**
 * Echo load client on the ringrpc runtime: opens --conns connections, keeps
 * --depth messages of --size bytes in flight on each for --seconds, checks
 * every echoed byte and prints one summary line. Usage:
 *   bun examples/echo/client.ts --port P [--conns 16] [--depth 16] [--size 64] [--seconds 2]
 */
import { type Conn, createRuntime, type Runtime } from "ringrpc/runtime";
import { intFlag, readFlags } from "../flags.ts";

export interface EchoLoadResult {
  driver: string;
  requests: number;
  seconds: number;
  rps: number;
  errors: number;
}

async function driveConn(rt: Runtime, conn: Conn, size: number, depth: number, until: number, counts: { done: number; errors: number }): Promise<void> {
  const out = rt.buffers.acquire(size * depth);
  for (let i = 0; i < out.length; i++) out[i] = (i * 31 + 7) & 0xff;
  let inb = rt.buffers.acquire(size * depth);
  try {
    while (Date.now() < until) {
      const w = await conn.writeAll(out);
      if (w.res < 0) throw w.error;
      let got = 0;
      while (got < out.length) {
        const r = await conn.read(inb.subarray(got));
        if (r.res <= 0) throw r.error ?? new Error("server closed the connection");
        got += r.res;
      }
      for (let i = 0; i < out.length; i += 97) if (inb[i] !== out[i]) throw new Error(`echo mismatch at byte ${i}`);
      counts.done += depth;
    }
  } catch {
    counts.errors++;
  } finally {
    rt.buffers.release(out);
    rt.buffers.release(inb);
  }
}

export async function runEchoLoad(opts: { host?: string; port: number; conns: number; depth: number; size: number; seconds: number }): Promise<EchoLoadResult> {
  const { runtime: rt } = await createRuntime();
  try {
    const conns = await Promise.all(Array.from({ length: opts.conns }, () => rt.connect({ host: opts.host ?? "127.0.0.1", port: opts.port })));
    const counts = { done: 0, errors: 0 };
    const start = performance.now();
    const until = Date.now() + opts.seconds * 1000;
    await Promise.all(conns.map((c) => driveConn(rt, c, opts.size, opts.depth, until, counts)));
    const seconds = (performance.now() - start) / 1000;
    await Promise.all(conns.map((c) => c.close()));
    return { driver: rt.driver, requests: counts.done, seconds, rps: counts.done / seconds, errors: counts.errors };
  } finally {
    await rt.close();
  }
}

if (import.meta.main) {
  const args = readFlags(process.argv.slice(2), ["host", "port", "conns", "depth", "size", "seconds"]);
  const r = await runEchoLoad({
    host: args.get("host") ?? "127.0.0.1",
    port: intFlag(args, "port", 7000, 1, 65535),
    conns: intFlag(args, "conns", 16, 1, 10000),
    depth: intFlag(args, "depth", 16, 1, 1024),
    size: intFlag(args, "size", 64, 1, 1 << 20),
    seconds: intFlag(args, "seconds", 2, 1, 600),
  });
  console.log(`client driver=${r.driver}: ${r.requests} echoes in ${r.seconds.toFixed(2)} s = ${Math.round(r.rps)} req/s, errors=${r.errors}`);
  process.exit(r.errors > 0 ? 1 : 0);
}
