/**
 * The process supervisor's hold on its port: one socket bound with
 * SO_REUSEPORT that never listens (rr_socket_bind), so it takes no
 * connection. It resolves a port given as 0 once, lets every child process
 * listen on that same port with SO_REUSEPORT, and keeps the port while all
 * children are down between restarts. Owns only that socket.
 */
import { DriverUnavailable, ioError } from "./errors.ts";
import { cString, loadNative } from "./native.ts";

export interface PortReservation {
  readonly host: string;
  /** The bound port (the kernel's pick when 0 was asked). */
  readonly port: number;
  /** Closes the socket; the port is free once no child listens on it. */
  release(): void;
}

/** Binds host:port (port 0: any free port). Throws IoError (EADDRINUSE, ...) or DriverUnavailable. */
export function reservePort(host: string, port: number): PortReservation {
  let lib;
  try {
    lib = loadNative();
  } catch (e) {
    const why = e instanceof DriverUnavailable ? e.reason : String(e);
    throw new DriverUnavailable("supervisor", `the supervised mode holds its port through the native shim: ${why}`);
  }
  const where = `${host}:${port}`;
  const fd = lib.rr_socket_tcp(host.includes(":") ? 6 : 4);
  if (fd < 0) throw ioError(fd, "socket", where);
  const bound = lib.rr_socket_bind(fd, cString(host), port, 1);
  const actual = bound < 0 ? bound : lib.rr_socket_local_port(fd);
  if (actual < 0) {
    lib.rr_close(fd);
    throw ioError(actual, bound < 0 ? "bind" : "getsockname", `reserving ${where} for the supervised processes`);
  }
  let open = true;
  return {
    host,
    port: actual,
    release() {
      if (!open) return;
      open = false;
      lib.rr_close(fd);
    },
  };
}
