/**
 * Runs fuzz tasks in a Worker under a watchdog: a case that makes no
 * progress for `stallMs` (an infinite loop, a runaway allocation) gets the
 * Worker terminated and is reported like any failure, with its seed, index
 * and input, rebuilt here from (seed, index). Stops the Worker at a batch
 * boundary once `untilMs` has passed. Sums the batches and keeps one report
 * per distinct failure. Owns the Worker's life; prints nothing itself.
 */
import { generateCase } from "./cases.ts";
import { type FailureReport, failureKey, toReport } from "./report.ts";
import { type BatchMessage, type FuzzTask, SHARED_BYTES, SharedProgress, type StartMessage, type WorkerMessage } from "./worker-protocol.ts";

export interface SuperviseOptions {
  tasks: FuzzTask[];
  /** Cases per batch (the Worker reports and checks for a stop this often). */
  batch: number;
  /** No new case for this long is a hang. */
  stallMs: number;
  /** performance.now() after which the Worker is asked to stop; undefined runs the tasks to their end. */
  untilMs?: number;
  /** Hears every batch, and every failure the first time it is seen. */
  onBatch?: (m: BatchMessage, totals: SuperviseResult) => void;
  onFailure?: (r: FailureReport) => void;
}

export interface SuperviseResult {
  cases: number;
  perTarget: Record<string, number>;
  outcomes: Record<string, number>;
  /** One report per distinct failure (hangs and crashes included), in the order found. */
  failures: FailureReport[];
  elapsedMs: number;
}

/** How often the watchdog looks at the shared progress. */
const WATCH_INTERVAL_MS = 200;

function add(into: Record<string, number>, from: Record<string, number>): void {
  for (const [k, v] of Object.entries(from)) into[k] = (into[k] ?? 0) + v;
}

/** A report on the case the Worker was running, its input as generated, nothing shrunk (running it again would hang again). */
function caseReport(seed: number, index: number, property: string, detail: string): FailureReport {
  const f = { property, detail, stage: "whole case" as const };
  try {
    const c = generateCase(seed, index);
    return toReport(c, f, c.input, c.input, c.kind === "frames" ? c.splits : []);
  } catch (e) {
    // The generator itself fails on this case: report it without an input.
    const why = e instanceof Error ? e.message : String(e);
    return { seed, index, target: "(unknown)", ...f, detail: `${detail}; generating the case throws: ${why}`, ops: [], input: "", minimised: "", splits: [], limit: 0, stopAfter: -1 };
  }
}

export function supervise(opts: SuperviseOptions): Promise<SuperviseResult> {
  const started = performance.now();
  const totals: SuperviseResult = { cases: 0, perTarget: {}, outcomes: {}, failures: [], elapsedMs: 0 };
  const seen = new Set<string>();
  const record = (r: FailureReport) => {
    const key = failureKey(r);
    if (seen.has(key)) return;
    seen.add(key);
    totals.failures.push(r);
    opts.onFailure?.(r);
  };
  const shared = new SharedArrayBuffer(SHARED_BYTES);
  const progress = new SharedProgress(shared);
  progress.at(opts.tasks[0]?.seed ?? 0, -1);
  const worker = new Worker(new URL("./worker.ts", import.meta.url).href);
  return new Promise((resolve) => {
    let lastIndex = -1;
    let lastSeed = Number.NaN;
    let lastChange = performance.now();
    let finished = false;
    const finish = () => {
      if (finished) return;
      finished = true;
      clearInterval(watch);
      void worker.terminate();
      totals.elapsedMs = performance.now() - started;
      resolve(totals);
    };
    const watch = setInterval(() => {
      const now = performance.now();
      if (opts.untilMs !== undefined && now >= opts.untilMs) progress.requestStop();
      if (progress.index !== lastIndex || progress.seed !== lastSeed) {
        lastIndex = progress.index;
        lastSeed = progress.seed;
        lastChange = now;
      } else if (now - lastChange > opts.stallMs && lastIndex >= 0) {
        record(caseReport(lastSeed, lastIndex, "no progress (hang)", `case ${lastIndex} ran for more than ${opts.stallMs} ms`));
        finish();
      }
    }, WATCH_INTERVAL_MS);
    worker.onmessage = (event: MessageEvent<WorkerMessage>) => {
      const m = event.data;
      if (m.kind === "batch") {
        totals.cases += m.cases;
        add(totals.perTarget, m.perTarget);
        add(totals.outcomes, m.outcomes);
        for (const f of m.failures) record(f);
        totals.elapsedMs = performance.now() - started;
        opts.onBatch?.(m, totals);
      } else if (m.kind === "crashed") {
        record(caseReport(progress.seed, Math.max(0, progress.index), "fuzzer crashed", m.message));
        finish();
      } else finish();
    };
    worker.onerror = (e) => {
      record(caseReport(progress.seed, Math.max(0, progress.index), "fuzz worker failed", e.message));
      finish();
    };
    const start: StartMessage = { kind: "start", tasks: opts.tasks, batch: opts.batch, shared };
    worker.postMessage(start);
  });
}
