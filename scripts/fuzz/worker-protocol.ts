/**
 * What the fuzz supervisor and its Worker say to each other (plain data
 * only: nothing with a prototype crosses a Worker boundary), and the layout
 * of the shared memory the watchdog reads: the case being run and the stop
 * flag. Owns the message and memory shapes.
 */
import type { FailureReport } from "./report.ts";

/** One stretch of cases: [from, from + count) of `seed`; count may be Infinity (until stopped). */
export interface FuzzTask {
  seed: number;
  from: number;
  count: number;
}

export interface StartMessage {
  kind: "start";
  tasks: FuzzTask[];
  /** Cases between two progress messages (and stop-flag checks). */
  batch: number;
  shared: SharedArrayBuffer;
}

export interface BatchMessage {
  kind: "batch";
  seed: number;
  cases: number;
  perTarget: Record<string, number>;
  outcomes: Record<string, number>;
  failures: FailureReport[];
}

export type WorkerMessage = BatchMessage | { kind: "done" } | { kind: "crashed"; message: string };

/** Bytes of the shared block: f64 current case index, f64 its seed, i32 stop flag (and padding). */
export const SHARED_BYTES = 24;

export class SharedProgress {
  private readonly f64: Float64Array;
  private readonly i32: Int32Array;

  constructor(readonly buffer: SharedArrayBuffer) {
    this.f64 = new Float64Array(buffer, 0, 2);
    this.i32 = new Int32Array(buffer, 16, 1);
  }

  /** Worker: the case about to run. */
  at(seed: number, index: number): void {
    this.f64[1] = seed;
    this.f64[0] = index;
  }

  get index(): number {
    return this.f64[0]!;
  }

  get seed(): number {
    return this.f64[1]!;
  }

  requestStop(): void {
    Atomics.store(this.i32, 0, 1);
  }

  get stopRequested(): boolean {
    return Atomics.load(this.i32, 0) === 1;
  }
}
