/**
 * SLEEP and DEADLINE: the io_uring driver's timers as ring timeouts.
 * sleep(ms) is one TIMEOUT op (res -ETIME = fired normally); timeout(ms, op)
 * arms a TIMEOUT whose firing aborts op's signal, and cancels it when op
 * settles first. An aborted or no longer needed timer turns Ignored until the
 * kernel's completion frees its slot.
 */
import { Errno, IoError, ioError } from "../../errors.ts";
import { Op } from "../abi.ts";
import { SlotKind, SlotState } from "../slots.ts";
import type { OpCore, OpKind } from "./op-core.ts";

/** Whole milliseconds for the shim's TIMEOUT (0 for negative or NaN). */
export function timerMs(ms: number): number {
  if (!(ms > 0)) return 0;
  return Math.min(Math.ceil(ms), 0x7fffffff);
}

export function startSleep(core: OpCore, ms: number, signal: AbortSignal | undefined): Promise<void> {
  if (core.closing) return Promise.reject(new IoError(Errno.ECANCELED, "timeout", "runtime is closed"));
  if (signal?.aborted) return Promise.reject(new IoError(Errno.ECANCELED, "timeout"));
  const slots = core.slots;
  const s = slots.alloc(SlotKind.SLEEP, -1, null);
  const p = new Promise<void>((resolve, reject) => {
    slots.resolve[s] = resolve;
    slots.reject[s] = reject;
  });
  core.ring.push(Op.TIMEOUT, -1, s, 0, 0, timerMs(ms));
  if (signal !== undefined) core.watchSignal(s, signal);
  return p;
}

export const sleepOp: OpKind = {
  complete: completeSleep,
  giveUp(core, s) {
    core.slots.state[s] = SlotState.IGNORED;
    core.slots.reject[s]!(new IoError(Errno.ECANCELED, "timeout"));
  },
  abandon(core, s) {
    if (core.slots.state[s] !== SlotState.IGNORED) core.slots.reject[s]?.(new IoError(Errno.ECANCELED, "timeout", "runtime closed"));
  },
};

function completeSleep(core: OpCore, s: number, res: number): void {
  const slots = core.slots;
  const ignored = slots.state[s] === SlotState.IGNORED;
  const resolve = slots.resolve[s]!;
  const reject = slots.reject[s]!;
  slots.free(s);
  if (ignored) return;
  if (res === -Errno.ETIME || res >= 0) resolve(undefined);
  else reject(ioError(res, "timeout"));
}

export function startDeadline<T>(core: OpCore, ms: number, op: (signal: AbortSignal) => Promise<T>): Promise<T> {
  if (core.closing) return Promise.reject(new IoError(Errno.ECANCELED, "timeout", "runtime is closed"));
  const ctl = new AbortController();
  const slots = core.slots;
  const s = slots.alloc(SlotKind.DEADLINE, -1, ctl);
  slots.ms[s] = timerMs(ms);
  const gen = slots.gen[s]!;
  core.ring.push(Op.TIMEOUT, -1, s, 0, 0, timerMs(ms));
  const finish = (): void => {
    if (slots.gen[s] === gen) core.giveUp(s);
  };
  let p: Promise<T>;
  try {
    p = Promise.resolve(op(ctl.signal));
  } catch (e) {
    finish();
    return Promise.reject(e);
  }
  p.then(finish, finish);
  return p;
}

export const deadlineOp: OpKind = {
  complete: completeDeadline,
  giveUp(core, s) {
    core.slots.state[s] = SlotState.IGNORED;
  },
  abandon() {
    // Its caller's op settles on its own; nothing waits on the timer itself.
  },
};

function completeDeadline(core: OpCore, s: number, res: number): void {
  const slots = core.slots;
  const ignored = slots.state[s] === SlotState.IGNORED;
  const ctl = slots.owner[s] as AbortController;
  const ms = slots.ms[s]!;
  slots.free(s);
  if (!ignored && res === -Errno.ETIME) ctl.abort(new IoError(Errno.ETIMEDOUT, "timeout", `deadline of ${ms} ms passed`));
}
