/**
 * An in-memory connected pair of Conns (stream/write/writeAll/send/close) and a
 * minimal Runtime around them, for RPC tests that need exact control of how
 * bytes are chunked (e.g. one byte per chunk). No sockets involved.
 */
import type { BufResult, Conn, ConnSink, Listener, Runtime, RuntimeStats, SendDone } from "../../../src/runtime/types.ts";

export class MemConn implements Conn {
  readonly queuedBytes = 0;
  private static nextId = 1;
  readonly id = MemConn.nextId++;
  readonly remote = { address: "127.0.0.1", port: 1 };
  closed = false;
  peer: MemConn | null = null;
  /** Splits every write into chunks of at most this many bytes on delivery (0 = whole). */
  chunkBytes = 0;
  private sink: ConnSink | null = null;
  private paused = false;
  private backlog: Uint8Array[] = [];

  read<B extends Uint8Array>(buf: B): Promise<BufResult<B>> {
    return Promise.resolve({ res: -95, buf, error: null as never });
  }

  write<B extends Uint8Array>(buf: B): Promise<BufResult<B>> {
    return this.writeAll(buf);
  }

  writeAll<B extends Uint8Array>(buf: B): Promise<BufResult<B>> {
    const peer = this.peer;
    if (this.closed || peer === null || peer.closed) return Promise.resolve({ res: -32, buf, error: { code: "EPIPE" } as never });
    const copy = buf.slice();
    const step = peer.chunkBytes > 0 ? peer.chunkBytes : copy.length;
    for (let off = 0; off < copy.length; off += step) peer.deliver(copy.subarray(off, off + step));
    return Promise.resolve({ res: buf.length, buf, error: null });
  }

  send(buf: Uint8Array, done: SendDone): void {
    void this.writeAll(buf).then((r) => done(r.res, r.error));
  }

  stream(sink: ConnSink): void {
    this.sink = sink;
    this.flushBacklog();
  }

  pause(): void {
    this.paused = true;
  }

  resume(): void {
    this.paused = false;
    this.flushBacklog();
  }

  setNoDelay(): void {}

  close(): Promise<void> {
    if (this.closed) return Promise.resolve();
    this.closed = true;
    this.sink?.end(null);
    const p = this.peer;
    if (p !== null && !p.closed) queueMicrotask(() => p.remoteClosed());
    return Promise.resolve();
  }

  private remoteClosed(): void {
    if (this.closed) return;
    this.closed = true;
    this.sink?.end(null);
  }

  private deliver(chunk: Uint8Array): void {
    this.backlog.push(chunk);
    queueMicrotask(() => this.flushBacklog());
  }

  private flushBacklog(): void {
    while (this.sink !== null && !this.paused && !this.closed && this.backlog.length > 0) this.sink.data(this.backlog.shift()!);
  }
}

export function memPair(): [MemConn, MemConn] {
  const a = new MemConn();
  const b = new MemConn();
  a.peer = b;
  b.peer = a;
  return [a, b];
}

/** A Runtime whose only real parts are defer, buffers and timers (connect/listen are not supported). */
export function memRuntime(): Runtime {
  const stats: RuntimeStats = { steps: 0, enters: -1, submitted: 0, completed: 0 };
  return {
    driver: "epoll",
    buffers: { acquire: (n) => new Uint8Array(n), release: () => {} },
    listen: () => Promise.reject(new Error("memRuntime has no listen")) as Promise<Listener>,
    connect: () => Promise.reject(new Error("memRuntime has no connect")),
    sleep: (ms) => new Promise((r) => setTimeout(r, ms)),
    timeout: <T>(ms: number, op: (s: AbortSignal) => Promise<T>) => op(AbortSignal.timeout(ms)),
    defer: (fn) => queueMicrotask(fn),
    stats: () => stats,
    close: () => Promise.resolve(),
  };
}
