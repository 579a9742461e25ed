/**
 * Turns the errors Bun's socket layer throws or reports (objects with a
 * `code` such as "ECONNREFUSED" and an `errno` of either sign) into the
 * runtime's IoError, naming the syscall the caller was doing. The only place
 * in the epoll driver that looks inside a Bun error.
 */
import { Errno, IoError } from "../errors.ts";

function errnoOf(e: unknown): number {
  if (typeof e === "object" && e !== null) {
    const { code, errno } = e as { code?: unknown; errno?: unknown };
    if (typeof code === "string" && code in Errno) return Errno[code as keyof typeof Errno];
    if (typeof errno === "number" && errno !== 0) return Math.abs(errno);
  }
  return Errno.EIO;
}

/** The IoError for a Bun socket error met during `syscall`; `detail` names the peer or address. */
export function ioErrorFromBun(e: unknown, syscall: string, detail?: string): IoError {
  if (e instanceof IoError) return e;
  return new IoError(errnoOf(e), syscall, detail);
}

/** Bun.listen fails in bind(2) for address errors and in listen(2) otherwise. */
export function listenErrorFromBun(e: unknown, detail: string): IoError {
  const errno = errnoOf(e);
  const inBind = errno === Errno.EADDRINUSE || errno === Errno.EADDRNOTAVAIL || errno === Errno.EACCES;
  return new IoError(errno, inBind ? "bind" : "listen", detail);
}
