/**
 * ConnectionGuard: the time limits and abuse counters of one server
 * connection (docs/RPC.md, "Limits a peer cannot game"): the idle timer,
 * the maximum connection age and its grace, the keepalive (PING) policy,
 * response streams stalled without credit, and the per-second counters of
 * cancelled and refused calls, and the linger before a close that ends an
 * error (server-limits.ts). Owns its timers, counters and decisions; the
 * connection owns the socket and the calls and does what the guard decides.
 * Nothing here runs per frame: the connection calls in on a PING, a CANCEL,
 * a refused REQUEST or a stalled stream, never on the unary path.
 */
import { GoAwayReason, type GoAwayReasonCode } from "./protocol.ts";
import { CalmToken, CLOSE_LINGER_MS, type GuardLimits, LINGER_QUIET_MS } from "./server-limits.ts";
import { Status, type StatusCode } from "./status.ts";

/** A call the guard can see stall and end. */
export interface GuardedCall {
  /** Date.now() since when its response stream has been waiting for credit; 0 when it is not. */
  stalledSince: number;
  /** Its response credit (ready: the client granted some). */
  readonly credit: { readonly ready: boolean } | null;
  abortWithStatus(status: StatusCode, message: string): void;
}

/** What the guard needs from its connection. */
export interface GuardHost {
  readonly calls: ReadonlyMap<number, GuardedCall>;
  /** lastRead: Date.now() at the last read (any bytes). */
  readonly core: { readonly lastRead: number };
  /** writes: writes handed to the socket so far (a counter: a change means output moved). */
  readonly out: { readonly writes: number };
  readonly closing: boolean;
  connectionError(reason: GoAwayReasonCode, message: string): void;
  /** GOAWAY NO_ERROR: no new calls; the connection closes when the open ones end. */
  goAway(message: string): void;
  abortCalls(status: StatusCode, message: string): void;
  /** Flushes, reads on for up to lingerMs (until the peer closes), closes. */
  close(lingerMs?: number): Promise<void>;
}

/** Events in the current one-second window. A fixed window: at most twice the limit passes across a window's edge. */
class PerSecond {
  private start = 0;
  private n = 0;

  /** Counts one event at `now`; returns the count in its window. */
  add(now: number): number {
    if (now - this.start >= 1000) {
      this.start = now;
      this.n = 0;
    }
    return ++this.n;
  }
}

type Timer = ReturnType<typeof setTimeout>;

export class ConnectionGuard {
  private idleTimer: Timer | null;
  private ageTimer: Timer | null;
  private graceTimer: Timer | null;
  private stallTimer: Timer | null;
  /** host.out.writes at the last idle check, and when that check saw it change. */
  private writesSeen: number;
  private writeSeenAt: number;
  private lastPingAt: number;
  private pingStrikes: number;
  private readonly cancels: PerSecond;
  private readonly refusals: PerSecond;
  /** Ends a linger early: the peer closed. */
  private lingerEnd: (() => void) | null;

  constructor(
    private readonly limits: GuardLimits,
    private readonly host: GuardHost,
  ) {
    this.idleTimer = null;
    this.ageTimer = null;
    this.graceTimer = null;
    this.stallTimer = null;
    this.writesSeen = 0;
    this.writeSeenAt = 0;
    this.lastPingAt = 0;
    this.pingStrikes = 0;
    this.cancels = new PerSecond();
    this.refusals = new PerSecond();
    this.lingerEnd = null;
  }

  /** Arms the idle timer and the age timer (jittered ±10% so connections opened together do not all leave together). */
  start(): void {
    const l = this.limits;
    if (l.idleTimeoutMs > 0) this.armIdle(Math.ceil(l.idleTimeoutMs / 4));
    if (l.maxConnectionAgeMs > 0) {
      const age = Math.round(l.maxConnectionAgeMs * (0.9 + 0.2 * Math.random()));
      this.ageTimer = setTimeout(() => this.aged(age), Math.max(1, age));
    }
  }

  stop(): void {
    for (const t of [this.idleTimer, this.ageTimer, this.graceTimer, this.stallTimer]) if (t !== null) clearTimeout(t);
    this.idleTimer = this.ageTimer = this.graceTimer = this.stallTimer = null;
  }

  /** Resolves once the peer has been quiet for LINGER_QUIET_MS, closed, or `maxMs` passed (the connection keeps reading meanwhile). */
  linger(maxMs: number): Promise<void> {
    const until = Date.now() + maxMs;
    return new Promise((resolve) => {
      this.lingerEnd = resolve;
      const check = () => {
        const now = Date.now();
        if (now >= until || now - this.host.core.lastRead >= LINGER_QUIET_MS) resolve();
        else setTimeout(check, Math.min(LINGER_QUIET_MS, until - now));
      };
      setTimeout(check, Math.min(LINGER_QUIET_MS, maxMs));
    });
  }

  /** The peer closed: a linger in progress ends now. */
  peerClosed(): void {
    this.lingerEnd?.();
  }

  /** A PING arrived: false (after a GOAWAY ENHANCE_YOUR_CALM) when it was one early PING too many. */
  pinged(): boolean {
    const min = this.limits.keepaliveMinIntervalMs;
    if (min <= 0) return true;
    const now = Date.now();
    const early = this.lastPingAt !== 0 && now - this.lastPingAt < min;
    this.lastPingAt = now;
    if (!early) {
      this.pingStrikes = 0;
      return true;
    }
    if (++this.pingStrikes <= this.limits.keepaliveMaxStrikes) return true;
    this.host.connectionError(
      GoAwayReason.ENHANCE_YOUR_CALM,
      `${CalmToken.TOO_MANY_PINGS}: ${this.pingStrikes} PINGs in a row came sooner than ${min} ms after the previous one (keepaliveMinIntervalMs; ${this.limits.keepaliveMaxStrikes} tolerated); set the client's keepaliveMs to at least ${min}`,
    );
    return false;
  }

  /** A CANCEL ended an open call. */
  cancelled(): void {
    const max = this.limits.maxCancelsPerSecond;
    if (max <= 0) return;
    const n = this.cancels.add(Date.now());
    if (n > max)
      this.host.connectionError(
        GoAwayReason.ENHANCE_YOUR_CALM,
        `${CalmToken.TOO_MANY_CANCELS}: ${n} calls cancelled within one second on this connection (maxCancelsPerSecond ${max}); a client that cancels most calls it opens looks like a rapid-reset attack`,
      );
  }

  /** A REQUEST was refused with RESOURCE_EXHAUSTED over a concurrency limit. */
  refused(): void {
    const max = this.limits.maxRefusedCallsPerSecond;
    if (max <= 0) return;
    const n = this.refusals.add(Date.now());
    if (n > max)
      this.host.connectionError(
        GoAwayReason.ENHANCE_YOUR_CALM,
        `${CalmToken.TOO_MANY_REFUSED_CALLS}: ${n} calls refused within one second on this connection for being over a concurrency limit (maxRefusedCallsPerSecond ${max}); wait for open calls to finish, or back off after RESOURCE_EXHAUSTED`,
      );
  }

  /** A response stream has no credit left and waits for the client's WINDOW. */
  stalled(call: GuardedCall): void {
    call.stalledSince = Date.now();
    const ms = this.limits.streamStallTimeoutMs;
    if (ms > 0 && this.stallTimer === null) this.stallTimer = setTimeout(() => this.checkStalls(), ms);
  }

  /** Ends the streams stalled for streamStallTimeoutMs; re-arms for the earliest of the rest. */
  private checkStalls(): void {
    this.stallTimer = null;
    if (this.host.closing) return;
    const ms = this.limits.streamStallTimeoutMs;
    const now = Date.now();
    let next = Infinity;
    for (const call of this.host.calls.values()) {
      const since = call.stalledSince;
      if (since === 0) continue;
      if (call.credit?.ready === true) {
        // Credit came; the producer now waits for the socket to drain, which the idle rule covers.
        call.stalledSince = 0;
        continue;
      }
      if (now - since >= ms)
        call.abortWithStatus(
          Status.RESOURCE_EXHAUSTED,
          `stream stalled: the client granted no WINDOW credit for ${now - since} ms (the server's streamStallTimeoutMs is ${ms}); read the stream or cancel it`,
        );
      else next = Math.min(next, since + ms);
    }
    if (next !== Infinity) this.stallTimer = setTimeout(() => this.checkStalls(), Math.max(1, next - now));
  }

  /**
   * The idle rule: with no open call the connection is idle after
   * idleTimeoutMs with nothing read; with calls open, after idleTimeoutMs
   * with nothing read and nothing written. Reads carry their time; writes
   * are only counted (no clock per write), so the check runs every quarter
   * of the timeout and dates a change of the count to the check that saw
   * it: a connection with calls open closes between 1 and 1.25 timeouts
   * after the last byte moved, never sooner.
   */
  private armIdle(ms: number): void {
    this.idleTimer = setTimeout(() => {
      this.idleTimer = null;
      if (this.host.closing) return;
      const idleMs = this.limits.idleTimeoutMs;
      const now = Date.now();
      const writes = this.host.out.writes;
      if (writes !== this.writesSeen) {
        this.writesSeen = writes;
        this.writeSeenAt = now;
      }
      const open = this.host.calls.size;
      const quiet = now - (open === 0 ? this.host.core.lastRead : Math.max(this.host.core.lastRead, this.writeSeenAt));
      if (quiet >= idleMs) {
        const what = open === 0 ? "nothing read and no call open" : `nothing read or written while ${open} call${open === 1 ? " was" : "s were"} open`;
        return this.host.connectionError(GoAwayReason.IDLE_TIMEOUT, `idle for ${quiet} ms: ${what} (the server's idleTimeoutMs is ${idleMs})`);
      }
      this.armIdle(Math.min(idleMs - quiet, Math.ceil(idleMs / 4)));
    }, Math.max(1, ms));
  }

  /** At the age: GOAWAY NO_ERROR, then the grace timer. */
  private aged(age: number): void {
    this.ageTimer = null;
    if (this.host.closing) return;
    this.host.goAway(`max_age: this connection reached its maximum age of ${age} ms (maxConnectionAgeMs); open a new connection for new calls`);
    if (this.host.closing) return; // no call was open: already closing
    const grace = this.limits.maxConnectionAgeGraceMs;
    this.graceTimer = setTimeout(() => {
      this.graceTimer = null;
      if (this.host.closing) return;
      this.host.abortCalls(Status.UNAVAILABLE, `max_age: the call was still open ${grace} ms after the connection reached its maximum age (maxConnectionAgeGraceMs); retry it on a new connection`);
      void this.host.close(CLOSE_LINGER_MS);
    }, Math.max(1, grace));
  }
}
