/**
 * Typed runtime errors. The native shim returns -errno; this module is the
 * only place that turns such a number into an error a person can act on.
 * Errors crossing a Worker boundary lose their prototype, so callers match
 * on `name` and `code`, never `instanceof`.
 */

/** Linux x86_64/arm64 errno numbers the runtime can meet, by name. */
export const Errno = {
  EPERM: 1, ENOENT: 2, EINTR: 4, EIO: 5, EBADF: 9, EAGAIN: 11, ENOMEM: 12, EACCES: 13,
  EFAULT: 14, EBUSY: 16, EEXIST: 17, EINVAL: 22, ENFILE: 23, EMFILE: 24, ENOSPC: 28,
  EPIPE: 32, ERANGE: 34, ENOSYS: 38, ETIME: 62, EPROTO: 71, ENOPROTOOPT: 92, ENOBUFS: 105, EOPNOTSUPP: 95,
  EAFNOSUPPORT: 97, EADDRINUSE: 98, EADDRNOTAVAIL: 99, ENETDOWN: 100, ENETUNREACH: 101,
  ECONNABORTED: 103, ECONNRESET: 104, EISCONN: 106, ENOTCONN: 107, ETIMEDOUT: 110,
  ECONNREFUSED: 111, EHOSTUNREACH: 113, EALREADY: 114, EINPROGRESS: 115, ECANCELED: 125,
} as const;
export type ErrnoName = keyof typeof Errno;

const namesByNumber = new Map<number, string>(Object.entries(Errno).map(([k, v]) => [v, k]));

/** "ECONNRESET" for 104; "E<n>" for numbers this table does not know. */
export function errnoName(errno: number): string {
  const n = Math.abs(errno);
  return namesByNumber.get(n) ?? `E${n}`;
}

const hints: Record<string, string> = {
  EADDRINUSE: "another process holds this port: pick another port or stop that process",
  ECONNREFUSED: "nothing is listening there: start the server or check host and port",
  EMFILE: "the process ran out of file descriptors: raise `ulimit -n`",
  ENFILE: "the system ran out of file descriptors",
  EPERM: "io_uring is blocked (seccomp or kernel.io_uring_disabled)",
  ENOMEM: "out of memory or locked-memory limit too low: raise `ulimit -l`",
};

/** An I/O operation that failed: errno name, number and the operation. */
export class IoError extends Error {
  override readonly name: string;
  readonly code: string;
  readonly errno: number;
  readonly syscall: string;
  constructor(errno: number, syscall: string, detail?: string) {
    const code = errnoName(errno);
    const hint = hints[code];
    super(`${syscall} failed: ${code}${detail ? ` (${detail})` : ""}${hint ? `: ${hint}` : ""}`);
    this.name = code === "ECANCELED" ? "AbortError" : "IoError";
    this.code = code;
    this.errno = Math.abs(errno);
    this.syscall = syscall;
  }
}

/** Builds the IoError for a negative shim result. */
export function ioError(res: number, syscall: string, detail?: string): IoError {
  return new IoError(-res, syscall, detail);
}

/** A driver cannot start here (no io_uring, no native library, ...). */
export class DriverUnavailable extends Error {
  override readonly name = "DriverUnavailable";
  readonly code = "DRIVER_UNAVAILABLE";
  constructor(readonly driver: string, readonly reason: string) {
    super(`${driver} driver unavailable: ${reason}`);
  }
}

/**
 * A server's port is already in use by another process (another server
 * there would split the connections with it). `code` is EADDRINUSE, as for
 * the bind that found it.
 */
export class PortInUse extends Error {
  override readonly name = "PortInUse";
  readonly code = "EADDRINUSE";
  constructor(readonly host: string, readonly port: number) {
    super(
      `${host}:${port} is already in use by another process (a second server there would split the connections with it): ` +
        "stop that process or pick another port, or pass reusePort: true to share the port on purpose",
    );
  }
}
