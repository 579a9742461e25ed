/**
 * The epoll fallback driver: the Runtime API of ../types.ts over Bun.listen
 * and Bun.connect, whose sockets Bun drives with its own epoll loop. Used
 * where io_uring is blocked (seccomp, kernel.io_uring_disabled). Owns the
 * runtime's connections and listeners so close() can shut them all; the
 * per-socket behaviour lives in conn.ts and listener.ts.
 */
import type { TCPSocketListenOptions } from "bun";
import { AcceptBackoff, AcceptCounters } from "../accept-backoff.ts";
import { Errno, IoError } from "../errors.ts";
import type { Conn, ConnectOptions, Listener, ListenOptions, OpOptions, Runtime, RuntimeStats } from "../types.ts";
import { ioErrorFromBun, listenErrorFromBun } from "./bun-error.ts";
import { PowerOfTwoBufferPool } from "./buffer-pool.ts";
import { EpollConn, type EpollSocket } from "./conn.ts";
import { EpollListenSocket } from "./listen-socket.ts";
import { EpollListener } from "./listener.ts";
import { OpCounters } from "./op-counters.ts";
import { checkClientTls, checkServerTls } from "../tls-config.ts";
import { TlsError } from "../tls-errors.ts";
import { socketHandlers, type TlsHandlers } from "./socket-handlers.ts";
import { TlsAcceptGate } from "./tls-accept.ts";
import { bunClientTls, bunServerTls } from "./tls-options.ts";
import { EpollTimers } from "./timers.ts";

/** Bun.listen accepts reusePort at run time; its type declarations lack it. */
type ListenWithReusePort = TCPSocketListenOptions<EpollConn | undefined> & { reusePort?: boolean };

class EpollRuntime implements Runtime {
  readonly driver = "epoll" as const;
  readonly buffers = new PowerOfTwoBufferPool();
  private readonly counters = new OpCounters();
  private readonly acceptCounters = new AcceptCounters();
  private readonly timers = new EpollTimers(this.counters);
  private readonly conns = new Set<EpollConn>();
  private readonly listeners = new Set<EpollListener>();
  private nextConnId = 1;
  private closed = false;

  private readonly forgetConn = (conn: EpollConn) => {
    this.conns.delete(conn);
  };
  private readonly forgetListener = (l: EpollListener) => {
    this.listeners.delete(l);
  };

  private newConn(): EpollConn {
    const conn = new EpollConn(this.nextConnId++, this.counters, this.forgetConn);
    this.conns.add(conn);
    return conn;
  }

  async listen(opts: ListenOptions): Promise<Listener> {
    const host = opts.host ?? "127.0.0.1";
    this.ensureOpen("listen");
    if (opts.tls !== undefined) checkServerTls(opts.tls);
    let listener: EpollListener | null = null;
    let gate: TlsAcceptGate | null = null;
    const deliver = (conn: EpollConn) => {
      if (listener) listener.onAccepted(conn);
      else void conn.close();
    };
    const tls: TlsHandlers | null =
      opts.tls === undefined
        ? null
        : { side: "server", handshake: (socket, ok, err) => socket.data && gate?.handshake(socket.data, ok, err) };
    const options: ListenWithReusePort = {
      hostname: host,
      port: opts.port,
      reusePort: opts.reusePort ?? false,
      allowHalfOpen: true,
      socket: socketHandlers((socket: EpollSocket) => {
        const conn = this.newConn();
        conn.attach(socket, true);
        if (gate === null) return deliver(conn);
        const g = gate;
        g.opened(conn);
        conn.watchClose(() => g.closed(conn));
      }, tls),
    };
    if (opts.tls !== undefined) options.tls = bunServerTls(opts.tls);
    let bun;
    try {
      bun = Bun.listen<EpollConn | undefined>(options);
    } catch (e) {
      throw listenErrorFromBun(e, `${host}:${opts.port}`);
    }
    const where = `${bun.hostname}:${bun.port}`;
    if (opts.tls !== undefined) gate = new TlsAcceptGate(where, opts.tls, deliver);
    const bound: ListenWithReusePort = { ...options, port: bun.port };
    const backoff = new AcceptBackoff(`ringrpc epoll: accept on ${where}`, this.acceptCounters);
    const socket = new EpollListenSocket(bun, () => Bun.listen<EpollConn | undefined>(bound), backoff, where);
    listener = new EpollListener(socket, bun.hostname, bun.port, this.counters, this.forgetListener, gate);
    this.listeners.add(listener);
    return listener;
  }

  async connect(opts: ConnectOptions): Promise<Conn> {
    this.ensureOpen("connect");
    const signal = opts.signal ?? null;
    const where = `${opts.host}:${opts.port}`;
    if (signal?.aborted) throw new IoError(Errno.ECANCELED, "connect", `connect to ${where} aborted`);
    if (opts.tls !== undefined) checkClientTls(opts.tls);
    this.counters.submitted++;
    const conn = this.newConn();
    const noDelay = opts.noDelay ?? true;
    // With TLS, Bun resolves the connect at the TCP connect; the connection is ready only once the handshake succeeded.
    let handshook: Promise<void> | null = null;
    let tls: TlsHandlers | null = null;
    if (opts.tls !== undefined) {
      let settle: (err: TlsError | null) => void = () => {};
      handshook = new Promise<void>((resolve, reject) => {
        settle = (err) => (err === null ? resolve() : reject(err));
      });
      tls = {
        side: "client",
        handshake: (_socket, ok, err) => settle(ok && err === null ? null : new TlsError("client", where, err ?? new Error("handshake failed"))),
      };
      conn.watchClose(() => settle(new TlsError("client", where, Object.assign(new Error("closed"), { code: "ECONNRESET" }))));
      // Awaited through `ready` below; this only keeps a rejection that comes after a failed TCP connect from counting as unhandled.
      handshook.catch(() => undefined);
    }
    const connecting = Bun.connect<EpollConn | undefined>({
      hostname: opts.host,
      port: opts.port,
      allowHalfOpen: true,
      data: conn,
      socket: socketHandlers((socket: EpollSocket) => conn.attach(socket, noDelay), tls),
      ...(opts.tls === undefined ? {} : { tls: bunClientTls(opts.tls, opts.host) }),
    });
    try {
      const ready: Promise<unknown> = handshook === null ? connecting : connecting.then(() => handshook);
      await abortable(ready, signal, () => new IoError(Errno.ECANCELED, "connect", `connect to ${where} aborted`));
    } catch (e) {
      this.counters.completed++;
      void conn.close();
      // A connect that completes after the abort still opened a socket: close it.
      connecting.then((socket) => socket.end(), () => {});
      throw ioErrorFromBun(e, "connect", where);
    }
    this.counters.completed++;
    if (this.closed) {
      await conn.close();
      throw new IoError(Errno.ECANCELED, "connect", "the runtime was closed");
    }
    return conn;
  }

  sleep(ms: number, opts?: OpOptions): Promise<void> {
    if (this.closed) return Promise.reject(new IoError(Errno.ECANCELED, "timeout", "the runtime is closed"));
    return this.timers.sleep(ms, opts?.signal ?? null);
  }

  timeout<T>(ms: number, op: (signal: AbortSignal) => Promise<T>): Promise<T> {
    return this.timers.timeout(ms, op);
  }

  defer(fn: () => void): void {
    // Bun writes synchronously, so "before the next submission" is simply soon.
    queueMicrotask(fn);
  }

  stats(): RuntimeStats {
    return {
      ...this.counters.snapshot(), accept: this.acceptCounters.snapshot(),
      buffers: { arenaBytes: 0, inUseBytes: this.buffers.inUseBytes, fallbacks: 0, recvNoBuffers: 0, recvBuffers: 0, recvIncremental: false },
    };
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.timers.cancelAll();
    const listeners = [...this.listeners].map((l) => l.close());
    const conns = [...this.conns].map((c) => c.close());
    await Promise.all([...listeners, ...conns]);
    this.buffers.clear();
  }

  private ensureOpen(syscall: string): void {
    if (this.closed) throw new IoError(Errno.ECANCELED, syscall, "the runtime is closed");
  }
}

/** Settles like `p`, or rejects with makeError() as soon as signal aborts. */
function abortable<T>(p: Promise<T>, signal: AbortSignal | null, makeError: () => Error): Promise<T> {
  if (!signal) return p;
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(makeError());
    signal.addEventListener("abort", onAbort, { once: true });
    p.then(
      (v) => {
        signal.removeEventListener("abort", onAbort);
        resolve(v);
      },
      (e: unknown) => {
        signal.removeEventListener("abort", onAbort);
        reject(e);
      },
    );
  });
}

/** Creates an epoll-driver runtime on the calling thread. */
export function createEpollRuntime(): Runtime {
  return new EpollRuntime();
}
