/**
 * sleep() and timeout() for the epoll driver, on Bun's own timers
 * (setTimeout runs inside the same epoll loop as the sockets). Owns the set
 * of pending sleeps so that Runtime.close() can cancel them.
 */
import { Errno, IoError } from "../errors.ts";
import type { OpCounters } from "./op-counters.ts";

interface PendingSleep {
  timer: ReturnType<typeof setTimeout> | null;
  cancel: (detail: string) => void;
}

export class EpollTimers {
  private readonly counters: OpCounters;
  private readonly sleeps = new Set<PendingSleep>();

  constructor(counters: OpCounters) {
    this.counters = counters;
  }

  sleep(ms: number, signal: AbortSignal | null): Promise<void> {
    this.counters.submitted++;
    if (signal?.aborted) {
      this.counters.completed++;
      return Promise.reject(new IoError(Errno.ECANCELED, "timeout", "sleep aborted"));
    }
    return new Promise<void>((resolve, reject) => {
      const onAbort = () => entry.cancel("sleep aborted");
      const settle = () => {
        if (entry.timer) clearTimeout(entry.timer);
        entry.timer = null;
        signal?.removeEventListener("abort", onAbort);
        this.sleeps.delete(entry);
        this.counters.completed++;
      };
      const entry: PendingSleep = {
        timer: setTimeout(() => {
          settle();
          resolve();
        }, Math.max(0, ms)),
        cancel: (detail) => {
          settle();
          reject(new IoError(Errno.ECANCELED, "timeout", detail));
        },
      };
      this.sleeps.add(entry);
      signal?.addEventListener("abort", onAbort, { once: true });
    });
  }

  async timeout<T>(ms: number, op: (signal: AbortSignal) => Promise<T>): Promise<T> {
    const ctl = new AbortController();
    const timer = setTimeout(
      () => ctl.abort(new IoError(Errno.ETIME, "timeout", `deadline of ${ms} ms passed`)),
      Math.max(0, ms),
    );
    try {
      return await op(ctl.signal);
    } finally {
      clearTimeout(timer);
    }
  }

  /** Rejects every pending sleep (runtime close). */
  cancelAll(): void {
    for (const entry of [...this.sleeps]) entry.cancel("the runtime was closed");
  }
}
