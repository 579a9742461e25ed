/**
 * TlsAcceptGate: what stands between an accepted TLS socket and accept().
 * A connection is delivered only once its handshake succeeded; until then
 * it waits here, bounded by handshakeTimeoutMs. With requireClientCert a
 * handshake whose client certificate failed verification is refused here,
 * whatever Bun decided: Bun 1.4.5 completes the handshake with a client
 * certificate no CA in `ca` signed and only reports it (authorizationError),
 * so the check must be ringrpc's own (test/runtime/tls.test.ts). A refused
 * or failed handshake closes its socket and is logged through
 * TlsFailureLog. Owns the pending connections and their timers.
 */
import { Errno } from "../errors.ts";
import { TlsError } from "../tls-errors.ts";
import type { TlsServerOptions } from "../types.ts";
import type { EpollConn } from "./conn.ts";
import { TlsFailureLog } from "./tls-failure-log.ts";

const DEFAULT_HANDSHAKE_TIMEOUT_MS = 10_000;

export class TlsAcceptGate {
  private readonly pending = new Map<EpollConn, ReturnType<typeof setTimeout>>();
  private readonly requireClientCert: boolean;
  private readonly timeoutMs: number;
  private readonly log: TlsFailureLog;

  constructor(
    where: string,
    tls: TlsServerOptions,
    private readonly deliver: (conn: EpollConn) => void,
  ) {
    this.requireClientCert = tls.requireClientCert === true;
    this.timeoutMs = tls.handshakeTimeoutMs ?? DEFAULT_HANDSHAKE_TIMEOUT_MS;
    this.log = new TlsFailureLog(where);
  }

  /** A TCP connection was accepted; its handshake starts now. */
  opened(conn: EpollConn): void {
    const timer = setTimeout(() => {
      if (!this.pending.delete(conn)) return;
      const err = Object.assign(new Error(`no finished handshake within ${this.timeoutMs} ms`), { code: "HANDSHAKE_TIMEOUT" });
      this.refuse(conn, err);
    }, this.timeoutMs);
    this.pending.set(conn, timer);
  }

  /** Bun's handshake callback for an accepted socket. */
  handshake(conn: EpollConn, success: boolean, authorizationError: Error | null): void {
    const timer = this.pending.get(conn);
    if (timer === undefined) return; // timed out, or the listener closed
    clearTimeout(timer);
    this.pending.delete(conn);
    if (!success) return this.refuse(conn, authorizationError ?? Object.assign(new Error("handshake failed"), { code: "EPROTO" }));
    // Without requireClientCert no certificate was asked for, and authorizationError only says so.
    if (this.requireClientCert && authorizationError !== null) return this.refuse(conn, authorizationError);
    this.deliver(conn);
  }

  /** The socket closed before its handshake ended (Bun normally reports that as a failed handshake first). */
  closed(conn: EpollConn): void {
    const timer = this.pending.get(conn);
    if (timer === undefined) return;
    clearTimeout(timer);
    this.pending.delete(conn);
    this.log.failed(new TlsError("server", peerOf(conn), Object.assign(new Error("closed"), { code: "ECONNRESET", errno: Errno.ECONNRESET })).message);
  }

  private refuse(conn: EpollConn, cause: unknown): void {
    this.log.failed(new TlsError("server", peerOf(conn), cause).message);
    void conn.close();
  }

  /** The listener closed: connections still in their handshake are closed. */
  close(): void {
    for (const [conn, timer] of this.pending) {
      clearTimeout(timer);
      void conn.close();
    }
    this.pending.clear();
    this.log.close();
  }
}

function peerOf(conn: EpollConn): string {
  return conn.remote ? `${conn.remote.address}:${conn.remote.port}` : "a client";
}
