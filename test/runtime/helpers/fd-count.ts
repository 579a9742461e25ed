/**
 * Counts this process's open file descriptors (/proc/self/fd) and waits for
 * the count to settle, for tests that check sockets are really closed.
 * readdirSync opens one fd of its own while listing; it is open in every
 * count alike, so differences are exact.
 */
import { readdirSync } from "node:fs";

export function openFdCount(): number {
  return readdirSync("/proc/self/fd").length;
}

/** Polls until at most `target` fds are open or `timeoutMs` passes; returns the last count. */
export async function waitForFdCount(target: number, timeoutMs = 2000): Promise<number> {
  const deadline = performance.now() + timeoutMs;
  let n = openFdCount();
  while (n > target && performance.now() < deadline) {
    await Bun.sleep(10);
    n = openFdCount();
  }
  return n;
}
