/**
 * fdShortage(): whether this process can open one more file descriptor right
 * now. Bun.listen accepts on its own and says nothing when accept fails, and
 * a listening socket whose backlog waits while no descriptor is free stays
 * readable, so Bun's loop retries accept without sleeping (100% CPU). The
 * epoll driver asks this after accepting and stops listening when the answer
 * is EMFILE or ENFILE. It opens and closes /dev/null: two cheap syscalls,
 * the only way to ask from JavaScript.
 */
import { closeSync, openSync } from "node:fs";
import { Errno } from "../errors.ts";

/** Errno.EMFILE or Errno.ENFILE when no descriptor can be opened now, else 0. */
export function fdShortage(): number {
  let fd: number;
  try {
    fd = openSync("/dev/null", "r");
  } catch (e) {
    const code = (e as { code?: unknown }).code;
    if (code === "EMFILE") return Errno.EMFILE;
    if (code === "ENFILE") return Errno.ENFILE;
    return 0;
  }
  closeSync(fd);
  return 0;
}
