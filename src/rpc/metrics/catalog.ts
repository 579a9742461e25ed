/**
 * The metric families ringrpc exposes: name, type and help text, in the
 * order they are written. The call families follow go-grpc-prometheus
 * (grpc_server_* / grpc_client_*: started, handled by grpc_code, messages
 * received and sent, handling seconds; labels grpc_type, grpc_service,
 * grpc_method); the connection families follow Envoy's downstream
 * connection counters; the runtime families are per worker (label
 * worker="N", and process="P" in the supervised mode) like Tokio's runtime
 * metrics. Owns the names; docs/RPC.md ("Metrics") lists them for users.
 */

export type MetricType = "counter" | "gauge" | "histogram";

export interface Family {
  readonly name: string;
  readonly type: MetricType;
  readonly help: string;
}

/** The call families of one side: `grpc_server` or `grpc_client`. */
export function callFamilies(side: "grpc_server" | "grpc_client"): Family[] {
  const where = side === "grpc_server" ? "on the server" : "by the client";
  return [
    { name: `${side}_started_total`, type: "counter", help: `RPCs started ${where}.` },
    { name: `${side}_handled_total`, type: "counter", help: `RPCs completed ${where}, by status code.` },
    { name: `${side}_msg_received_total`, type: "counter", help: `Messages received ${where} (one per unary request or response, one per stream message).` },
    { name: `${side}_msg_sent_total`, type: "counter", help: `Messages sent ${where} (one per unary request or response, one per stream message).` },
    {
      name: `${side}_handling_seconds`,
      type: "histogram",
      help: `Time from the runtime turn an RPC started in ${where} to the turn it completed in, in seconds.`,
    },
  ];
}

export const SERVER_FAMILIES: Family[] = [
  { name: "ringrpc_server_connections", type: "gauge", help: "Connections open now." },
  { name: "ringrpc_server_connections_accepted_total", type: "counter", help: "Connections accepted, refused ones included." },
  { name: "ringrpc_server_connections_refused_total", type: "counter", help: "Connections refused right after HELLO (at maxConnections, or shutting down)." },
  { name: "ringrpc_server_received_bytes_total", type: "counter", help: "Bytes read from clients." },
  { name: "ringrpc_server_sent_bytes_total", type: "counter", help: "Bytes written to clients." },
  { name: "ringrpc_server_frames_rejected_total", type: "counter", help: "Frames (or connections) refused by a limit, by limit." },
  { name: "ringrpc_server_goaways_sent_total", type: "counter", help: "GOAWAY frames sent, by reason." },
  { name: "ringrpc_server_memory_budget_bytes", type: "gauge", help: "The memory budget of the workers (memoryBudgetBytes, summed)." },
  { name: "ringrpc_server_memory_used_bytes", type: "gauge", help: "Bytes held for peers now: frames being received, output not yet written." },
  { name: "ringrpc_server_memory_pauses_total", type: "counter", help: "Connections paused because the memory budget was exceeded." },
  { name: "ringrpc_server_memory_evictions_total", type: "counter", help: "Connections closed (GOAWAY ENHANCE_YOUR_CALM) to bring memory back under budget." },
  { name: "ringrpc_server_memory_garbage_collections_total", type: "counter", help: "Heap collections run because reads left garbage while the memory budget was loaded (epoll driver)." },
];

export const RUNTIME_FAMILIES: Family[] = [
  { name: "ringrpc_runtime_info", type: "gauge", help: "Always 1; the labels say the worker's driver, ring mode and wake mode." },
  { name: "ringrpc_runtime_loop_steps_total", type: "counter", help: "Event loop steps (uring) or socket callbacks (epoll)." },
  { name: "ringrpc_runtime_ring_submissions_total", type: "counter", help: "Operations submitted to the ring (epoll: operations started)." },
  { name: "ringrpc_runtime_ring_completions_total", type: "counter", help: "Completions reaped from the ring (epoll: operations finished)." },
  { name: "ringrpc_runtime_ring_enters_total", type: "counter", help: "io_uring_enter system calls (uring only)." },
  { name: "ringrpc_runtime_loop_sleeps_total", type: "counter", help: "Times the event loop went to sleep (uring only)." },
  { name: "ringrpc_runtime_loop_wakeups_total", type: "counter", help: "What ended each sleep: the eventfd, JS queuing work, the poll timer (uring only)." },
  { name: "ringrpc_runtime_loop_idle_polls_total", type: "counter", help: "Idle moments in which the loop polled the ring before sleeping (uring, idle poll on)." },
  { name: "ringrpc_runtime_loop_idle_poll_hits_total", type: "counter", help: "Idle polls that found work, so the loop did not sleep (uring, idle poll on)." },
  { name: "ringrpc_runtime_late_wakeups_total", type: "counter", help: "Wake-up probes seen more than 2 ms late (uring only; should stay 0)." },
  { name: "ringrpc_runtime_wake_probes_total", type: "counter", help: "Wake-up probes run while idle (uring only)." },
  { name: "ringrpc_runtime_buffer_arena_bytes", type: "gauge", help: "Native memory the buffer pool carves from (uring: the arena; epoll: 0)." },
  { name: "ringrpc_runtime_buffer_in_use_bytes", type: "gauge", help: "Bytes of pool buffers handed out and not yet released." },
  { name: "ringrpc_runtime_buffer_fallbacks_total", type: "counter", help: "Buffers the arena could not serve (full): plain memory was used instead." },
  { name: "ringrpc_runtime_recv_no_buffers_total", type: "counter", help: "Streaming reads that found every provided buffer in use (ENOBUFS) and waited (uring only)." },
  { name: "ringrpc_runtime_recv_buffers", type: "gauge", help: "Provided buffers the kernel has for streaming reads; doubles at ENOBUFS up to bufCount (uring only)." },
];
