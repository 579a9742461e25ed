/**
 * CallCounters: the per-call counters of one side (a server's, or a
 * ClientMetrics'), in the shape of go-grpc-prometheus: calls started,
 * handled by status code, messages received and sent, and the handling-time
 * histogram, per method. A method is a slot (an index fixed when it is
 * registered), so counting a call is a few increments of typed arrays: no
 * Map lookup, no string, no clock per call (durations come from the
 * TurnClock). snapshot() copies everything into plain arrays that survive
 * postMessage and IPC. Owns counting only; names and text are elsewhere
 * (catalog.ts, exposition.ts).
 */
import type { MethodKind } from "../descriptor.ts";
import { TurnClock } from "./turn-clock.ts";

/** gRPC status codes 0..16; a code outside them counts as UNKNOWN (2). */
export const STATUS_CODES = 17;
const UNKNOWN = 2;

/**
 * Upper bounds of the handling-time buckets, in seconds: Prometheus's
 * default buckets (5 ms to 10 s, what go-grpc-prometheus uses) with four
 * finer ones below, since a ringrpc call on one machine takes 50-500 µs.
 */
export const DEFAULT_BUCKETS: readonly number[] = [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

/** A method as its metrics name it. */
export interface MethodKey {
  readonly service: string;
  readonly method: string;
  readonly kind: MethodKind;
}

/** Everything CallCounters counted, as plain arrays (slot-major; handled: slot * 17 + code; buckets: slot * (bounds + 1) + i, not cumulative, the last is +Inf). */
export interface CallCountersSnapshot {
  readonly methods: MethodKey[];
  readonly bounds: number[];
  readonly started: number[];
  readonly handled: number[];
  readonly received: number[];
  readonly sent: number[];
  readonly buckets: number[];
  readonly sums: number[];
}

/** Checks histogram bounds: finite, positive, strictly increasing. */
export function checkBuckets(bounds: readonly number[]): readonly number[] {
  if (bounds.length === 0) throw new RangeError("metrics buckets must not be empty");
  for (let i = 0; i < bounds.length; i++) {
    const b = bounds[i]!;
    if (!Number.isFinite(b) || b <= 0 || (i > 0 && b <= bounds[i - 1]!))
      throw new RangeError(`metrics buckets must be finite, positive and increasing (got ${JSON.stringify(bounds)})`);
  }
  return bounds;
}

/**
 * A server's snapshot with the messages it does not count one by one: a
 * unary or server-streaming call received exactly one request message when
 * it started (a request that fails to decode never starts), and a unary or
 * client-streaming call sent exactly one response message when it ended OK
 * (every other end sends none). Deriving them saves the hot path two
 * increments per call; streams' messages are counted as they pass.
 */
export function withSingleMessages(snap: CallCountersSnapshot): CallCountersSnapshot {
  const received = [...snap.received];
  const sent = [...snap.sent];
  snap.methods.forEach((m, slot) => {
    if (m.kind === "unary" || m.kind === "server_stream") received[slot] = (received[slot] ?? 0) + (snap.started[slot] ?? 0);
    if (m.kind === "unary" || m.kind === "client_stream") sent[slot] = (sent[slot] ?? 0) + (snap.handled[slot * STATUS_CODES] ?? 0);
  });
  return { ...snap, received, sent };
}

export class CallCounters {
  readonly methods: MethodKey[];
  started: Float64Array;
  handled: Float64Array;
  received: Float64Array;
  sent: Float64Array;
  buckets: Float64Array;
  sums: Float64Array;
  private readonly bounds: readonly number[];
  private readonly boundsMs: Float64Array;
  private readonly clock: TurnClock;
  private capacity: number;

  constructor(bounds: readonly number[], defer: (fn: () => void) => void) {
    this.bounds = checkBuckets(bounds);
    this.boundsMs = Float64Array.from(bounds, (b) => b * 1000);
    this.methods = [];
    this.capacity = 0;
    this.started = this.handled = this.received = this.sent = this.buckets = this.sums = new Float64Array(0);
    this.clock = new TurnClock(defer, this);
    this.grow(8);
  }

  /** Registers a method; its slot is the index to count it by. */
  addMethod(key: MethodKey): number {
    const slot = this.methods.length;
    if (slot === this.capacity) this.grow(this.capacity * 2);
    this.methods.push(key);
    return slot;
  }

  /** A call of `slot` started: counts it and returns its start time (for end()). */
  start(slot: number): number {
    this.started[slot]!++;
    return this.clock.now();
  }

  /** The call that start() returned `t0` for ended with `code`. */
  end(slot: number, code: number, t0: number): void {
    this.handled[slot * STATUS_CODES + (code >>> 0 < STATUS_CODES ? code : UNKNOWN)]!++;
    this.clock.observe(slot, t0);
  }

  snapshot(): CallCountersSnapshot {
    const n = this.methods.length;
    const nb = this.boundsMs.length + 1;
    return {
      methods: this.methods.map((m) => ({ ...m })),
      bounds: [...this.bounds],
      started: Array.from(this.started.subarray(0, n)),
      handled: Array.from(this.handled.subarray(0, n * STATUS_CODES)),
      received: Array.from(this.received.subarray(0, n)),
      sent: Array.from(this.sent.subarray(0, n)),
      buckets: Array.from(this.buckets.subarray(0, n * nb)),
      sums: Array.from(this.sums.subarray(0, n)),
    };
  }

  /** The TurnClock's answer: `count` calls of `slot` took `ms` each. */
  record(slot: number, ms: number, count: number): void {
    const bounds = this.boundsMs;
    const nb = bounds.length;
    let i = 0;
    while (i < nb && ms > bounds[i]!) i++;
    this.buckets[slot * (nb + 1) + i]! += count;
    this.sums[slot]! += (count * ms) / 1000;
  }

  private grow(capacity: number): void {
    const nb = this.boundsMs.length + 1;
    const bigger = (old: Float64Array, per: number) => {
      const a = new Float64Array(capacity * per);
      a.set(old);
      return a;
    };
    this.started = bigger(this.started, 1);
    this.handled = bigger(this.handled, STATUS_CODES);
    this.received = bigger(this.received, 1);
    this.sent = bigger(this.sent, 1);
    this.buckets = bigger(this.buckets, nb);
    this.sums = bigger(this.sums, 1);
    this.clock.ensureSlots(capacity);
    this.capacity = capacity;
  }
}
