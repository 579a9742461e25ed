/**
 * The Bun SocketHandler shared by every socket of the epoll driver: it only
 * forwards Bun's callbacks to the EpollConn stored in socket.data. Accepted
 * and connected sockets differ only in what `open` does.
 */
import type { SocketHandler } from "bun";
import type { EpollConn, EpollSocket } from "./conn.ts";

export function socketHandlers(open: (socket: EpollSocket) => void): SocketHandler<EpollConn | undefined> {
  return {
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
}
