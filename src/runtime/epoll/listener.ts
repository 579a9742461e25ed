/**
 * A listening socket of the epoll driver over Bun.listen. Owns the queue of
 * accepted connections nobody has taken yet and the queue of accept() calls
 * waiting for one. Bun accepts on its own; accept() only hands out what the
 * open callback queued. Bun fixes the kernel backlog (512), so
 * ListenOptions.backlog is not applied here. The listening socket itself,
 * and its pauses while file descriptors are short, are the
 * EpollListenSocket's (listen-socket.ts); on a TLS listener, connections
 * still in their handshake wait in the TlsAcceptGate (tls-accept.ts).
 */
import { Errno, IoError } from "../errors.ts";
import type { Conn, Listener, OpOptions } from "../types.ts";
import type { EpollConn } from "./conn.ts";
import type { EpollListenSocket } from "./listen-socket.ts";
import type { OpCounters } from "./op-counters.ts";
import type { TlsAcceptGate } from "./tls-accept.ts";

interface PendingAccept {
  readonly resolve: (conn: Conn) => void;
  readonly reject: (err: IoError) => void;
  readonly signal: AbortSignal | null;
  onAbort: (() => void) | null;
}

export class EpollListener implements Listener {
  readonly host: string;
  readonly port: number;
  private readonly socket: EpollListenSocket;
  private readonly counters: OpCounters;
  private readonly onGone: (l: EpollListener) => void;
  private readonly ready: EpollConn[] = [];
  private readonly waiting: PendingAccept[] = [];
  private closed = false;

  constructor(
    socket: EpollListenSocket,
    host: string,
    port: number,
    counters: OpCounters,
    onGone: (l: EpollListener) => void,
    /** A TLS listener's handshakes in progress (null for plain TCP). */
    private readonly tlsGate: TlsAcceptGate | null = null,
  ) {
    this.socket = socket;
    this.host = host;
    this.port = port;
    this.counters = counters;
    this.onGone = onGone;
  }

  /** A connection Bun accepted (from the open callback). */
  onAccepted(conn: EpollConn): void {
    this.counters.steps++;
    if (this.closed) {
      void conn.close();
      return;
    }
    this.socket.accepted();
    const next = this.waiting.shift();
    if (next) this.finish(next, conn);
    else this.ready.push(conn);
  }

  accept(opts?: OpOptions): Promise<Conn> {
    this.counters.submitted++;
    const signal = opts?.signal ?? null;
    if (this.closed || signal?.aborted) {
      this.counters.completed++;
      return Promise.reject(this.cancelError(this.closed ? "the listener is closed" : "accept aborted"));
    }
    const conn = this.ready.shift();
    if (conn) {
      this.counters.completed++;
      return Promise.resolve(conn);
    }
    return new Promise<Conn>((resolve, reject) => {
      const op: PendingAccept = { resolve, reject, signal, onAbort: null };
      if (signal) {
        op.onAbort = () => {
          const i = this.waiting.indexOf(op);
          if (i < 0) return;
          this.waiting.splice(i, 1);
          this.fail(op, this.cancelError("accept aborted"));
        };
        signal.addEventListener("abort", op.onAbort, { once: true });
      }
      this.waiting.push(op);
    });
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    // Keep the connections already handed out; they belong to their callers.
    this.socket.close();
    this.tlsGate?.close();
    for (const op of this.waiting.splice(0)) this.fail(op, this.cancelError("the listener was closed"));
    const unclaimed = this.ready.splice(0);
    this.onGone(this);
    await Promise.all(unclaimed.map((c) => c.close()));
  }

  private cancelError(detail: string): IoError {
    return new IoError(Errno.ECANCELED, "accept", `${detail} (${this.host}:${this.port})`);
  }

  private finish(op: PendingAccept, conn: EpollConn): void {
    if (op.onAbort) op.signal?.removeEventListener("abort", op.onAbort);
    this.counters.completed++;
    op.resolve(conn);
  }

  private fail(op: PendingAccept, err: IoError): void {
    if (op.onAbort) op.signal?.removeEventListener("abort", op.onAbort);
    this.counters.completed++;
    op.reject(err);
  }
}
