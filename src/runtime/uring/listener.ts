/**
 * UringListener: the Listener of the io_uring driver. One listening socket
 * (SO_REUSEPORT when asked, so every worker can listen on the same port)
 * with one multishot accept armed by UringCore (paused by its AcceptBackoff
 * while file descriptors are short); accepted connections wait in
 * a queue until accept() takes them, and accept() calls wait for the next
 * connection. close() cancels the multishot accept, rejects waiting accept()
 * calls with ECANCELED and closes the socket.
 */
import type { AcceptBackoff } from "../accept-backoff.ts";
import { Errno, IoError } from "../errors.ts";
import type { Conn, Listener, OpOptions } from "../types.ts";
import type { UringCore } from "./core.ts";
import { pushClose } from "./ops/close.ts";
import type { CoreListener } from "./ops/op-core.ts";

interface AcceptWaiter {
  resolve: (conn: Conn) => void;
  reject: (error: IoError) => void;
  signal: AbortSignal | null;
  onAbort: (() => void) | null;
}

export class UringListener implements Listener, CoreListener {
  readonly host: string;
  readonly port: number;
  fd: number;
  closed = false;
  acceptSlot = -1;
  acceptRetry: ReturnType<typeof setTimeout> | null = null;
  readonly backoff: AcceptBackoff;
  private readonly core: UringCore;
  private readonly makeConn: (fd: number) => Conn;
  private readonly ready: Conn[] = [];
  private readonly waiters: AcceptWaiter[] = [];
  private closing: Promise<void> | null = null;
  private closeDone: (() => void) | null = null;

  constructor(core: UringCore, fd: number, host: string, port: number, backoff: AcceptBackoff, makeConn: (fd: number) => Conn) {
    this.core = core;
    this.backoff = backoff;
    this.fd = fd;
    this.host = host;
    this.port = port;
    this.makeConn = makeConn;
  }

  accept(opts?: OpOptions): Promise<Conn> {
    const conn = this.ready.shift();
    if (conn !== undefined) return Promise.resolve(conn);
    if (this.closed) return Promise.reject(new IoError(Errno.ECANCELED, "accept", "listener is closed"));
    const signal = opts?.signal ?? null;
    if (signal?.aborted) return Promise.reject(new IoError(Errno.ECANCELED, "accept"));
    return new Promise<Conn>((resolve, reject) => {
      const w: AcceptWaiter = { resolve, reject, signal, onAbort: null };
      if (signal !== null) {
        w.onAbort = () => {
          const i = this.waiters.indexOf(w);
          if (i >= 0) this.waiters.splice(i, 1);
          reject(new IoError(Errno.ECANCELED, "accept"));
        };
        signal.addEventListener("abort", w.onAbort, { once: true });
      }
      this.waiters.push(w);
    });
  }

  deliver(fd: number): void {
    const conn = this.makeConn(fd);
    const w = this.waiters.shift();
    if (w === undefined) {
      this.ready.push(conn);
      return;
    }
    unwatch(w);
    w.resolve(conn);
  }

  fail(error: IoError): void {
    const w = this.waiters.shift();
    if (w === undefined) return;
    unwatch(w);
    w.reject(error);
  }

  close(): Promise<void> {
    if (this.closing !== null) return this.closing;
    this.closed = true;
    this.backoff.close();
    if (this.acceptRetry !== null) clearTimeout(this.acceptRetry);
    this.acceptRetry = null;
    this.closing = new Promise<void>((resolve) => {
      this.closeDone = resolve;
    });
    for (const w of this.waiters.splice(0)) {
      unwatch(w);
      w.reject(new IoError(Errno.ECANCELED, "accept", "listener closed"));
    }
    for (const c of this.ready.splice(0)) void c.close();
    // The socket closes after the multishot accept's last completion.
    if (this.acceptSlot >= 0) this.core.cancelInKernel(this.acceptSlot);
    else pushClose(this.core, this);
    return this.closing;
  }

  onClosed(_res: number): void {
    this.fd = -1;
    this.core.listeners.delete(this);
    const done = this.closeDone;
    this.closeDone = null;
    done?.();
  }
}

function unwatch(w: AcceptWaiter): void {
  if (w.signal !== null && w.onAbort !== null) w.signal.removeEventListener("abort", w.onAbort);
}
