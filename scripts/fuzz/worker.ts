/**
 * The fuzz Worker: runs the tasks it is given batch by batch (batch.ts),
 * posts each batch's outcome, writes the case it is on into shared memory
 * for the watchdog, and stops at a batch boundary when asked. Owns the
 * Worker side of worker-protocol.ts; decides nothing about time.
 */
import { runBatch } from "./batch.ts";
import { SharedProgress, type StartMessage, type WorkerMessage } from "./worker-protocol.ts";

declare const self: Worker;

function post(m: WorkerMessage): void {
  self.postMessage(m);
}

self.onmessage = (event: MessageEvent<StartMessage>) => {
  const { tasks, batch, shared } = event.data;
  const progress = new SharedProgress(shared);
  try {
    for (const task of tasks) {
      const known = new Set<string>();
      for (let from = task.from; from < task.from + task.count && !progress.stopRequested; from += batch) {
        const count = Math.min(batch, task.from + task.count - from);
        const r = runBatch(task.seed, from, count, known, (index) => progress.at(task.seed, index));
        post({ kind: "batch", seed: task.seed, ...r });
      }
      if (progress.stopRequested) break;
    }
    post({ kind: "done" });
  } catch (e) {
    post({ kind: "crashed", message: e instanceof Error ? `${e.name}: ${e.message}\n${e.stack ?? ""}` : String(e) });
  }
};
