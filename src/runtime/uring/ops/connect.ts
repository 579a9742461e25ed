/**
 * CONNECT: an outgoing connection of the io_uring driver: a socket, its
 * sockaddr written into an arena buffer (the kernel reads it while the op is
 * in flight, so the buffer stays held until the completion), one CONNECT op,
 * and its completion. An aborted connect rejects at once; its slot stays
 * Ignored and the socket is closed when the kernel's completion arrives.
 */
import type { Pointer } from "bun:ffi";
import { Errno, IoError, ioError } from "../../errors.ts";
import { cString } from "../../native.ts";
import { Op } from "../abi.ts";
import { SlotKind, SlotState } from "../slots.ts";
import type { OpCore, OpKind } from "./op-core.ts";

const SOCKADDR_CAP = 128;

/** What a CONNECT slot's owner holds. */
export interface ConnectTarget {
  detail: string;
  noDelay: boolean;
  makeConn: (fd: number) => unknown;
}

export function startConnect(
  core: OpCore,
  host: string,
  port: number,
  noDelay: boolean,
  signal: AbortSignal | undefined,
  makeConn: (fd: number) => unknown,
): Promise<unknown> {
  const detail = `${host}:${port}`;
  if (core.closing) return Promise.reject(new IoError(Errno.EBADF, "connect", "runtime is closed"));
  if (signal?.aborted) return Promise.reject(new IoError(Errno.ECANCELED, "connect", detail));
  const { lib, pool, slots } = core;
  const fd = lib.rr_socket_tcp(host.includes(":") ? 6 : 4);
  if (fd < 0) return Promise.reject(ioError(fd, "socket", detail));
  const sa = pool.tryAcquire(SOCKADDR_CAP);
  if (sa === null) {
    lib.rr_close(fd);
    return Promise.reject(new IoError(Errno.ENOBUFS, "connect", "buffer arena exhausted"));
  }
  const saOff = pool.arenaOffset(sa);
  const len = lib.rr_sockaddr(cString(host), port, (core.ring.arenaAddress + saOff) as Pointer, SOCKADDR_CAP);
  if (len < 0) {
    pool.release(sa);
    lib.rr_close(fd);
    return Promise.reject(ioError(len, "connect", `${detail}: host must be a numeric IPv4 or IPv6 address`));
  }
  const target: ConnectTarget = { detail, noDelay, makeConn };
  const s = slots.alloc(SlotKind.CONNECT, fd, target);
  slots.buf[s] = sa;
  pool.setKernelOwned(sa, true);
  const p = new Promise<unknown>((resolve, reject) => {
    slots.resolve[s] = resolve;
    slots.reject[s] = reject;
  });
  core.ring.push(Op.CONNECT, fd, s, saOff, len, 0);
  if (signal !== undefined) core.watchSignal(s, signal);
  return p;
}

export const connectOp: OpKind = {
  complete: completeConnect,
  giveUp(core, s) {
    const slots = core.slots;
    slots.state[s] = SlotState.IGNORED;
    slots.reject[s]!(new IoError(Errno.ECANCELED, "connect", (slots.owner[s] as ConnectTarget).detail));
  },
  abandon(core, s) {
    const slots = core.slots;
    core.lib.rr_close(slots.fd[s]!);
    if (slots.state[s] !== SlotState.IGNORED) slots.reject[s]?.(new IoError(Errno.ECANCELED, "connect", "runtime closed"));
  },
};

function completeConnect(core: OpCore, s: number, res: number): void {
  const { lib, pool, slots } = core;
  const sa = slots.buf[s]!;
  const fd = slots.fd[s]!;
  const ignored = slots.state[s] === SlotState.IGNORED;
  const target = slots.owner[s] as ConnectTarget;
  const resolve = slots.resolve[s]!;
  const reject = slots.reject[s]!;
  pool.setKernelOwned(sa, false);
  pool.release(sa);
  slots.free(s);
  if (ignored || core.closing) {
    lib.rr_close(fd);
    if (!ignored) reject(new IoError(Errno.ECANCELED, "connect", target.detail));
    return;
  }
  if (res < 0) {
    lib.rr_close(fd);
    reject(ioError(res, "connect", target.detail));
    return;
  }
  if (target.noDelay) lib.rr_socket_nodelay(fd, 1);
  resolve(target.makeConn(fd));
}
