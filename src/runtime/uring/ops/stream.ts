/**
 * STREAM: a connection's streaming reads as one multishot recv into the
 * ring's provided buffers. Each completion hands its chunk (a region of a
 * buffer, which other chunks may share on an incremental ring) to the
 * connection's sink and returns the chunk to the shim at once; the last
 * completion of an arm ends the stream (EOF, error), stops it (paused,
 * closing) or re-arms it (ENOBUFS, a cancel after pause/resume).
 */
import { Errno, type IoError, ioError } from "../../errors.ts";
import { CQE_BUFFER_SHIFT, CQE_F_BUFFER, CQE_F_MORE, Op, UD_NONE } from "../abi.ts";
import { SlotKind, SlotState } from "../slots.ts";
import type { CoreConn, OpCore, OpKind } from "./op-core.ts";

export function startStream(core: OpCore, conn: CoreConn): void {
  const s = core.slots.alloc(SlotKind.STREAM, conn.fd, conn);
  conn.streamSlot = s;
  conn.inflight++;
  core.ring.push(Op.RECV_MULTI, conn.fd, s, 0, 0, 0);
}

export const streamOp: OpKind = {
  complete(core, s, res, flags, bufOff) {
    const slots = core.slots;
    const conn = slots.owner[s] as CoreConn;
    if (res > 0 && (flags & CQE_F_BUFFER) !== 0) {
      const bid = flags >>> CQE_BUFFER_SHIFT;
      const start = bid * core.bufSize + bufOff;
      conn.streamData(core.bufsView, start, start + res); // never throws: the conn reports a throwing sink
      core.ring.push(Op.BUF_RETURN, -1, UD_NONE, 0, 0, bid);
    }
    if ((flags & CQE_F_MORE) !== 0) return;
    // The last CQE of this arm: end, stop, or re-arm.
    let end: IoError | null | undefined;
    if (res === -Errno.ENOBUFS) core.buffersExhausted();
    if (res === 0) end = null;
    else if (res < 0 && res !== -Errno.ENOBUFS && res !== -Errno.ECANCELED) end = ioError(res, "recv");
    else if (conn.closed || core.closing) end = null;
    if (end === undefined && !conn.paused) {
      slots.flags[s] = 0;
      slots.state[s] = SlotState.SUBMITTED;
      core.ring.push(Op.RECV_MULTI, conn.fd, s, 0, 0, 0);
      return;
    }
    slots.free(s);
    conn.streamSlot = -1;
    if (end !== undefined) conn.endStream(end);
    core.opDone(conn);
  },
  giveUp() {},
  abandon() {},
};
