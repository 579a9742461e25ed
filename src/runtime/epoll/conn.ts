/**
 * One TCP connection of the epoll driver over a Bun socket. Owns the
 * connection's read queue (bytes that arrived before a read asked for them,
 * bounded by pausing the socket), its pending reads, its FIFO of writes (so
 * concurrent write/writeAll calls never interleave their bytes) and the
 * streaming sink. Bun's socket callbacks arrive through socket-handlers.ts;
 * this file never creates or accepts sockets.
 *
 * Cancel semantics this driver promises: bytes are copied into a read's
 * buffer only when the read completes, so a cancelled read never consumed
 * anything and every byte stays queued for the next read.
 */
import type { Socket } from "bun";
import { Errno, IoError } from "../errors.ts";
import type { BufResult, Conn, ConnSink, OpOptions, SendDone, SocketAddress } from "../types.ts";
import { TlsError, type TlsSide } from "../tls-errors.ts";
import { ioErrorFromBun } from "./bun-error.ts";
import type { OpCounters } from "./op-counters.ts";

/** Queued unread bytes above which the socket stops reading. */
const HIGH_WATER = 256 * 1024;
/** Queued unread bytes below which a socket paused for the queue reads again. */
const LOW_WATER = 64 * 1024;
/** How long close() waits for Bun's close callback before forcing the socket shut. */
const CLOSE_GRACE_MS = 1000;

export type EpollSocket = Socket<EpollConn | undefined>;

interface PendingRead {
  readonly buf: Uint8Array;
  readonly resolve: (r: BufResult) => void;
  readonly signal: AbortSignal | null;
  onAbort: (() => void) | null;
}

interface PendingWrite {
  readonly buf: Uint8Array;
  /** writeAll: keep going until every byte is sent. */
  readonly all: boolean;
  sent: number;
  readonly resolve: (r: BufResult) => void;
  readonly signal: AbortSignal | null;
  onAbort: (() => void) | null;
}

function done(buf: Uint8Array, res: number): BufResult {
  return { res, buf, error: null };
}

function failed(buf: Uint8Array, error: IoError): BufResult {
  return { res: -error.errno, buf, error };
}

function cancelled(buf: Uint8Array, syscall: string): BufResult {
  return failed(buf, new IoError(Errno.ECANCELED, syscall, "operation aborted"));
}

export class EpollConn implements Conn {
  readonly id: number;
  remote: SocketAddress | null = null;
  private socket: EpollSocket | null = null;
  private readonly counters: OpCounters;
  private readonly onGone: (conn: EpollConn) => void;

  /** Unread chunks; Bun hands each data callback a fresh buffer, so they are kept without copying. */
  private readonly queue: Uint8Array[] = [];
  private headOffset = 0;
  queuedBytes = 0;
  private eof = false;
  private failure: IoError | null = null;
  private localClosed = false;
  private socketClosed = false;

  private readonly reads: PendingRead[] = [];
  private readonly writes: PendingWrite[] = [];

  private sink: ConnSink | null = null;
  private sinkEnded = false;
  private userPaused = false;
  private queuePaused = false;
  private socketPaused = false;

  private closeWaiters: (() => void)[] = [];
  /** Told once when the socket closes (a TLS connect waiting for its handshake). */
  private closeWatch: (() => void) | null = null;
  private graceTimer: ReturnType<typeof setTimeout> | null = null;

  constructor(id: number, counters: OpCounters, onGone: (conn: EpollConn) => void) {
    this.id = id;
    this.counters = counters;
    this.onGone = onGone;
  }

  get closed(): boolean {
    return this.localClosed || this.socketClosed;
  }

  /** Binds the Bun socket once it is open (called from the open callback). */
  attach(socket: EpollSocket, noDelay: boolean): void {
    this.socket = socket;
    socket.data = this;
    this.remote = { address: socket.remoteAddress, port: socket.remotePort };
    socket.setNoDelay(noDelay);
  }

  // ---- reads -------------------------------------------------------------

  read<B extends Uint8Array>(buf: B, opts?: OpOptions): Promise<BufResult<B>> {
    this.counters.submitted++;
    const signal = opts?.signal ?? null;
    const now = this.readNow(buf, signal);
    if (now) {
      this.counters.completed++;
      return Promise.resolve(now as BufResult<B>);
    }
    return new Promise<BufResult<B>>((resolve) => {
      const op: PendingRead = { buf, resolve: resolve as unknown as (r: BufResult) => void, signal, onAbort: null };
      if (signal) {
        op.onAbort = () => this.abortRead(op);
        signal.addEventListener("abort", op.onAbort, { once: true });
      }
      this.reads.push(op);
    });
  }

  /** The result of a read that can complete right away, or null if it must wait. */
  private readNow(buf: Uint8Array, signal: AbortSignal | null): BufResult | null {
    if (this.sink) return failed(buf, new IoError(Errno.EINVAL, "recv", "read() while stream() is active"));
    if (signal?.aborted) return cancelled(buf, "recv");
    if (this.reads.length > 0) return null; // reads complete in order
    if (this.queuedBytes > 0) {
      const res = done(buf, this.copyOut(buf));
      this.relieveBackpressure();
      return res;
    }
    if (buf.length === 0) return done(buf, 0);
    return this.endResult(buf);
  }

  /** What a read gets once the queue is empty: null while the stream is open. */
  private endResult(buf: Uint8Array): BufResult | null {
    if (this.localClosed) return failed(buf, new IoError(Errno.EBADF, "recv", "connection closed locally"));
    if (this.failure) return failed(buf, this.failure);
    if (this.eof || this.socketClosed) return done(buf, 0);
    return null;
  }

  private abortRead(op: PendingRead): void {
    const i = this.reads.indexOf(op);
    if (i < 0) return;
    this.reads.splice(i, 1);
    this.finishRead(op, cancelled(op.buf, "recv"));
  }

  private finishRead(op: PendingRead, result: BufResult): void {
    if (op.onAbort) op.signal?.removeEventListener("abort", op.onAbort);
    this.counters.completed++;
    op.resolve(result);
  }

  private serveReads(): void {
    while (this.reads.length > 0) {
      const op = this.reads[0]!;
      let result: BufResult | null;
      if (this.queuedBytes > 0) result = done(op.buf, this.copyOut(op.buf));
      else if (op.buf.length === 0) result = done(op.buf, 0);
      else result = this.endResult(op.buf);
      if (!result) break;
      this.reads.shift();
      this.finishRead(op, result);
    }
    this.relieveBackpressure();
  }

  private copyOut(buf: Uint8Array): number {
    let n = 0;
    while (n < buf.length && this.queue.length > 0) {
      const chunk = this.queue[0]!;
      const avail = chunk.length - this.headOffset;
      const take = Math.min(avail, buf.length - n);
      buf.set(chunk.subarray(this.headOffset, this.headOffset + take), n);
      n += take;
      if (take === avail) {
        this.queue.shift();
        this.headOffset = 0;
      } else {
        this.headOffset += take;
      }
    }
    this.queuedBytes -= n;
    return n;
  }

  // ---- streaming ---------------------------------------------------------

  stream(sink: ConnSink): void {
    if (this.sink) throw new IoError(Errno.EBUSY, "recv", "stream() is already active on this connection");
    if (this.reads.length > 0) throw new IoError(Errno.EBUSY, "recv", "stream() while a read() is pending");
    this.counters.submitted++;
    this.sink = sink;
    // Queued bytes (and an end already seen) go out on the next microtask, so
    // the caller finishes its own setup before the first sink.data call.
    queueMicrotask(() => this.flushToSink());
  }

  pause(): void {
    this.userPaused = true;
    this.applyPause();
  }

  resume(): void {
    this.userPaused = false;
    this.applyPause();
    if (this.sink && this.queue.length > 0) queueMicrotask(() => this.flushToSink());
  }

  private flushToSink(): void {
    while (this.sink && !this.sinkEnded && !this.userPaused && this.queue.length > 0) {
      const chunk = this.queue.shift()!;
      const part = this.headOffset > 0 ? chunk.subarray(this.headOffset) : chunk;
      this.headOffset = 0;
      this.queuedBytes -= part.length;
      this.sink.data(part);
    }
    this.maybeEndSink();
    this.relieveBackpressure();
  }

  private maybeEndSink(): void {
    const sink = this.sink;
    if (!sink || this.sinkEnded || this.queue.length > 0) return;
    let error: IoError | null;
    if (this.localClosed) error = new IoError(Errno.ECANCELED, "recv", "connection closed locally");
    else if (this.failure) error = this.failure;
    else if (this.eof || this.socketClosed) error = null;
    else return;
    this.sinkEnded = true;
    this.counters.completed++;
    sink.end(error);
  }

  private relieveBackpressure(): void {
    if (this.queuePaused && this.queuedBytes <= LOW_WATER) {
      this.queuePaused = false;
      this.applyPause();
    }
  }

  private applyPause(): void {
    const want = this.userPaused || this.queuePaused;
    const socket = this.socket;
    if (want === this.socketPaused || !socket || this.socketClosed) return;
    this.socketPaused = want;
    if (want) socket.pause();
    else socket.resume();
  }

  // ---- writes ------------------------------------------------------------

  write<B extends Uint8Array>(buf: B, opts?: OpOptions): Promise<BufResult<B>> {
    return this.submitWrite(buf, false, opts);
  }

  writeAll<B extends Uint8Array>(buf: B, opts?: OpOptions): Promise<BufResult<B>> {
    return this.submitWrite(buf, true, opts);
  }

  private submitWrite<B extends Uint8Array>(buf: B, all: boolean, opts?: OpOptions): Promise<BufResult<B>> {
    this.counters.submitted++;
    const signal = opts?.signal ?? null;
    let now: BufResult | null = null;
    if (signal?.aborted) now = cancelled(buf, "send");
    else if (this.closed) now = failed(buf, this.writeError());
    else if (buf.length === 0 && this.writes.length === 0) now = done(buf, 0);
    if (now) {
      this.counters.completed++;
      return Promise.resolve(now as BufResult<B>);
    }
    return new Promise<BufResult<B>>((resolve) => {
      const op: PendingWrite = { buf, all, sent: 0, resolve: resolve as unknown as (r: BufResult) => void, signal, onAbort: null };
      if (signal) {
        op.onAbort = () => this.abortWrite(op);
        signal.addEventListener("abort", op.onAbort, { once: true });
      }
      this.writes.push(op);
      if (this.writes.length === 1) this.pumpWrites();
    });
  }

  /** writeAll through a callback: a socket that takes every byte at once answers before send returns, with nothing allocated. */
  send(buf: Uint8Array, done: SendDone): void {
    this.counters.submitted++;
    let sent = 0;
    const socket = this.socket;
    if (this.writes.length === 0 && socket !== null && !this.closed && buf.length > 0) {
      sent = socket.write(buf);
      if (sent === buf.length) {
        this.counters.completed++;
        return done(sent, null);
      }
      // A failed write is retried by pumpWrites, which fails the queue.
      if (sent < 0) sent = 0;
    }
    // The socket is busy or short: queue it like a writeAll (only this slower path allocates).
    this.writes.push({ buf, all: true, sent, resolve: (r) => done(r.res, r.error), signal: null, onAbort: null });
    if (this.writes.length === 1) this.pumpWrites();
  }

  /** Sends from the head of the write FIFO until the kernel buffer is full; drain resumes it. */
  private pumpWrites(): void {
    while (this.writes.length > 0) {
      const op = this.writes[0]!;
      const socket = this.socket;
      if (!socket || this.closed) {
        this.failWrites(this.writeError());
        return;
      }
      const rest = op.sent === 0 ? op.buf : op.buf.subarray(op.sent);
      const n = rest.length === 0 ? 0 : socket.write(rest);
      if (n < 0) {
        this.failWrites(this.writeError());
        return;
      }
      op.sent += n;
      if (op.sent === op.buf.length || (!op.all && n > 0)) {
        this.writes.shift();
        this.finishWrite(op, done(op.buf, op.all ? op.buf.length : n));
        continue;
      }
      return;
    }
  }

  private writeError(): IoError {
    if (this.localClosed) return new IoError(Errno.EBADF, "send", "connection closed locally");
    if (this.failure) return new IoError(this.failure.errno, "send", "connection failed");
    return new IoError(Errno.EPIPE, "send", "the peer closed the connection");
  }

  private failWrites(error: IoError): void {
    for (const op of this.writes.splice(0)) this.finishWrite(op, failed(op.buf, error));
  }

  private abortWrite(op: PendingWrite): void {
    const i = this.writes.indexOf(op);
    if (i < 0) return;
    this.writes.splice(i, 1);
    this.finishWrite(op, cancelled(op.buf, "send"));
    if (i === 0) this.pumpWrites();
  }

  private finishWrite(op: PendingWrite, result: BufResult): void {
    if (op.onAbort) op.signal?.removeEventListener("abort", op.onAbort);
    this.counters.completed++;
    op.resolve(result);
  }

  setNoDelay(on: boolean): void {
    if (this.socket && !this.socketClosed) this.socket.setNoDelay(on);
  }

  // ---- Bun socket events -------------------------------------------------

  onData(chunk: Uint8Array): void {
    this.counters.steps++;
    if (this.localClosed) return;
    if (this.sink && !this.sinkEnded && !this.userPaused && this.queue.length === 0) {
      this.sink.data(chunk);
      return;
    }
    this.queue.push(chunk);
    this.queuedBytes += chunk.length;
    if (this.sink) {
      this.flushToSink();
      if (this.queuedBytes > 0) this.sink?.queued?.();
    } else this.serveReads();
    if (this.queuedBytes > HIGH_WATER && !this.queuePaused) {
      this.queuePaused = true;
      this.applyPause();
    }
  }

  onDrain(): void {
    this.counters.steps++;
    this.pumpWrites();
  }

  onEnd(): void {
    this.counters.steps++;
    this.eof = true;
    this.afterInputEnded();
  }

  /** A TLS session failed (a fatal alert, a bad record): the connection's failure, before Bun closes it. */
  onTlsError(side: TlsSide, error: Error): void {
    this.counters.steps++;
    if (this.failure || this.localClosed) return;
    const peer = this.remote ? `${this.remote.address}:${this.remote.port}` : "the peer";
    this.failure = new TlsError(side, peer, error, "session");
  }

  /** Calls fn once, when the socket closes (at once if it already has). */
  watchClose(fn: () => void): void {
    if (this.socketClosed) fn();
    else this.closeWatch = fn;
  }

  onClose(error: unknown): void {
    this.counters.steps++;
    if (this.socketClosed) return;
    this.socketClosed = true;
    if (error && !this.failure && !this.localClosed) {
      const peer = this.remote ? `${this.remote.address}:${this.remote.port}` : undefined;
      this.failure = ioErrorFromBun(error, "recv", peer);
    }
    this.afterInputEnded();
    this.failWrites(this.writeError());
    if (this.graceTimer) clearTimeout(this.graceTimer);
    this.graceTimer = null;
    this.onGone(this);
    for (const wake of this.closeWaiters.splice(0)) wake();
    const watch = this.closeWatch;
    this.closeWatch = null;
    watch?.();
  }

  private afterInputEnded(): void {
    if (this.sink) this.flushToSink();
    else this.serveReads();
  }

  // ---- close -------------------------------------------------------------

  close(): Promise<void> {
    if (!this.localClosed) {
      this.localClosed = true;
      for (const op of this.reads.splice(0)) this.finishRead(op, cancelled(op.buf, "recv"));
      for (const op of this.writes.splice(0)) this.finishWrite(op, cancelled(op.buf, "send"));
      this.queue.length = 0;
      this.headOffset = 0;
      this.queuedBytes = 0;
      this.maybeEndSink();
      if (this.socket && !this.socketClosed) this.socket.end();
      else if (!this.socket) this.onClose(null);
    }
    if (this.socketClosed) return Promise.resolve();
    return new Promise<void>((resolve) => {
      this.closeWaiters.push(resolve);
      this.graceTimer ??= setTimeout(() => {
        this.socket?.terminate();
        this.onClose(null);
      }, CLOSE_GRACE_MS);
    });
  }
}
