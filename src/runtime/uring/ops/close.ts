/**
 * CLOSE: closes the fd of a connection or listener once none of its ops is
 * in flight any more, so no op outlives its fd number; the owner hears the
 * result through onClosed.
 */
import { Op } from "../abi.ts";
import { SlotKind } from "../slots.ts";
import type { Closable, OpCore, OpKind } from "./op-core.ts";

/** Queues the CLOSE of an fd whose ops have all completed. */
export function pushClose(core: OpCore, owner: Closable): void {
  const s = core.slots.alloc(SlotKind.CLOSE, owner.fd, owner);
  core.ring.push(Op.CLOSE, owner.fd, s, 0, 0, 0);
}

export const closeOp: OpKind = {
  complete(core, s, res) {
    const owner = core.slots.owner[s] as Closable;
    core.slots.free(s);
    owner.onClosed(res);
  },
  giveUp() {},
  abandon(core, s) {
    (core.slots.owner[s] as Closable).onClosed(0);
  },
};
