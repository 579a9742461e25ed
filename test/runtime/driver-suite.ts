/**
 * The shared driver suite: one set of tests every Runtime driver must pass
 * (test/runtime/epoll.test.ts and uring.test.ts call runDriverSuite with
 * their own factory). It only uses the public contract of
 * src/runtime/types.ts and src/runtime/errors.ts, never driver internals,
 * and only talks to 127.0.0.1. Every test makes its own runtime and closes
 * it, and is bounded in time.
 *
 * What it asserts about cancel (the contract's promise, valid for both
 * drivers): a cancelled read gives back its very buffer with
 * res = -ECANCELED, or, when the data won the race against the cancel, a
 * normal positive result; either way no byte is lost: the bytes of that
 * result plus the bytes of later reads are exactly what the peer sent.
 *
 * Most cases put the echo server on the runtime under test (one ring). The
 * "peer in another Worker" cases put it in a Bun Worker with its own runtime
 * (test/runtime/helpers/echo-worker.ts), once per server driver that can run
 * here (probeUring() decides for uring), so the client's loop sleeps while
 * the other thread works and must wake up for every completion.
 */
import { describe, expect, test } from "bun:test";
import { Errno } from "../../src/runtime/errors.ts";
import type { Conn, DriverName, Runtime } from "../../src/runtime/types.ts";
import { probeUring } from "../../src/runtime/uring/probe.ts";
import { skipTitle } from "../helpers/skip.ts";
import { startWorkerPeer, type WorkerPeer } from "../helpers/worker-peer.ts";
import { ascii, compareBytes, fillPattern, overlaps } from "./helpers/bytes.ts";
import { collectStream, connectMany, readExactly } from "./helpers/conn-io.ts";
import { startEchoServer, type EchoMode, type EchoServer } from "./helpers/echo-server.ts";
import { openFdCount, waitForFdCount } from "./helpers/fd-count.ts";

export interface DriverSuiteOptions {
  /** When a string, every test is skipped and the suite's name says why (e.g. io_uring blocked here). */
  skip?: string | false;
  /** Concurrent connections in the fan-out test. Default 1000. */
  connections?: number;
  /** Sequential connect/close cycles in the fd-leak test. Default 500. */
  cycles?: number;
}

type MakeRuntime = () => Runtime | Promise<Runtime>;

const LOCALHOST = "127.0.0.1";
const ECANCELED = Errno.ECANCELED;

/** Runs body with a fresh runtime and always closes it. */
async function withRuntime<T>(make: MakeRuntime, body: (rt: Runtime) => Promise<T>): Promise<T> {
  const rt = await make();
  try {
    return await body(rt);
  } finally {
    await rt.close();
  }
}

/** Runs body against a fresh runtime with an echo server in it; asserts the server saw no errors. */
function withEcho(make: MakeRuntime, mode: "read" | "stream", body: (rt: Runtime, server: EchoServer) => Promise<void>) {
  return withRuntime(make, async (rt) => {
    const server = await startEchoServer(rt, mode);
    try {
      await body(rt, server);
    } finally {
      await server.stop();
    }
    expect(server.errors).toEqual([]);
  });
}

async function roundTrip(rt: Runtime, conn: Conn, msg: Uint8Array): Promise<void> {
  const out = rt.buffers.acquire(msg.length);
  out.set(msg);
  const w = await conn.writeAll(out);
  expect(w.error).toBeNull();
  expect(w.res).toBe(msg.length);
  expect(w.buf).toBe(out);
  rt.buffers.release(out);
  const back = await readExactly(rt, conn, msg.length);
  expect(compareBytes(back, msg)).toBe("equal");
}

/** The echo server in another Worker on `driver`; body gets its port; asserts it saw no errors and exited. */
async function withWorkerEcho(driver: DriverName, mode: EchoMode, body: (port: number) => Promise<void>): Promise<number> {
  const { peer, started } = await startWorkerPeer<{ port: number; driver: DriverName }>(new URL("./helpers/echo-worker.ts", import.meta.url), { driver, mode });
  expect(started.driver).toBe(driver);
  let stopped: { accepted: number; errors: string[] } | null = null;
  try {
    await body(started.port);
  } finally {
    stopped = await stopPeer(peer);
  }
  expect(stopped.errors).toEqual([]);
  return stopped.accepted;
}

function stopPeer(peer: WorkerPeer): Promise<{ accepted: number; errors: string[] }> {
  return peer.stop<{ accepted: number; errors: string[] }>();
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))]!;
}

/** A port that was just bound and released: nothing listens there. */
async function closedPort(rt: Runtime): Promise<number> {
  const l = await rt.listen({ host: LOCALHOST, port: 0, reusePort: false });
  const port = l.port;
  await l.close();
  return port;
}

export function runDriverSuite(name: string, make: MakeRuntime, opts: DriverSuiteOptions = {}): void {
  const skipped = typeof opts.skip === "string";
  const connections = opts.connections ?? 1000;
  const cycles = opts.cycles ?? 500;
  const reason = skipped ? (opts.skip as string) : null;
  const it = (label: string, fn: () => Promise<void>, timeoutMs = 10_000) => test.skipIf(skipped)(label, fn, timeoutMs);
  const uring = probeUring();

  describe(skipTitle(`driver ${name}`, reason), () => {
    describe("echo over loopback", () => {
      it("small messages round-trip in order", () =>
        withEcho(make, "read", async (rt, server) => {
          const conn = await rt.connect({ host: LOCALHOST, port: server.port });
          expect(conn.remote?.port).toBe(server.port);
          for (let i = 0; i < 50; i++) await roundTrip(rt, conn, ascii(`message ${i} of fifty`));
          await conn.close();
          expect(conn.closed).toBe(true);
        }));

      it("partial reads with a buffer smaller than the message reassemble it", () =>
        withEcho(make, "read", async (rt, server) => {
          const conn = await rt.connect({ host: LOCALHOST, port: server.port });
          const msg = fillPattern(new Uint8Array(1000), 7);
          const out = rt.buffers.acquire(msg.length);
          out.set(msg);
          expect((await conn.writeAll(out)).res).toBe(msg.length);
          const small = rt.buffers.acquire(7);
          const parts: Uint8Array[] = [];
          let got = 0;
          while (got < msg.length) {
            const r = await conn.read(small);
            expect(r.buf).toBe(small);
            expect(r.error).toBeNull();
            expect(r.res).toBeGreaterThan(0);
            expect(r.res).toBeLessThanOrEqual(7);
            parts.push(r.buf.slice(0, r.res));
            got += r.res;
          }
          expect(parts.length).toBeGreaterThanOrEqual(Math.ceil(msg.length / 7));
          const joined = new Uint8Array(got);
          let at = 0;
          for (const p of parts) {
            joined.set(p, at);
            at += p.length;
          }
          expect(compareBytes(joined, msg)).toBe("equal");
          rt.buffers.release(out);
          rt.buffers.release(small);
          await conn.close();
        }));

      it("1 MiB payloads both ways, byte for byte", () =>
        withEcho(make, "read", async (rt, server) => {
          const conn = await rt.connect({ host: LOCALHOST, port: server.port });
          for (const seed of [1, 2]) {
            const payload = fillPattern(rt.buffers.acquire(1 << 20), seed);
            const expected = payload.slice();
            const [w, back] = await Promise.all([conn.writeAll(payload), readExactly(rt, conn, 1 << 20)]);
            expect(w.error).toBeNull();
            expect(w.res).toBe(1 << 20);
            expect(w.buf).toBe(payload);
            expect(compareBytes(back, expected)).toBe("equal");
            rt.buffers.release(payload);
          }
          await conn.close();
        }), 20_000);

      it("writeAll of 32 MiB to a reader that starts late survives short sends", () =>
        withEcho(make, "read", async (rt, server) => {
          const conn = await rt.connect({ host: LOCALHOST, port: server.port });
          const size = 32 << 20;
          const payload = fillPattern(rt.buffers.acquire(size), 9);
          const expected = payload.slice();
          let written = false;
          const writing = conn.writeAll(payload).then((w) => {
            written = true;
            return w;
          });
          // Nobody reads for a while: socket buffers fill up on both sides, so
          // both this writeAll and the server's must resubmit after short sends.
          await rt.sleep(50);
          expect(written).toBe(false);
          const back = await readExactly(rt, conn, size);
          const w = await writing;
          expect(w).toEqual({ res: size, buf: payload, error: null });
          expect(compareBytes(back, expected)).toBe("equal");
          rt.buffers.release(payload);
          await conn.close();
        }), 20_000);

      it("write() sends at least one byte and reports the count", () =>
        withEcho(make, "read", async (rt, server) => {
          const conn = await rt.connect({ host: LOCALHOST, port: server.port });
          const msg = ascii("short write contract");
          const out = rt.buffers.acquire(msg.length);
          out.set(msg);
          const w = await conn.write(out);
          expect(w.buf).toBe(out);
          expect(w.error).toBeNull();
          expect(w.res).toBeGreaterThan(0);
          expect(w.res).toBeLessThanOrEqual(msg.length);
          if (w.res < msg.length) expect((await conn.writeAll(out.subarray(w.res))).res).toBe(msg.length - w.res);
          expect(compareBytes(await readExactly(rt, conn, msg.length), msg)).toBe("equal");
          await conn.close();
        }));

      it("plain Uint8Arrays (not from the pool) work for writeAll and read", () =>
        withEcho(make, "read", async (rt, server) => {
          const conn = await rt.connect({ host: LOCALHOST, port: server.port });
          const msg = fillPattern(new Uint8Array(3000), 3);
          const w = await conn.writeAll(msg);
          expect(w.res).toBe(msg.length);
          expect(w.buf).toBe(msg);
          const back = new Uint8Array(msg.length);
          let got = 0;
          while (got < msg.length) {
            const view = back.subarray(got);
            const r = await conn.read(view);
            expect(r.buf).toBe(view);
            expect(r.res).toBeGreaterThan(0);
            got += r.res;
          }
          expect(compareBytes(back, msg)).toBe("equal");
          await conn.close();
        }));

      it("send() sends every byte of a pool buffer and of a plain one, answering each once", () =>
        withEcho(make, "read", async (rt, server) => {
          const conn = await rt.connect({ host: LOCALHOST, port: server.port });
          const pooled = fillPattern(rt.buffers.acquire(1 << 20), 7);
          const plain = fillPattern(new Uint8Array(3000), 11);
          const received = readExactly(rt, conn, pooled.length + plain.length);
          for (const buf of [pooled, plain]) {
            const answers: [number, unknown][] = [];
            await new Promise<void>((resolve) =>
              conn.send(buf, (res, error) => {
                answers.push([res, error]);
                resolve();
              }),
            );
            await rt.sleep(5);
            expect(answers).toEqual([[buf.length, null]]);
          }
          const expected = new Uint8Array(pooled.length + plain.length);
          expected.set(pooled);
          expected.set(plain, pooled.length);
          expect(compareBytes(await received, expected)).toBe("equal");
          rt.buffers.release(pooled);
          await conn.close();
        }), 20_000);

      it("send() on a closed connection answers once with an error", () =>
        withEcho(make, "read", async (rt, server) => {
          const conn = await rt.connect({ host: LOCALHOST, port: server.port });
          await conn.close();
          const out = rt.buffers.acquire(16);
          const answers: [number, string | undefined][] = [];
          await new Promise<void>((resolve) =>
            conn.send(out, (res, error) => {
              answers.push([res, error?.code]);
              resolve();
            }),
          );
          await rt.sleep(5);
          expect(answers.length).toBe(1);
          expect(answers[0]![0]).toBeLessThan(0);
          expect(answers[0]![1]).toMatch(/^E[A-Z]+$/);
          rt.buffers.release(out);
        }));

      it("a sink with dataIn receives every byte exactly once, through dataIn or data", () =>
        withEcho(make, "stream", async (rt, server) => {
          const conn = await rt.connect({ host: LOCALHOST, port: server.port });
          const payload = fillPattern(rt.buffers.acquire(300_000), 13);
          const got = new Uint8Array(payload.length);
          let n = 0;
          const done = new Promise<void>((resolve, reject) => {
            const take = (bytes: Uint8Array) => {
              if (n + bytes.length > got.length) return reject(new Error(`${n + bytes.length} bytes, expected ${got.length}`));
              got.set(bytes, n);
              n += bytes.length;
              if (n === got.length) resolve();
            };
            conn.stream({
              data: take,
              dataIn: (buf, start, end) => {
                expect(start).toBeGreaterThanOrEqual(0);
                expect(end).toBeLessThanOrEqual(buf.length);
                take(buf.subarray(start, end));
              },
              end: () => {},
            });
          });
          expect((await conn.writeAll(payload)).res).toBe(payload.length);
          await done;
          expect(compareBytes(got, payload)).toBe("equal");
          rt.buffers.release(payload);
          await conn.close();
        }), 20_000);

      it("stream() mode echo: server and client stream, 1 MiB and small messages", () =>
        withEcho(make, "stream", async (rt, server) => {
          const conn = await rt.connect({ host: LOCALHOST, port: server.port });
          const small = ascii("hello through a stream");
          const payload = fillPattern(rt.buffers.acquire(1 << 20), 5);
          const expected = new Uint8Array(small.length + payload.length);
          expected.set(small);
          expected.set(payload, small.length);
          let pausedOnce = false;
          const received = collectStream(conn, expected.length, (got) => {
            if (!pausedOnce && got > 256 << 10) {
              pausedOnce = true;
              conn.pause();
              setTimeout(() => conn.resume(), 20);
            }
          });
          expect((await conn.writeAll(small)).res).toBe(small.length);
          expect((await conn.writeAll(payload)).res).toBe(payload.length);
          expect(compareBytes(await received, expected)).toBe("equal");
          expect(pausedOnce).toBe(true);
          rt.buffers.release(payload);
          await conn.close();
        }), 20_000);

      it("stream() delivers bytes then end(null) once when the peer closes", () =>
        withRuntime(make, async (rt) => {
          const listener = await rt.listen({ host: LOCALHOST, port: 0 });
          const served = (async () => {
            const c = await listener.accept();
            const out = rt.buffers.acquire(5);
            out.set(ascii("bye!!"));
            await c.writeAll(out);
            await c.close();
          })();
          const conn = await rt.connect({ host: LOCALHOST, port: listener.port });
          const ends: (unknown | null)[] = [];
          let text = "";
          await new Promise<void>((resolve) => {
            conn.stream({
              data(chunk) {
                text += new TextDecoder().decode(chunk);
              },
              end(error) {
                ends.push(error);
                resolve();
              },
            });
          });
          await served;
          await rt.sleep(20);
          expect(text).toBe("bye!!");
          expect(ends).toEqual([null]);
          await conn.close();
          await listener.close();
        }));
    });

    it(`${connections} concurrent connections each do a round trip`, () =>
      withEcho(make, "read", async (rt, server) => {
        // Connects are capped at 200 in flight: a burst beyond the listen
        // backlog makes the kernel drop SYNs and retry after 1 s.
        const conns = await connectMany(rt, server.port, connections, 200);
        expect(conns.length).toBe(connections);
        expect(new Set(conns.map((c) => c.id)).size).toBe(connections);
        await Promise.all(conns.map((c, i) => roundTrip(rt, c, ascii(`connection #${i} says hi`))));
        expect(server.accepted).toBe(connections);
        await Promise.all(conns.map((c) => c.close()));
      }), 30_000);

    it(`${cycles} connect/close cycles leave the fd count where it was`, () =>
      withEcho(make, "read", async (rt, server) => {
        const one = ascii("x");
        const cycle = async () => {
          const conn = await rt.connect({ host: LOCALHOST, port: server.port });
          await roundTrip(rt, conn, one);
          await conn.close();
        };
        await cycle(); // warm up whatever the runtime allocates lazily
        await rt.sleep(20);
        const before = openFdCount();
        for (let i = 0; i < cycles; i++) await cycle();
        // The server side closes when it reads end of stream: give it a moment.
        const after = await waitForFdCount(before, 3000);
        expect(after).toBe(before);
        expect(server.accepted).toBe(cycles + 1);
      }), 30_000);

    describe("owned buffers", () => {
      it("success returns the same buffer object from read, write and writeAll", () =>
        withEcho(make, "read", async (rt, server) => {
          const conn = await rt.connect({ host: LOCALHOST, port: server.port });
          const out = rt.buffers.acquire(4);
          out.set(ascii("ping"));
          const w1 = await conn.write(out);
          expect(w1.buf).toBe(out);
          if (w1.res < 4) await conn.writeAll(out.subarray(w1.res));
          const w2 = await conn.writeAll(out);
          expect(w2.buf).toBe(out);
          expect(w2).toEqual({ res: 4, buf: out, error: null });
          const back = await readExactly(rt, conn, 8);
          expect(new TextDecoder().decode(back)).toBe("pingping");
          const inb = rt.buffers.acquire(16);
          const p = conn.read(inb);
          await conn.writeAll(out);
          const r = await p;
          expect(r.buf).toBe(inb);
          expect(r.error).toBeNull();
          expect(r.res).toBeGreaterThan(0);
          await conn.close();
        }));

      it("error returns the buffer: read after local close, pending read at close", () =>
        withEcho(make, "read", async (rt, server) => {
          const conn = await rt.connect({ host: LOCALHOST, port: server.port });
          const pendingBuf = rt.buffers.acquire(64);
          const pending = conn.read(pendingBuf);
          await rt.sleep(5);
          await conn.close();
          const r1 = await pending;
          expect(r1.buf).toBe(pendingBuf);
          expect(r1.res).toBeLessThan(0);
          expect(r1.error?.errno).toBe(-r1.res);
          expect(typeof r1.error?.code).toBe("string");

          const buf = rt.buffers.acquire(64);
          const r2 = await conn.read(buf);
          expect(r2.buf).toBe(buf);
          expect(r2.res).toBeLessThan(0);
          expect(r2.error?.errno).toBe(-r2.res);
          expect(r2.error?.syscall).toBe("recv");
          const w = await conn.writeAll(buf);
          expect(w.buf).toBe(buf);
          expect(w.res).toBeLessThan(0);
          expect(w.error?.syscall).toBe("send");
        }));

      it("peer close: read returns 0 with the buffer, then writes fail with EPIPE/ECONNRESET and the buffer", () =>
        withRuntime(make, async (rt) => {
          const listener = await rt.listen({ host: LOCALHOST, port: 0 });
          const closedByPeer = listener.accept().then((c) => c.close());
          const conn = await rt.connect({ host: LOCALHOST, port: listener.port });
          await closedByPeer;
          const buf = rt.buffers.acquire(32);
          const r = await conn.read(buf);
          expect(r.buf).toBe(buf);
          expect(r).toEqual({ res: 0, buf, error: null });
          let failure = null;
          for (let i = 0; i < 50 && !failure; i++) {
            const w = await conn.writeAll(buf);
            expect(w.buf).toBe(buf);
            if (w.res < 0) failure = w.error;
            else await rt.sleep(5);
          }
          expect(failure).not.toBeNull();
          expect(["EPIPE", "ECONNRESET"]).toContain(failure!.code);
          expect(failure!.syscall).toBe("send");
          await conn.close();
          await listener.close();
        }));

      it("reset: a peer closing with unread data makes read fail with ECONNRESET and return the buffer", () =>
        withRuntime(make, async (rt) => {
          const listener = await rt.listen({ host: LOCALHOST, port: 0 });
          const accepted = listener.accept().then((c) => {
            c.pause(); // leave what arrives unread in the kernel, so close() sends RST
            return c;
          });
          const conn = await rt.connect({ host: LOCALHOST, port: listener.port });
          const peer = await accepted;
          const out = rt.buffers.acquire(1000);
          expect((await conn.writeAll(fillPattern(out, 4))).res).toBe(1000);
          await rt.sleep(20);
          await peer.close();
          const buf = rt.buffers.acquire(64);
          const r = await rt.timeout(2000, (signal) => conn.read(buf, { signal }));
          expect(r.buf).toBe(buf);
          expect(r.res).toBe(-Errno.ECONNRESET);
          expect(r.error?.code).toBe("ECONNRESET");
          expect(r.error?.syscall).toBe("recv");
          await conn.close();
          await listener.close();
        }));

      it("cancel: an aborted pending read returns -ECANCELED and its buffer, which acquire() never aliases", () =>
        withEcho(make, "read", async (rt, server) => {
          const conn = await rt.connect({ host: LOCALHOST, port: server.port });
          const buf = rt.buffers.acquire(4096);
          const ctl = new AbortController();
          const pending = conn.read(buf, { signal: ctl.signal });
          await rt.sleep(5);
          ctl.abort();
          // Between the abort and the completion the kernel may still own buf.
          const others: Uint8Array[] = [];
          for (const size of [4096, 4096, 2048, 8192, 64, 100_000]) {
            for (let i = 0; i < 16; i++) others.push(rt.buffers.acquire(size));
          }
          expect(others.filter((o) => overlaps(o, buf)).length).toBe(0);
          for (const o of others) rt.buffers.release(o);
          const r = await pending;
          expect(r.buf).toBe(buf);
          expect(r.res).toBe(-ECANCELED);
          expect(r.error?.code).toBe("ECANCELED");
          expect(r.error?.name).toBe("AbortError");
          // The connection still works and nothing sent afterwards is lost.
          await roundTrip(rt, conn, ascii("after the cancel"));
          rt.buffers.release(r.buf);
          await conn.close();
        }));

      it("cancel racing with arriving data loses no bytes", () =>
        withEcho(make, "read", async (rt, server) => {
          const conn = await rt.connect({ host: LOCALHOST, port: server.port });
          for (let i = 0; i < 30; i++) {
            const msg = ascii(`race ${i} `.padEnd(40, "."));
            const out = rt.buffers.acquire(msg.length);
            out.set(msg);
            expect((await conn.writeAll(out)).res).toBe(msg.length);
            rt.buffers.release(out);
            const buf = rt.buffers.acquire(msg.length);
            const ctl = new AbortController();
            const pending = conn.read(buf, { signal: ctl.signal });
            if (i % 3 === 1) await null;
            if (i % 3 === 2) await rt.sleep(1);
            ctl.abort();
            const r = await pending;
            expect(r.buf).toBe(buf);
            if (r.res < 0) expect(r.error?.code).toBe("ECANCELED");
            const first = r.res > 0 ? r.buf.slice(0, r.res) : new Uint8Array(0);
            const rest = await readExactly(rt, conn, msg.length - first.length);
            const joined = new Uint8Array(msg.length);
            joined.set(first);
            joined.set(rest, first.length);
            expect(compareBytes(joined, msg)).toBe("equal");
            rt.buffers.release(buf);
          }
          await conn.close();
        }));

      it("a read with an already aborted signal completes with -ECANCELED and its buffer", () =>
        withEcho(make, "read", async (rt, server) => {
          const conn = await rt.connect({ host: LOCALHOST, port: server.port });
          const buf = rt.buffers.acquire(16);
          const r = await conn.read(buf, { signal: AbortSignal.abort() });
          expect(r.buf).toBe(buf);
          expect(r.res).toBe(-ECANCELED);
          expect(r.error?.code).toBe("ECANCELED");
          await roundTrip(rt, conn, ascii("still fine"));
          await conn.close();
        }));
    });

    describe("buffer pool", () => {
      it("acquire() views exactly the size asked and never hands out overlapping live buffers", () =>
        withRuntime(make, async (rt) => {
          const held: Uint8Array[] = [];
          for (const size of [1, 63, 64, 65, 1000, 4096, 65536, 1 << 20]) {
            const b = rt.buffers.acquire(size);
            expect(b.length).toBe(size);
            held.push(b);
          }
          for (let i = 0; i < held.length; i++) {
            for (let j = i + 1; j < held.length; j++) expect(overlaps(held[i]!, held[j]!)).toBe(false);
          }
          held[3]!.fill(0xab);
          rt.buffers.release(held[3]!);
          const again = rt.buffers.acquire(65);
          expect(again.length).toBe(65);
          for (const b of held.filter((_, i) => i !== 3)) expect(overlaps(b, again)).toBe(false);
        }));
    });

    describe("timers", () => {
      it("sleep(10) stays on time while the runtime runs full echo load", () =>
        withEcho(make, "read", async (rt, server) => {
          const conns = await connectMany(rt, server.port, 8, 8);
          let stop = false;
          let trips = 0;
          const load = conns.map(async (conn, i) => {
            const msg = ascii(`load ${i}`.padEnd(64, "-"));
            while (!stop) {
              await roundTrip(rt, conn, msg);
              trips++;
            }
          });
          await rt.sleep(20);
          const tripsBefore = trips;
          const late: number[] = [];
          for (let i = 0; i < 25; i++) {
            const t0 = performance.now();
            await rt.sleep(10);
            late.push(performance.now() - t0 - 10);
          }
          const tripsDuring = trips - tripsBefore;
          stop = true;
          await Promise.all(load);
          await Promise.all(conns.map((c) => c.close()));
          late.sort((a, b) => a - b);
          // Design target < 1 ms. Measured worst of 5 runs, 2026-12-06 (2 vCPU,
          // other benchmarks running): p50 0.57 ms, p90 6.8 ms (uring);
          // p50 0.36 ms, p90 2.7 ms (epoll).
          expect(percentile(late, 0.5)).toBeLessThan(3);
          expect(percentile(late, 0.9)).toBeLessThan(25);
          expect(late[0]!).toBeGreaterThan(-2); // never meaningfully early
          expect(tripsDuring).toBeGreaterThan(100); // the load really ran meanwhile
        }), 20_000);

      it("timeout(ms, op) aborts a read that never completes and returns its buffer", () =>
        withEcho(make, "read", async (rt, server) => {
          const conn = await rt.connect({ host: LOCALHOST, port: server.port });
          const buf = rt.buffers.acquire(128);
          const t0 = performance.now();
          const r = await rt.timeout(50, (signal) => conn.read(buf, { signal }));
          const took = performance.now() - t0;
          expect(r.buf).toBe(buf);
          expect(r.res).toBe(-ECANCELED);
          expect(r.error?.code).toBe("ECANCELED");
          expect(took).toBeGreaterThan(40);
          // Measured 50.3-59.4 ms over 5 runs per driver, 2026-12-06.
          expect(took).toBeLessThan(100);
          await roundTrip(rt, conn, ascii("after the timeout"));
          await conn.close();
        }));

      it("timeout(ms, op) returns op's value when it finishes first", () =>
        withRuntime(make, async (rt) => {
          let sawAbort = false;
          const v = await rt.timeout(1000, async (signal) => {
            await rt.sleep(5, { signal });
            sawAbort = signal.aborted;
            return 42;
          });
          expect(v).toBe(42);
          expect(sawAbort).toBe(false);
        }));

      it("sleep aborted by a signal rejects with an AbortError (ECANCELED)", () =>
        withRuntime(make, async (rt) => {
          const ctl = new AbortController();
          const t0 = performance.now();
          const p = rt.sleep(10_000, { signal: ctl.signal });
          setTimeout(() => ctl.abort(), 5);
          const err = await p.then(
            () => null,
            (e: unknown) => e as { name?: string; code?: string },
          );
          expect(err?.name).toBe("AbortError");
          expect(err?.code).toBe("ECANCELED");
          // Aborted after 5 ms: measured 5.2-9.4 ms over 5 runs per driver, 2026-12-06.
          expect(performance.now() - t0).toBeLessThan(40);
          const early = await rt.sleep(10, { signal: AbortSignal.abort() }).then(
            () => null,
            (e: unknown) => e as { name?: string },
          );
          expect(early?.name).toBe("AbortError");
        }));

      it("defer(fn) runs fn once, after the current synchronous code", () =>
        withRuntime(make, async (rt) => {
          let runs = 0;
          rt.defer(() => runs++);
          expect(runs).toBe(0);
          await rt.sleep(5);
          expect(runs).toBe(1);
        }));
    });

    describe("errors", () => {
      it("connect to a closed port fails with ECONNREFUSED from connect", () =>
        withRuntime(make, async (rt) => {
          const port = await closedPort(rt);
          const err = await rt.connect({ host: LOCALHOST, port }).then(
            () => null,
            (e: unknown) => e as { name?: string; code?: string; syscall?: string; errno?: number; message?: string },
          );
          expect(err?.code).toBe("ECONNREFUSED");
          expect(err?.syscall).toBe("connect");
          expect(err?.errno).toBe(Errno.ECONNREFUSED);
          expect(err?.message).toContain("ECONNREFUSED");
        }));

      it("connect with an aborted signal rejects with an AbortError (ECANCELED)", () =>
        withRuntime(make, async (rt) => {
          const l = await rt.listen({ host: LOCALHOST, port: 0 });
          const err = await rt.connect({ host: LOCALHOST, port: l.port, signal: AbortSignal.abort() }).then(
            () => null,
            (e: unknown) => e as { name?: string; code?: string; syscall?: string },
          );
          expect(err?.name).toBe("AbortError");
          expect(err?.code).toBe("ECANCELED");
          await l.close();
        }));

      it("listen on a port in use with reusePort:false fails with EADDRINUSE", () =>
        withRuntime(make, async (rt) => {
          const first = await rt.listen({ host: LOCALHOST, port: 0, reusePort: false });
          const err = await rt.listen({ host: LOCALHOST, port: first.port, reusePort: false }).then(
            () => null,
            (e: unknown) => e as { code?: string },
          );
          expect(err?.code).toBe("EADDRINUSE");
          await first.close();
          const shared = await rt.listen({ host: LOCALHOST, port: 0, reusePort: true });
          const exclusive = await rt.listen({ host: LOCALHOST, port: shared.port, reusePort: false }).then(
            () => null,
            (e: unknown) => e as { code?: string },
          );
          expect(exclusive?.code).toBe("EADDRINUSE");
          await shared.close();
        }));

      it("a listener is exclusive by default: a second one on its port fails with EADDRINUSE, even one asking to share", () =>
        withRuntime(make, async (rt) => {
          const first = await rt.listen({ host: LOCALHOST, port: 0 });
          const codes = await Promise.all(
            [{}, { reusePort: true }].map((extra) =>
              rt.listen({ host: LOCALHOST, port: first.port, ...extra }).then(
                async (l) => {
                  await l.close();
                  return "listening";
                },
                (e: unknown) => (e as { code?: string }).code,
              ),
            ),
          );
          expect(codes).toEqual(["EADDRINUSE", "EADDRINUSE"]);
          await first.close();
        }));

      it("two listeners with reusePort: true share one port", () =>
        withRuntime(make, async (rt) => {
          const a = await rt.listen({ host: LOCALHOST, port: 0, reusePort: true });
          const b = await rt.listen({ host: LOCALHOST, port: a.port, reusePort: true });
          expect(b.port).toBe(a.port);
          await a.close();
          const accepted = b.accept();
          const conn = await rt.connect({ host: LOCALHOST, port: a.port });
          const peer = await accepted;
          await conn.close();
          await peer.close();
          await b.close();
        }));
    });

    describe("close", () => {
      it("listener.close() rejects a pending accept with ECANCELED (AbortError)", () =>
        withRuntime(make, async (rt) => {
          const l = await rt.listen({ host: LOCALHOST, port: 0 });
          const pending = l.accept().then(
            () => null,
            (e: unknown) => e as { name?: string; code?: string },
          );
          await rt.sleep(5);
          await l.close();
          const err = await pending;
          expect(err?.code).toBe("ECANCELED");
          expect(err?.name).toBe("AbortError");
        }));

      it("accept() with a signal rejects with ECANCELED when aborted, and the listener keeps working", () =>
        withRuntime(make, async (rt) => {
          const l = await rt.listen({ host: LOCALHOST, port: 0 });
          const ctl = new AbortController();
          const pending = l.accept({ signal: ctl.signal }).then(
            () => null,
            (e: unknown) => e as { name?: string; code?: string },
          );
          await rt.sleep(5);
          ctl.abort();
          const err = await pending;
          expect(err?.code).toBe("ECANCELED");
          expect(err?.name).toBe("AbortError");
          const next = l.accept();
          const conn = await rt.connect({ host: LOCALHOST, port: l.port });
          const peer = await next;
          expect(peer.closed).toBe(false);
          await conn.close();
          await peer.close();
          await l.close();
        }));

      it("runtime.close() closes its sockets and cancels pending reads and accepts", async () => {
        await withRuntime(make, async (rt) => {
          // Warm up lazily created process-wide state before counting.
          const s = await startEchoServer(rt);
          await roundTrip(rt, await rt.connect({ host: LOCALHOST, port: s.port }), ascii("warm"));
          await s.stop();
        });
        await Bun.sleep(20);
        const before = openFdCount();
        const rt = await make();
        const server = await startEchoServer(rt);
        const conns = await connectMany(rt, server.port, 20, 20);
        await Promise.all(conns.map((c, i) => roundTrip(rt, c, ascii(`conn ${i}`))));
        const idle = await rt.listen({ host: LOCALHOST, port: 0 });
        const accept = idle.accept().then(
          () => null,
          (e: unknown) => e as { code?: string },
        );
        const buf = rt.buffers.acquire(64);
        const read = conns[0]!.read(buf);
        expect(openFdCount()).toBeGreaterThanOrEqual(before + 40);
        await rt.close();
        const r = await read;
        expect(r.buf).toBe(buf);
        expect(r.res).toBeLessThan(0);
        expect(typeof (await accept)?.code).toBe("string");
        expect(conns.every((c) => c.closed)).toBe(true);
        expect(await waitForFdCount(before, 3000)).toBe(before);
      }, 15_000);
    });

    it("stats() counts submitted and completed operations", () =>
      withEcho(make, "read", async (rt, server) => {
        const s0 = rt.stats();
        const conn = await rt.connect({ host: LOCALHOST, port: server.port });
        for (let i = 0; i < 10; i++) await roundTrip(rt, conn, ascii(`stat ${i}`));
        const s1 = rt.stats();
        expect(s1.submitted - s0.submitted).toBeGreaterThanOrEqual(20);
        expect(s1.completed - s0.completed).toBeGreaterThanOrEqual(20);
        expect(s1.steps).toBeGreaterThan(s0.steps);
        expect(s1.completed).toBeLessThanOrEqual(s1.submitted);
        if (rt.driver === "epoll") {
          // Bun's networking does not count its syscalls: -1, as types.ts documents.
          expect([s0.enters, s1.enters]).toEqual([-1, -1]);
        } else {
          // Each io_uring_enter carries or reaps work: never more enters than
          // ops submitted. Measured 30 enters for these 10 sequential round
          // trips (client and server on this ring), 5 runs, 2026-12-06.
          const enters = s1.enters - s0.enters;
          expect(enters).toBeGreaterThan(0);
          expect(enters).toBeLessThanOrEqual(s1.submitted - s0.submitted);
          expect(enters).toBeLessThanOrEqual(5 * 10);
        }
        await conn.close();
      }));

    const serverDrivers: [DriverName, string | null][] = [
      ["epoll", null],
      ["uring", uring.ok ? null : uring.reason],
    ];
    for (const [serverDriver, cannot] of serverDrivers) {
      const off = skipped || cannot !== null;
      const wit = (label: string, fn: () => Promise<void>, timeoutMs = 10_000) => test.skipIf(off)(label, fn, timeoutMs);
      describe(skipTitle(`peer in another Worker (${serverDriver} server)`, cannot), () => {
        wit("connect, then small messages round-trip in order", async () => {
          const accepted = await withWorkerEcho(serverDriver, "read", (port) =>
            withRuntime(make, async (rt) => {
              const conn = await rt.connect({ host: LOCALHOST, port });
              expect(conn.remote?.port).toBe(port);
              for (let i = 0; i < 50; i++) await roundTrip(rt, conn, ascii(`message ${i} of fifty`));
              await conn.close();
            }),
          );
          expect(accepted).toBe(1);
        });

        wit("1 MiB payloads both ways and small reads of a 1000-byte message", async () => {
          await withWorkerEcho(serverDriver, "read", (port) =>
            withRuntime(make, async (rt) => {
              const conn = await rt.connect({ host: LOCALHOST, port });
              const payload = fillPattern(rt.buffers.acquire(1 << 20), 11);
              const expected = payload.slice();
              const [w, back] = await Promise.all([conn.writeAll(payload), readExactly(rt, conn, 1 << 20)]);
              expect(w).toEqual({ res: 1 << 20, buf: payload, error: null });
              expect(compareBytes(back, expected)).toBe("equal");
              rt.buffers.release(payload);
              const msg = fillPattern(new Uint8Array(1000), 12);
              expect((await conn.writeAll(msg)).res).toBe(1000);
              expect(compareBytes(await readExactly(rt, conn, 1000, 7), msg)).toBe("equal");
              await conn.close();
            }),
          );
        }, 20_000);

        wit("stream() echo on the server side, 1 MiB and a small message", async () => {
          await withWorkerEcho(serverDriver, "stream", (port) =>
            withRuntime(make, async (rt) => {
              const conn = await rt.connect({ host: LOCALHOST, port });
              const small = ascii("hello from the other thread");
              expect((await conn.writeAll(small)).res).toBe(small.length);
              expect(compareBytes(await readExactly(rt, conn, small.length), small)).toBe("equal");
              const payload = fillPattern(new Uint8Array(1 << 20), 13);
              const received = collectStream(conn, payload.length);
              expect((await conn.writeAll(payload)).res).toBe(payload.length);
              expect(compareBytes(await received, payload)).toBe("equal");
              await conn.close();
            }),
          );
        }, 20_000);

        wit("100 concurrent connections each do a round trip", async () => {
          const accepted = await withWorkerEcho(serverDriver, "read", (port) =>
            withRuntime(make, async (rt) => {
              const conns = await connectMany(rt, port, 100, 100);
              await Promise.all(conns.map((c, i) => roundTrip(rt, c, ascii(`connection #${i} across threads`))));
              await Promise.all(conns.map((c) => c.close()));
            }),
          );
          expect(accepted).toBe(100);
        });

        wit("sequential round trips: each completion wakes the sleeping loops on time", async () => {
          await withWorkerEcho(serverDriver, "read", (port) =>
            withRuntime(make, async (rt) => {
              const conn = await rt.connect({ host: LOCALHOST, port });
              const msg = ascii("x".repeat(64));
              for (let i = 0; i < 20; i++) await roundTrip(rt, conn, msg);
              const rtt: number[] = [];
              for (let i = 0; i < 200; i++) {
                const t0 = performance.now();
                await roundTrip(rt, conn, msg);
                rtt.push(performance.now() - t0);
              }
              rtt.sort((a, b) => a - b);
              // A missed wake-up costs a whole timer tick (docs/RUNTIME.md, "Waking up": ~16 ms).
              // Measured worst of 3 runs x 4 pairs, 2026-12-06, 2 vCPU under
              // other benchmarks: p50 0.074 ms, p90 0.122 ms.
              expect(percentile(rtt, 0.5)).toBeLessThan(0.5);
              expect(percentile(rtt, 0.9)).toBeLessThan(2);
              await conn.close();
            }),
          );
        });
      });
    }
  });
}
