/**
 * ClientMetrics: the client side's grpc_client_* counters, turned on per
 * channel with the `metrics` option (`createChannel(rt, { endpoints,
 * metrics })`); one ClientMetrics may serve every channel of a thread.
 * Methods get their slot the first time they are called: a descriptor
 * carries a process-wide method id under a symbol (non-enumerable, so it
 * never shows in a spread or a comparison), and the slot is an array index
 * by that id, so a call costs no Map lookup. text() is the Prometheus
 * exposition of what this thread counted; snapshot() is the same as plain
 * data, for sending to another thread that exposes it.
 */
import type { MethodDescriptor } from "../descriptor.ts";
import { CallCounters, type CallCountersSnapshot, DEFAULT_BUCKETS } from "./call-counters.ts";
import { callFamilies } from "./catalog.ts";
import { exposition } from "./exposition.ts";
import { callSamples } from "./samples.ts";

const METHOD_ID = Symbol("ringrpc.methodId");
let nextMethodId = 0;
/** Ids of descriptors that cannot take a property (frozen): rare, so a WeakMap is fine. */
const frozenIds = new WeakMap<MethodDescriptor, number>();

function methodId(m: MethodDescriptor): number {
  const id = (m as unknown as Record<symbol, number | undefined>)[METHOD_ID];
  if (id !== undefined) return id;
  const known = frozenIds.get(m);
  if (known !== undefined) return known;
  const fresh = nextMethodId++;
  if (Object.isExtensible(m)) Object.defineProperty(m, METHOD_ID, { value: fresh, enumerable: false });
  else frozenIds.set(m, fresh);
  return fresh;
}

export interface ClientMetricsOptions {
  /** Upper bounds of the grpc_client_handling_seconds buckets (default DEFAULT_BUCKETS). */
  buckets?: readonly number[];
}

export class ClientMetrics {
  /** The counters channels count into (src/rpc/client-call.ts). */
  readonly counters: CallCounters;
  /** Slot by method id; undefined until the method is first called. */
  private readonly slotById: (number | undefined)[];
  /** Slot by method path, consulted once per descriptor: two descriptors of one method (a copy) share it. */
  private readonly slotByPath: Map<string, number>;

  constructor(opts: ClientMetricsOptions = {}) {
    // Off a runtime, a microtask is the end of the turn.
    this.counters = new CallCounters(opts.buckets ?? DEFAULT_BUCKETS, queueMicrotask);
    this.slotById = [];
    this.slotByPath = new Map();
  }

  /** The slot of `m`, registered on first use. */
  slotOf(m: MethodDescriptor): number {
    const id = methodId(m);
    const slot = this.slotById[id];
    if (slot !== undefined) return slot;
    let bySlot = this.slotByPath.get(m.path);
    if (bySlot === undefined) {
      bySlot = this.counters.addMethod({ service: m.service, method: m.name, kind: m.kind });
      this.slotByPath.set(m.path, bySlot);
    }
    this.slotById[id] = bySlot;
    return bySlot;
  }

  snapshot(): CallCountersSnapshot {
    return this.counters.snapshot();
  }

  /** The Prometheus text exposition of the grpc_client_* families. */
  text(): string {
    return exposition(callFamilies("grpc_client"), callSamples("grpc_client", this.snapshot()));
  }
}
