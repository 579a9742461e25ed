/**
 * The record of one benchmark run (one contender, one depth, one repetition),
 * as written to bench/results/echo-<timestamp>.json and read by the summary.
 */

export interface RunRecord {
  readonly depth: number;
  readonly contender: string;
  readonly rep: number;
  readonly ok: boolean;
  /** Why the run failed or is suspect; null when clean. */
  readonly error: string | null;
  readonly serverReadyLine: string | null;
  readonly rps: number;
  readonly requests: number;
  readonly latencyUs: { readonly p50: number; readonly p90: number; readonly p99: number; readonly p999: number; readonly max: number } | null;
  readonly serverCpuPct: number | null;
  readonly loadgenCpuPct: number | null;
  /** The load generator used >= SATURATED_PCT of its CPU: the run may measure the generator, not the server. */
  readonly loadgenSaturated: boolean;
  readonly loadgenErrors: number;
  /** CPU (% of one CPU) used by everything except this server and load generator: other load on the machine. */
  readonly otherCpuPct: number | null;
  /** Syscalls per request counted with strace -c -f in a separate run, when --syscalls was given. */
  readonly syscallsPerRequest: number | null;
}

export const SATURATED_PCT = 95;
/** Above this much foreign CPU use a run is flagged as noisy. */
export const NOISY_OTHER_PCT = 10;
