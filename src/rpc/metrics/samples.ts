/**
 * Samples: the values of a scrape, one per series, before aggregation and
 * formatting. Turns a CallCountersSnapshot, a server's connection counters
 * and a worker's runtime stats into samples named by catalog.ts, with their
 * labels already written (`grpc_method="get",grpc_code="OK"`), so summing
 * workers is adding values by key and formatting is printing them. Runs on
 * the main thread at scrape time only.
 */
import type { RuntimeStats } from "../../runtime/types.ts";
import type { CallCountersSnapshot, MethodKey } from "./call-counters.ts";
import { STATUS_CODES } from "./call-counters.ts";
import type { ServerMetricsReport } from "./worker-report.ts";

export interface Sample {
  /** The family (catalog.ts) the sample belongs to. */
  readonly family: string;
  /** "" for counters and gauges; "_bucket", "_sum" or "_count" for a histogram's series. */
  readonly suffix: "" | "_bucket" | "_sum" | "_count";
  /** The label pairs as written between the braces, `le` last; "" for none. */
  readonly labels: string;
  value: number;
  /** Counters add up across a worker's restarts; gauges are only what answered now. */
  readonly counter: boolean;
}

export function sampleKey(s: Sample): string {
  return `${s.family}${s.suffix}{${s.labels}}`;
}

/** A label value as the exposition format quotes it. */
export function labelValue(v: string): string {
  return `"${v.replace(/\\/g, "\\\\").replace(/"/g, '\\"').replace(/\n/g, "\\n")}"`;
}

export function labelPairs(pairs: ReadonlyArray<readonly [string, string]>): string {
  return pairs.map(([k, v]) => `${k}=${labelValue(v)}`).join(",");
}

/**
 * grpc_code values as go-grpc-prometheus writes them (Go's codes.Code
 * names), so dashboards and alerts written for it work unchanged; indexed
 * by status number.
 */
const GRPC_CODE_NAMES = [
  "OK", "Canceled", "Unknown", "InvalidArgument", "DeadlineExceeded", "NotFound", "AlreadyExists", "PermissionDenied",
  "ResourceExhausted", "FailedPrecondition", "Aborted", "OutOfRange", "Unimplemented", "Internal", "Unavailable", "DataLoss", "Unauthenticated",
];

/** go-grpc-prometheus's grpc_type values. */
function grpcType(kind: MethodKey["kind"]): string {
  return kind === "bidi" ? "bidi_stream" : kind;
}

/** Prometheus writes bucket bounds as Go formats floats; JS's shortest form parses the same. */
function le(bound: number): string {
  return Number.isFinite(bound) ? String(bound) : "+Inf";
}

/** The call families' samples of one side. */
export function callSamples(side: "grpc_server" | "grpc_client", snap: CallCountersSnapshot): Sample[] {
  const out: Sample[] = [];
  const nb = snap.bounds.length + 1;
  const add = (family: string, suffix: Sample["suffix"], labels: string, value: number) => out.push({ family, suffix, labels, value, counter: true });
  snap.methods.forEach((m, slot) => {
    const base = labelPairs([["grpc_type", grpcType(m.kind)], ["grpc_service", m.service], ["grpc_method", m.method]]);
    add(`${side}_started_total`, "", base, snap.started[slot] ?? 0);
    for (let code = 0; code < STATUS_CODES; code++) {
      const n = snap.handled[slot * STATUS_CODES + code] ?? 0;
      // OK is always written, so a method's series exist from the start; other codes once they happened.
      if (n > 0 || code === 0) add(`${side}_handled_total`, "", `${base},grpc_code=${labelValue(GRPC_CODE_NAMES[code]!)}`, n);
    }
    add(`${side}_msg_received_total`, "", base, snap.received[slot] ?? 0);
    add(`${side}_msg_sent_total`, "", base, snap.sent[slot] ?? 0);
    let cumulative = 0;
    for (let i = 0; i < nb; i++) {
      cumulative += snap.buckets[slot * nb + i] ?? 0;
      add(`${side}_handling_seconds`, "_bucket", `${base},le="${le(i < nb - 1 ? snap.bounds[i]! : Number.POSITIVE_INFINITY)}"`, cumulative);
    }
    add(`${side}_handling_seconds`, "_sum", base, snap.sums[slot] ?? 0);
    add(`${side}_handling_seconds`, "_count", base, cumulative);
  });
  return out;
}

/** A server's connection-level samples (summed across workers later). */
export function serverSamples(r: ServerMetricsReport): Sample[] {
  const c = r.connections;
  const out: Sample[] = [];
  const add = (family: string, value: number, counter: boolean, labels = "") => out.push({ family, suffix: "", labels, value, counter });
  add("ringrpc_server_connections", c.open, false);
  add("ringrpc_server_connections_accepted_total", c.accepted, true);
  add("ringrpc_server_connections_refused_total", c.refused, true);
  add("ringrpc_server_received_bytes_total", c.bytesIn, true);
  add("ringrpc_server_sent_bytes_total", c.bytesOut, true);
  for (const [limit, n] of Object.entries(c.rejected)) add("ringrpc_server_frames_rejected_total", n, true, labelPairs([["limit", limit]]));
  for (const [reason, n] of Object.entries(c.goAways)) add("ringrpc_server_goaways_sent_total", n, true, labelPairs([["reason", reason]]));
  add("ringrpc_server_memory_budget_bytes", r.memory.limitBytes, false);
  add("ringrpc_server_memory_used_bytes", r.memory.usedBytes, false);
  add("ringrpc_server_memory_pauses_total", r.memory.pauses, true);
  add("ringrpc_server_memory_evictions_total", r.memory.evictions, true);
  add("ringrpc_server_memory_garbage_collections_total", r.memory.garbageCollections, true);
  return out;
}

/** One worker's runtime samples, labelled with `who` (worker, and process when supervised). */
export function runtimeSamples(who: ReadonlyArray<readonly [string, string]>, driver: string, s: RuntimeStats): Sample[] {
  const out: Sample[] = [];
  const base = labelPairs(who);
  const add = (family: string, value: number, counter: boolean, extra: ReadonlyArray<readonly [string, string]> = []) =>
    out.push({ family, suffix: "", labels: extra.length === 0 ? base : `${base},${labelPairs(extra)}`, value, counter });
  const w = s.wake;
  add("ringrpc_runtime_info", 1, false, [["driver", driver], ["ring_mode", w?.ringMode ?? "none"], ["wake_mode", w?.wakeMode ?? "none"]]);
  add("ringrpc_runtime_loop_steps_total", s.steps, true);
  add("ringrpc_runtime_ring_submissions_total", s.submitted, true);
  add("ringrpc_runtime_ring_completions_total", s.completed, true);
  if (s.enters >= 0) add("ringrpc_runtime_ring_enters_total", s.enters, true);
  if (w !== undefined) {
    add("ringrpc_runtime_loop_sleeps_total", w.sleeps, true);
    add("ringrpc_runtime_loop_wakeups_total", w.eventfdWakes, true, [["cause", "eventfd"]]);
    add("ringrpc_runtime_loop_wakeups_total", w.jsWakes, true, [["cause", "js"]]);
    add("ringrpc_runtime_loop_wakeups_total", w.pollWakes, true, [["cause", "poll"]]);
    add("ringrpc_runtime_loop_idle_polls_total", w.idlePolls, true);
    add("ringrpc_runtime_loop_idle_poll_hits_total", w.idlePollHits, true);
    add("ringrpc_runtime_late_wakeups_total", w.lateWakes, true);
    add("ringrpc_runtime_wake_probes_total", w.probes, true);
  }
  const b = s.buffers;
  if (b !== undefined) {
    add("ringrpc_runtime_buffer_arena_bytes", b.arenaBytes, false);
    add("ringrpc_runtime_buffer_in_use_bytes", b.inUseBytes, false);
    add("ringrpc_runtime_buffer_fallbacks_total", b.fallbacks, true);
    if (w !== undefined) {
      add("ringrpc_runtime_recv_no_buffers_total", b.recvNoBuffers, true);
      add("ringrpc_runtime_recv_buffers", b.recvBuffers, false);
    }
  }
  return out;
}
