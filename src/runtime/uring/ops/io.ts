/**
 * READ, WRITE and WRITE_ALL: one recv or send of an owned buffer (a short
 * send of a WRITE_ALL is resubmitted from where it stopped). A buffer that is
 * not from the arena is copied through a pooled arena buffer of at most
 * COPY_CHUNK bytes per op. Reads and writes answer only at their completion,
 * even when the caller gave up, so the buffer is back in the caller's hands
 * only once the kernel is done with it.
 */
import { Errno } from "../../errors.ts";
import type { BufResult } from "../../types.ts";
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
  const pool = core.pool;
  let kbuf: Uint8Array = buf;
  let user: Uint8Array | null = null;
  let off = pool.arenaOffset(buf);
  if (off < 0) {
    // Copy path, one bounded chunk at a time (reads and writes may be short anyway).
    const k = pool.tryAcquire(Math.min(buf.byteLength, COPY_CHUNK));
    if (k === null) return Promise.resolve(bufResult(-Errno.ENOBUFS, buf, syscall, "buffer arena exhausted"));
    if (kind !== SlotKind.READ) k.set(k.byteLength === buf.byteLength ? buf : buf.subarray(0, k.byteLength));
    kbuf = k;
    user = buf;
    off = pool.arenaOffset(k);
  }
  const slots = core.slots;
  const s = slots.alloc(kind, conn.fd, conn);
  slots.buf[s] = kbuf;
  slots.userBuf[s] = user;
  pool.setKernelOwned(kbuf, true);
  conn.inflight++;
  const p = new Promise<BufResult<B>>((resolve) => {
    slots.resolve[s] = resolve;
  });
  core.ring.push(kind === SlotKind.READ ? Op.RECV : Op.SEND, conn.fd, s, off, kbuf.byteLength, 0);
  if (signal !== undefined) core.watchSignal(s, signal);
  return p;
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
    if (user !== null) {
      if (kind === SlotKind.READ && res > 0 && resolve !== null) user.set(new Uint8Array(kbuf.buffer, kbuf.byteOffset, res));
      core.pool.release(kbuf);
    }
    slots.free(s);
    if (resolve !== null) resolve(bufResult(res, user ?? kbuf, syscallOf[kind]!));
    core.opDone(conn);
  },
  giveUp() {
    // Answered at the completion: -ECANCELED, or the real result when the data won the race.
  },
  abandon(core, s) {
    const slots = core.slots;
    if (slots.state[s] === SlotState.IGNORED) return;
    const kind = slots.kind[s]!;
    slots.resolve[s]?.(bufResult(-Errno.ECANCELED, slots.userBuf[s] ?? slots.buf[s]!, syscallOf[kind]!));
  },
};
