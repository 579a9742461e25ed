/**
 * The op table: the OpKind of every SlotKind, which is all the engine
 * (core.ts) knows of what an op means. A new op kind is a file in this
 * folder and one line here.
 */
import { SlotKind } from "../slots.ts";
import { acceptOp } from "./accept.ts";
import { closeOp } from "./close.ts";
import { connectOp } from "./connect.ts";
import { ioOp } from "./io.ts";
import type { OpKind } from "./op-core.ts";
import { streamOp } from "./stream.ts";
import { deadlineOp, sleepOp } from "./timers.ts";

const none: OpKind = {
  complete() {},
  giveUp() {},
  abandon() {},
};

function table(): readonly OpKind[] {
  const t: OpKind[] = [];
  const set = (kind: number, op: OpKind) => (t[kind] = op);
  set(SlotKind.NONE, none);
  set(SlotKind.READ, ioOp);
  set(SlotKind.WRITE, ioOp);
  set(SlotKind.WRITE_ALL, ioOp);
  set(SlotKind.STREAM, streamOp);
  set(SlotKind.ACCEPT, acceptOp);
  set(SlotKind.CONNECT, connectOp);
  set(SlotKind.CLOSE, closeOp);
  set(SlotKind.SLEEP, sleepOp);
  set(SlotKind.DEADLINE, deadlineOp);
  for (const [name, kind] of Object.entries(SlotKind)) if (t[kind] === undefined) throw new Error(`op table: no OpKind for SlotKind.${name}`);
  return t;
}

/** OpKind by SlotKind. */
export const OPS: readonly OpKind[] = table();
