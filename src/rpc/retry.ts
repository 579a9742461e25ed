/**
 * Retries of calls that may have run (docs/RPC.md, "Retries"): the
 * `retry` policy of a channel (idempotent unary methods only, on the
 * listed statuses, with jittered exponential pauses, within the call's
 * deadline, each attempt away from the address that just failed when
 * another is ready) and the retry budget that bounds them (like gRPC's
 * retry throttling: retries stop when they would be more than a share of
 * the calls, so a failing backend is not buried under them). Calls no
 * server processed are sent again without this policy (transparent retry,
 * client-call.ts `refuse`). Owns the decision and the loop; starting an
 * attempt is the channel's.
 */
import type { ClientCallState } from "./client-call.ts";
import type { CallOptions, MethodDescriptor } from "./descriptor.ts";
import { type RpcError, Status, type StatusCode } from "./status.ts";

export interface RetryOptions {
  /** Attempts in all, the first included (default 3). */
  maxAttempts?: number;
  /** First pause between attempts (default 20 ms), doubled each time up to maxBackoffMs (default 1000 ms). */
  initialBackoffMs?: number;
  maxBackoffMs?: number;
  /** Statuses that are retried (default [UNAVAILABLE]). */
  retryOn?: StatusCode[];
  /**
   * The retry budget: every call earns `ratio` retries (default 0.2) and
   * `minPerSecond` more come back each second (default 10), up to ten
   * seconds' worth; a retry with no budget left is not made (the call fails
   * with its own error). `false`: no budget.
   */
  budget?: { ratio?: number; minPerSecond?: number } | false;
}

/** Token bucket of retries: earned by calls and by time, spent by retries. */
export class RetryBudget {
  private tokens: number;
  private last: number;
  private readonly cap: number;

  constructor(
    private readonly ratio: number,
    private readonly minPerSecond: number,
  ) {
    this.cap = Math.max(1, minPerSecond * 10);
    this.tokens = this.cap;
    this.last = Date.now();
  }

  /** A call that may be retried was made. */
  deposit(): void {
    const t = this.tokens + this.ratio;
    this.tokens = t > this.cap ? this.cap : t;
  }

  /** Spends one retry; false when none is left. */
  withdraw(): boolean {
    const now = Date.now();
    this.tokens = Math.min(this.cap, this.tokens + ((now - this.last) * this.minPerSecond) / 1000);
    this.last = now;
    if (this.tokens < 1) return false;
    this.tokens -= 1;
    return true;
  }
}

/** What the retry loop needs from its channel. */
export interface RetryHost {
  /** Starts one more attempt of the call, away from the address `previous` ran on when another is ready. */
  attempt(m: MethodDescriptor, req: unknown, opts: CallOptions, previous: ClientCallState): ClientCallState;
  sleep(ms: number): Promise<void>;
  readonly closed: boolean;
  /** Counters for the channel's stats. */
  counted(kind: "retried" | "throttled"): void;
}

export class RetryPolicy {
  private readonly maxAttempts: number;
  private readonly initialMs: number;
  private readonly maxMs: number;
  private readonly retryOn: readonly number[];
  private readonly budget: RetryBudget | null;

  constructor(opts: RetryOptions) {
    this.maxAttempts = opts.maxAttempts ?? 3;
    this.initialMs = opts.initialBackoffMs ?? 20;
    this.maxMs = opts.maxBackoffMs ?? 1000;
    this.retryOn = opts.retryOn ?? [Status.UNAVAILABLE];
    const b = opts.budget;
    this.budget = b === false ? null : new RetryBudget(b?.ratio ?? 0.2, b?.minPerSecond ?? 10);
  }

  /** Runs the first attempt's promise and the retries; resolves or rejects as the last attempt does. */
  run(host: RetryHost, m: MethodDescriptor, req: unknown, opts: CallOptions, first: ClientCallState): Promise<unknown> {
    this.budget?.deposit();
    return this.loop(host, m, req, opts, first);
  }

  private async loop(host: RetryHost, m: MethodDescriptor, req: unknown, opts: CallOptions, first: ClientCallState): Promise<unknown> {
    // Fix the deadline once so every attempt shares the caller's budget.
    const deadline = first.deadline;
    const attemptOpts: CallOptions = deadline === undefined || opts.deadline === deadline ? opts : { ...opts, deadline };
    let call = first;
    let pause = this.initialMs;
    for (let attempt = 1; ; attempt++) {
      try {
        return await call.promise;
      } catch (e) {
        const status = (e as RpcError).status;
        if (!this.retryOn.includes(status) || attempt >= this.maxAttempts || opts.signal?.aborted || host.closed) throw e;
        const wait = Math.min(pause, this.maxMs) * (0.5 + Math.random() * 0.5);
        if (deadline !== undefined && Date.now() + wait >= deadline) throw e;
        if (this.budget !== null && !this.budget.withdraw()) {
          host.counted("throttled");
          throw e;
        }
        host.counted("retried");
        await host.sleep(Math.max(1, Math.round(wait)));
        pause *= 2;
        call = host.attempt(m, req, attemptOpts, call);
      }
    }
  }
}
