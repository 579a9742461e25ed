/**
 * READ, WRITE and WRITE_ALL: one recv or send of an owned buffer (a short
 * send of a WRITE_ALL is resubmitted from where it stopped). A buffer that is
 * not from the arena is copied through a pooled arena buffer of at most
 * COPY_CHUNK bytes per op. A send (Conn.send) is a WRITE_ALL that answers
 * through a callback instead of a promise. Reads and writes answer only at
 * their completion, even when the caller gave up, so the buffer is back in
 * the caller's hands only once the kernel is done with it.
 */
import { Errno, ioError } from "../../errors.ts";
import type { BufResult, SendDone } from "../../types.ts";
import { Op } from "../abi.ts";
import { SlotFlag, SlotKind, SlotState } from "../slots.ts";
import { bufResult } from "./buf-result.ts";
import type { CoreConn, OpCore, OpKind } from "./op-core.ts";

/** Largest arena chunk an op on a plain (non-arena) buffer copies through. */
const COPY_CHUNK = 64 << 10;

export const syscallOf: Record<number, string> = {
  [SlotKind.READ]: "recv",
  [SlotKind.WRITE]: "send",
  [SlotKind.WRITE_ALL]: "send",
};

/** Starts a READ, WRITE or WRITE_ALL of buf on conn. */
export function startIo<B extends Uint8Array>(core: OpCore, kind: number, conn: CoreConn, buf: B, signal: AbortSignal | undefined): Promise<BufResult<B>> {
  const syscall = syscallOf[kind]!;
  if (conn.closed || core.closing) return Promise.resolve(bufResult(-Errno.EBADF, buf, syscall, "connection is closed"));
  if (signal?.aborted) return Promise.resolve(bufResult(-Errno.ECANCELED, buf, syscall));
  let resolver: (r: BufResult<B>) => void = noResolver;
  const p = new Promise<BufResult<B>>((resolve) => {
    resolver = resolve;
  });
  const s = submit(core, kind, conn, buf, resolver, 0);
  if (s < 0) resolver(bufResult(-Errno.ENOBUFS, buf, syscall, "buffer arena exhausted"));
  else if (signal !== undefined) core.watchSignal(s, signal);
  return p;
}

/** A WRITE_ALL whose outcome goes to done (Conn.send): no promise, no result object. */
export function startSend(core: OpCore, conn: CoreConn, buf: Uint8Array, done: SendDone): void {
  if (conn.closed || core.closing) return done(-Errno.EBADF, ioError(-Errno.EBADF, "send", "connection is closed"));
  if (submit(core, SlotKind.WRITE_ALL, conn, buf, done, SlotFlag.CALLBACK) < 0) done(-Errno.ENOBUFS, ioError(-Errno.ENOBUFS, "send", "buffer arena exhausted"));
}

function noResolver(): void {}

/** Queues the op's SQE; its slot, or -1 when buf is not arena-backed and no arena buffer is free to copy it through. */
function submit(core: OpCore, kind: number, conn: CoreConn, buf: Uint8Array, resolve: (value: any, error?: any) => void, flags: number): number {
  const pool = core.pool;
  let kbuf: Uint8Array = buf;
  let user: Uint8Array | null = null;
  let off = pool.arenaOffset(buf);
  if (off < 0) {
    // Copy path, one bounded chunk at a time (reads and writes may be short anyway).
    const k = pool.tryAcquire(Math.min(buf.byteLength, COPY_CHUNK));
    if (k === null) return -1;
    if (kind !== SlotKind.READ) k.set(k.byteLength === buf.byteLength ? buf : buf.subarray(0, k.byteLength));
    kbuf = k;
    user = buf;
    off = pool.arenaOffset(k);
  }
  const slots = core.slots;
  const s = slots.alloc(kind, conn.fd, conn);
  slots.buf[s] = kbuf;
  slots.userBuf[s] = user;
  slots.resolve[s] = resolve;
  slots.flags[s] = flags;
  pool.setKernelOwned(kbuf, true);
  conn.inflight++;
  core.ring.push(kind === SlotKind.READ ? Op.RECV : Op.SEND, conn.fd, s, off, kbuf.byteLength, 0);
  return s;
}

/** Hands an op's outcome to its caller: a SendDone directly, a promise's resolver as a BufResult. */
function answer(resolve: (value: any, error?: any) => void, callback: boolean, res: number, buf: Uint8Array, syscall: string): void {
  if (callback) resolve(res, res < 0 ? ioError(res, syscall) : null);
  else resolve(bufResult(res, buf, syscall));
}

export const ioOp: OpKind = {
  complete(core, s, res) {
    const slots = core.slots;
    const kbuf = slots.buf[s]!;
    const kind = slots.kind[s]!;
    const ignored = slots.state[s] === SlotState.IGNORED;
    if (kind === SlotKind.WRITE_ALL && !ignored) {
      const user = slots.userBuf[s]!;
      const total = user === null ? kbuf.byteLength : user.byteLength;
      if (res > 0) {
        const done = slots.done[s]! + res;
        if (done < total) {
          if ((slots.flags[s]! & SlotFlag.CANCEL_SENT) === 0) {
            slots.done[s] = done;
            slots.state[s] = SlotState.SUBMITTED;
            if (user === null) {
              core.ring.push(Op.SEND, slots.fd[s]!, s, core.pool.arenaOffset(kbuf) + done, total - done, 0);
            } else {
              const n = Math.min(kbuf.byteLength, total - done);
              kbuf.set(user.subarray(done, done + n));
              core.ring.push(Op.SEND, slots.fd[s]!, s, core.pool.arenaOffset(kbuf), n, 0);
            }
            return;
          }
          res = -Errno.ECANCELED;
        } else {
          res = done;
        }
      } else if (res === 0 && total > 0) {
        res = -Errno.EPIPE;
      }
    }
    slots.state[s] = SlotState.COMPLETED;
    core.pool.setKernelOwned(kbuf, false);
    const conn = slots.owner[s] as CoreConn;
    const user = slots.userBuf[s]!;
    const resolve = ignored ? null : slots.resolve[s]!;
    const callback = (slots.flags[s]! & SlotFlag.CALLBACK) !== 0;
    if (user !== null) {
      if (kind === SlotKind.READ && res > 0 && resolve !== null) user.set(new Uint8Array(kbuf.buffer, kbuf.byteOffset, res));
      core.pool.release(kbuf);
    }
    slots.free(s);
    if (resolve !== null) answer(resolve, callback, res, user ?? kbuf, syscallOf[kind]!);
    core.opDone(conn);
  },
  giveUp() {
    // Answered at the completion: -ECANCELED, or the real result when the data won the race.
  },
  abandon(core, s) {
    const slots = core.slots;
    if (slots.state[s] === SlotState.IGNORED) return;
    const kind = slots.kind[s]!;
    const resolve = slots.resolve[s];
    if (resolve) answer(resolve, (slots.flags[s]! & SlotFlag.CALLBACK) !== 0, -Errno.ECANCELED, slots.userBuf[s] ?? slots.buf[s]!, syscallOf[kind]!);
  },
};
