/**
 * The one startup line a server or client prints: which driver runs and,
 * for io_uring, which ring mode, which wake mode (and the idle poll, when
 * on) and what the wake-up self-test measured (summed over every worker),
 * then the kernel features or the reason for the fallback. Owns only the
 * wording.
 */
import type { DriverName, WakeStats } from "./types.ts";

/** The parts of a driver choice (select.ts DriverChoice) the line is made of. */
export interface ChoiceText {
  driver: DriverName;
  reason: string;
  line: string;
}

export function startupLine(choice: ChoiceText, wakes: ReadonlyArray<WakeStats | undefined>): string {
  const known = wakes.filter((w): w is WakeStats => w !== undefined);
  if (choice.driver !== "uring" || known.length === 0) return choice.line;
  const modes = [...new Set(known.map((w) => `ring=${w.ringMode} wake=${w.wakeMode}${w.idlePollUs > 0 ? ` idle-poll=${w.idlePollUs}us` : ""}`))].join(" | ");
  const tests = known.map((w) => w.selfTest).filter((t) => t !== null);
  const who = known.length === 1 ? "" : `${known.length} workers: `;
  let test = "wake self-test not run";
  if (tests.length > 0) {
    const late = tests.reduce((n, t) => n + t.late, 0);
    const samples = tests.reduce((n, t) => n + t.samples, 0);
    const p50 = Math.max(...tests.map((t) => t.p50Us));
    const max = Math.max(...tests.map((t) => t.maxUs));
    test = `wake self-test, ${who}p50 ${ms(p50)}, max ${ms(max)}, ${late}/${samples} late`;
    const replaced = tests.map((t) => t.replaced).filter((r) => r !== null);
    if (replaced.length > 0) {
      const worst = Math.max(...replaced.map((r) => r.maxUs));
      test += `; defer ring replaced by coop: its wake-ups came up to ${ms(worst)} late`;
    }
  }
  return `driver=uring ${modes} (${test}) (io_uring: ${choice.reason})`;
}

export function ms(us: number): string {
  return `${(us / 1000).toFixed(us < 10_000 ? 3 : 1)} ms`;
}
