/**
 * The Bun SocketHandler shared by every socket of the epoll driver: it only
 * forwards Bun's callbacks to the EpollConn stored in socket.data. Accepted
 * and connected sockets differ only in what `open` does. A TLS socket also
 * gets `handshake` (with it, Bun calls `open` at the TCP connect and
 * `handshake` once TLS is up) and `error` (a failed TLS session: a fatal
 * alert, a record that does not decrypt), which is handed to the connection
 * as its failure. A plain socket gets no `error`, so an exception thrown
 * by a sink stays an uncaught exception.
 */
import type { SocketHandler } from "bun";
import type { TlsSide } from "../tls-errors.ts";
import type { EpollConn, EpollSocket } from "./conn.ts";

export interface TlsHandlers {
  readonly side: TlsSide;
  handshake(socket: EpollSocket, success: boolean, authorizationError: Error | null): void;
}

/** An error Bun's TLS layer reported, as opposed to one a handler threw. */
function isTlsFailure(e: Error): boolean {
  const code = (e as { code?: unknown }).code;
  return code === "EPROTO" || (typeof code === "string" && /^ERR_(SSL|TLS|OSSL)/.test(code)) || e.message.startsWith("error:");
}

export function socketHandlers(open: (socket: EpollSocket) => void, tls: TlsHandlers | null = null): SocketHandler<EpollConn | undefined> {
  const handlers: SocketHandler<EpollConn | undefined> = {
    // Plain Uint8Array chunks instead of Buffer: cheaper, and all we need.
    binaryType: "uint8array",
    open,
    data(socket, chunk: Uint8Array) {
      socket.data?.onData(chunk);
    },
    drain(socket) {
      socket.data?.onDrain();
    },
    end(socket) {
      socket.data?.onEnd();
    },
    close(socket, error) {
      socket.data?.onClose(error ?? null);
    },
  };
  if (tls !== null) {
    handlers.handshake = (socket, success, authorizationError) => tls.handshake(socket, success, authorizationError);
    handlers.error = (socket, error) => {
      if (!isTlsFailure(error)) throw error;
      socket.data?.onTlsError(tls.side, error);
    };
  }
  return handlers;
}
