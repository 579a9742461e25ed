/**
 * The counters behind Runtime.stats() for the epoll driver. Bun does not
 * expose its loop turns or syscalls, so `steps` counts socket callbacks
 * observed (open, data, drain, end, close) and `enters` stays unknown (-1).
 */
import type { RuntimeStats } from "../types.ts";

export class OpCounters {
  steps = 0;
  submitted = 0;
  completed = 0;

  snapshot(): RuntimeStats {
    return { steps: this.steps, enters: -1, submitted: this.submitted, completed: this.completed };
  }
}
