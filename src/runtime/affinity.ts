/**
 * Pins the calling thread (a Worker) to one CPU through the native shim's
 * sched_setaffinity wrapper, and reports the kernel thread id so tests and
 * `doctor` can check /proc/<pid>/task/<tid>/status. Pinning is best effort:
 * without the native library the worker runs unpinned and says so.
 */
import { loadNative } from "./native.ts";

export interface PinResult {
  ok: boolean;
  tid: number;
  /** Why pinning failed, when it did. */
  reason: string;
}

export function pinCurrentThread(cpu: number): PinResult {
  let lib;
  try {
    lib = loadNative();
  } catch (err) {
    return { ok: false, tid: 0, reason: (err as Error).message };
  }
  const tid = lib.rr_gettid();
  const rc = lib.rr_pin_cpu(cpu);
  return rc === 0 ? { ok: true, tid, reason: "" } : { ok: false, tid, reason: `sched_setaffinity(cpu ${cpu}) failed: errno ${-rc}` };
}
