/**
 * The STALLED flag: at depth 1 every request waits for the previous reply,
 * so a server or client that loses wake-ups shows up as a p50 many times
 * everyone else's (a 16 ms idle stall made ringrpc-uring's p50 ~150x the
 * epoll fallback's; noise on a busy 2-core machine moves p50 by 2-3x at
 * most). A row whose median p50 is more than STALL_FACTOR times the best
 * row's of the same group in the same run is STALLED. Pure: numbers in,
 * verdicts out.
 */

export const STALL_FACTOR = 10;
/** p50s below this are treated as this, so one implausibly fast row cannot flag the rest. */
const P50_FLOOR_US = 1;

export interface StallCandidate {
  /** What the row is called in the tables (e.g. `ringrpc-uring` or `ringrpc-uring <- js-uring`). */
  readonly name: string;
  /** Median p50 at depth 1 in µs; NaN when the row has no clean run (it cannot be best or stalled). */
  readonly p50Us: number;
}

export interface StallVerdict {
  readonly name: string;
  readonly p50Us: number;
  /** p50 over the best p50 of the group; NaN for rows without a p50. */
  readonly xBest: number;
  readonly stalled: boolean;
}

export interface StallReport {
  readonly best: StallCandidate | null;
  readonly verdicts: readonly StallVerdict[];
}

/** A stalled row with the table it was found in, for the loud lines and the exit code. */
export interface StallFinding {
  readonly where: string;
  readonly verdict: StallVerdict;
  readonly best: StallCandidate;
}

export function flagStalls(rows: readonly StallCandidate[], factor = STALL_FACTOR): StallReport {
  const measured = rows.filter((r) => Number.isFinite(r.p50Us) && r.p50Us >= 0);
  const best = measured.reduce<StallCandidate | null>((b, r) => (b === null || r.p50Us < b.p50Us ? r : b), null);
  const base = best === null ? Number.NaN : Math.max(best.p50Us, P50_FLOOR_US);
  const verdicts = rows.map((r) => {
    const xBest = Number.isFinite(r.p50Us) ? Math.max(r.p50Us, P50_FLOOR_US) / base : Number.NaN;
    return { name: r.name, p50Us: r.p50Us, xBest, stalled: Number.isFinite(xBest) && xBest > factor };
  });
  return { best, verdicts };
}

/** The loud line for one stalled row, e.g. for stderr and the end of the report. */
export function stallLine({ where, verdict: v, best }: StallFinding): string {
  return `STALLED: ${v.name} (${where}): p50 ${v.p50Us.toFixed(0)} µs at depth 1 is ${v.xBest.toFixed(0)}x the best (${best.name}, ${best.p50Us.toFixed(0)} µs); more than ${STALL_FACTOR}x means lost wake-ups, not noise`;
}
