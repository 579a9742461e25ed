/**
 * WakeGuard: watches, while a runtime runs, that its idle loop is woken on
 * time. At most once per PROBE_EVERY_MS, when the loop is about to sleep, it
 * arms a PROBE_MS ring timeout and measures how late the loop sees its
 * completion: the same path (kernel task work -> wake-up -> eventfd -> Bun's
 * loop -> step) a peer's request takes. A probe later than LATE_MS counts as
 * a late wake-up; after LATE_SWITCH of them the loop is moved to the safe
 * "poll" wake mode and one line says so. In the poll mode (from here or from
 * the startup self-test) it re-runs the self-test when idle, first after
 * RECHECK_FIRST_MS and then at doubling intervals up to RECHECK_MAX_MS, and
 * returns the loop to the eventfd once a test passes: a late verdict caused
 * by a burst of load is not kept for the life of the runtime. Owns only
 * these counters and that schedule; the probe is an ordinary ring sleep
 * (ops/timers.ts), the test is wake-check.ts.
 */
import type { UringCore } from "./core.ts";
import { startSleep } from "./ops/timers.ts";
import { LATE_MS, type WakeCheck } from "./wake-check.ts";
import { runtimeLogger } from "../log/runtime-log.ts";

/** Idle time between probes: one extra wake-up a second costs no measurable CPU. */
const PROBE_EVERY_MS = 1000;
/** The probe's own timeout. */
const PROBE_MS = 1;
/** Late probes before the guard switches the loop to the poll wake mode. */
const LATE_SWITCH = 3;
/** In the poll mode: the first self-test again after this long, then at doubling intervals up to RECHECK_MAX_MS. */
const RECHECK_FIRST_MS = 30_000;
const RECHECK_MAX_MS = 3_600_000;

export interface WakeGuardStats {
  probes: number;
  /** Probes whose completion reached JS more than LATE_MS after the timer fired. */
  lateWakes: number;
  /** Worst probe lateness seen, in microseconds. */
  maxLateUs: number;
  /** Self-tests re-run in the poll mode, and how many of them returned the loop to the eventfd. */
  rechecks: number;
  recoveries: number;
}

export class WakeGuard {
  readonly stats: WakeGuardStats = { probes: 0, lateWakes: 0, maxLateUs: 0, rechecks: 0, recoveries: 0 };
  /** Idle time between probes (tests lower it). */
  probeEveryMs = PROBE_EVERY_MS;
  /** Wait before the next self-test in the poll mode (tests lower it); doubles after each failed one. */
  recheckEveryMs = RECHECK_FIRST_MS;
  /** Runs the wake self-test on this runtime (set by the runtime, which owns the sockets it needs). */
  recheck: (() => Promise<WakeCheck>) | null = null;
  private lastRecheck: number;
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
    this.lastRecheck = this.lastProbe;
    core.loop.onIdle = () => this.maybeProbe();
  }

  /** Stops arming probes (runtime close). */
  disable(): void {
    this.enabled = false;
  }

  private maybeProbe(): void {
    if (!this.enabled || this.inFlight || this.core.closing) return;
    const armed = this.now();
    if (this.core.loop.wakeMode === "poll" && this.maybeRecheck(armed)) return;
    if (armed - this.lastProbe < this.probeEveryMs) return;
    this.inFlight = true;
    this.lastProbe = armed;
    // The probe measures the sleep and the eventfd: an idle poll would catch
    // its timer without either, so it waits until the probe is back.
    const loop = this.core.loop;
    const poll = loop.idlePoll;
    loop.idlePoll = null;
    startSleep(this.core, PROBE_MS, undefined).then(
      () => {
        loop.idlePoll = poll;
        this.record(this.now() - armed - PROBE_MS);
      },
      () => {
        loop.idlePoll = poll;
        this.inFlight = false; // cancelled by close()
      },
    );
  }

  /** In the poll mode, re-runs the self-test when it is due; true when it started one. */
  private maybeRecheck(now: number): boolean {
    const recheck = this.recheck;
    if (recheck === null || now - this.lastRecheck < this.recheckEveryMs) return false;
    this.inFlight = true;
    this.lastRecheck = now;
    const loop = this.core.loop;
    recheck().then(
      (c) => {
        this.inFlight = false;
        this.stats.rechecks++;
        if (c.verdict !== "ok" || this.core.closing) {
          this.recheckEveryMs = Math.min(RECHECK_MAX_MS, Math.max(1, this.recheckEveryMs) * 2);
          return;
        }
        this.stats.recoveries++;
        this.recheckEveryMs = RECHECK_FIRST_MS;
        loop.wakeMode = "eventfd";
        runtimeLogger().info(
          { event: "wake_mode", wakeMode: "eventfd", reason: "self_test_ok", late: c.late, samples: c.samples, p50Us: c.p50Us },
          `io_uring: idle wake-ups are on time again (self-test: p50 ${(c.p50Us / 1000).toFixed(3)} ms, ${c.late}/${c.samples} late): back to the eventfd wake mode`,
        );
      },
      () => {
        this.inFlight = false; // the runtime closed under the test
      },
    );
    return true;
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
      runtimeLogger().warn(
        { event: "wake_mode", wakeMode: "poll", reason: "late_wakeups", lateWakes: s.lateWakes, maxLateUs: s.maxLateUs },
        `io_uring: ${s.lateWakes} idle wake-ups came more than ${LATE_MS} ms late (worst ${(s.maxLateUs / 1000).toFixed(1)} ms): ` +
          "bounding idle sleeps with a 1 ms timer from now on; see `ringrpc doctor`",
      );
    }
  }
}
