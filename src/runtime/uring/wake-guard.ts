/**
 * WakeGuard: watches, while a runtime runs, that its idle loop is woken on
 * time. At most once per PROBE_EVERY_MS, when the loop is about to sleep, it
 * arms a PROBE_MS ring timeout and measures how late the loop sees its
 * completion: the same path (kernel task work -> wake-up -> eventfd -> Bun's
 * loop -> step) a peer's request takes. A probe later than LATE_MS counts as
 * a late wake-up; after LATE_SWITCH of them the loop is moved to the safe
 * "poll" wake mode and one line says so. Owns only these counters; the
 * timeout itself is an ordinary ring sleep (timers.ts).
 */
import type { UringCore } from "./core.ts";
import { startSleep } from "./ops/timers.ts";

/** Idle time between probes: one extra wake-up a second costs no measurable CPU. */
const PROBE_EVERY_MS = 1000;
/** The probe's own timeout. */
const PROBE_MS = 1;
/** A completion seen later than this after it was posted is a late wake-up (a lost eventfd wake costs ~16 ms). */
export const LATE_MS = 2;
/** Late probes before the guard switches the loop to the poll wake mode. */
const LATE_SWITCH = 3;

export interface WakeGuardStats {
  probes: number;
  /** Probes whose completion reached JS more than LATE_MS after the timer fired. */
  lateWakes: number;
  /** Worst probe lateness seen, in microseconds. */
  maxLateUs: number;
}

export class WakeGuard {
  readonly stats: WakeGuardStats = { probes: 0, lateWakes: 0, maxLateUs: 0 };
  /** Idle time between probes (tests lower it). */
  probeEveryMs = PROBE_EVERY_MS;
  private readonly core: UringCore;
  private readonly now: () => number;
  private lastProbe: number;
  private inFlight = false;
  private enabled = true;

  constructor(core: UringCore) {
    this.core = core;
    const clock = core.lib.rr_clock_ms;
    this.now = () => clock();
    this.lastProbe = this.now();
    core.loop.onIdle = () => this.maybeProbe();
  }

  /** Stops arming probes (runtime close). */
  disable(): void {
    this.enabled = false;
  }

  private maybeProbe(): void {
    if (!this.enabled || this.inFlight || this.core.closing) return;
    const armed = this.now();
    if (armed - this.lastProbe < this.probeEveryMs) return;
    this.inFlight = true;
    this.lastProbe = armed;
    startSleep(this.core, PROBE_MS, undefined).then(
      () => this.record(this.now() - armed - PROBE_MS),
      () => {
        this.inFlight = false; // cancelled by close()
      },
    );
  }

  private record(lateMs: number): void {
    this.inFlight = false;
    const s = this.stats;
    s.probes++;
    const us = Math.max(0, Math.round(lateMs * 1000));
    if (us > s.maxLateUs) s.maxLateUs = us;
    if (lateMs <= LATE_MS) return;
    s.lateWakes++;
    const loop = this.core.loop;
    if (s.lateWakes >= LATE_SWITCH && loop.wakeMode === "eventfd") {
      loop.wakeMode = "poll";
      console.error(
        `ringrpc uring: ${s.lateWakes} idle wake-ups came more than ${LATE_MS} ms late (worst ${(s.maxLateUs / 1000).toFixed(1)} ms): ` +
          "bounding idle sleeps with a 1 ms timer from now on; see `ringrpc doctor`",
      );
    }
  }
}
