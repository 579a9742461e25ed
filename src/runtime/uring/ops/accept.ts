/**
 * ACCEPT: one multishot accept per listener. Each completion delivers a new
 * fd (or closes it when the listener is closing); the last completion re-arms
 * the accept, or, once the listener is closed, queues its CLOSE. When the
 * accept ends because file descriptors ran out (EMFILE/ENFILE), the
 * listener's AcceptBackoff (src/runtime/accept-backoff.ts) says how long to
 * stop accepting and logs the episode; no accept() caller hears of it, the
 * connections wait in the kernel's backlog. Any other error tells one
 * waiter and retries after ACCEPT_RETRY_MS.
 */
import { isFdShortage } from "../../accept-backoff.ts";
import { Errno, ioError } from "../../errors.ts";
import { CQE_F_MORE, Op } from "../abi.ts";
import { SlotKind, SlotState } from "../slots.ts";
import { pushClose } from "./close.ts";
import type { CoreListener, OpCore, OpKind } from "./op-core.ts";

/** Delay before re-arming a multishot accept that ended with an error other than EMFILE/ENFILE. */
const ACCEPT_RETRY_MS = 10;

export function armAccept(core: OpCore, l: CoreListener): void {
  const s = core.slots.alloc(SlotKind.ACCEPT, l.fd, l);
  l.acceptSlot = s;
  core.ring.push(Op.ACCEPT_MULTI, l.fd, s, 0, 0, 0);
}

function retryAccept(core: OpCore, l: CoreListener, ms: number): void {
  l.acceptRetry = setTimeout(() => {
    l.acceptRetry = null;
    if (!l.closed && !core.closing && l.acceptSlot < 0) armAccept(core, l);
  }, ms);
}

export const acceptOp: OpKind = {
  complete(core, s, res, flags) {
    const slots = core.slots;
    const l = slots.owner[s] as CoreListener;
    if (res >= 0) {
      if (l.closed || core.closing) core.lib.rr_close(res);
      else {
        l.backoff.accepted();
        l.deliver(res);
      }
    }
    if ((flags & CQE_F_MORE) !== 0) return;
    if (!l.closed && !core.closing && res !== -Errno.ECANCELED) {
      if (res >= 0) {
        slots.state[s] = SlotState.SUBMITTED;
        core.ring.push(Op.ACCEPT_MULTI, l.fd, s, 0, 0, 0);
        return;
      }
      slots.free(s);
      l.acceptSlot = -1;
      // Retrying at once would fail at once: stop accepting for a while.
      if (isFdShortage(res)) return retryAccept(core, l, l.backoff.failed(res));
      l.fail(ioError(res, "accept"));
      return retryAccept(core, l, ACCEPT_RETRY_MS);
    }
    slots.free(s);
    l.acceptSlot = -1;
    if (l.closed) pushClose(core, l);
  },
  giveUp() {},
  abandon() {},
};
