/**
 * Public API of the RPC layer (`ringrpc/rpc`): server, channel, interceptors,
 * the codegen contract types (descriptor.ts) and statuses (status.ts).
 */
export type {
  BidiHandler,
  CallContext,
  CallInvoker,
  CallOptions,
  ClientStreamHandler,
  ErrorType,
  MessageType,
  Metadata,
  MethodDescriptor,
  MethodKind,
  ServerStreamHandler,
  ServiceBinding,
  ServiceDescriptor,
  ServiceIdl,
  UnaryHandler,
  ValidationIssue,
} from "./descriptor.ts";
export { RpcError, Status, statusName, type StatusCode, type StatusName } from "./status.ts";
export { typedErrorMessage } from "./typed-error-message.ts";
export { createRpcServer, type RpcServer, type ServerOptions, type ServerStats } from "./server.ts";
export type { Authorize, AuthorizeContext } from "./server-auth.ts";
export { createChannel, type Channel, type ChannelOptions, type Endpoint, type RetryOptions } from "./client.ts";
export { chainInterceptors, type ClientCall, type ClientInterceptor, type ServerCall, type ServerInterceptor } from "./interceptors.ts";
export { DEFAULT_LIMITS, FrameType, GoAwayReason, PROTOCOL_VERSION, type PeerLimits } from "./protocol.ts";
export { ClientMetrics, type ClientMetricsOptions } from "./metrics/client-metrics.ts";
export { DEFAULT_BUCKETS } from "./metrics/call-counters.ts";
export { workerMetrics, type ServerMetricsReport, type WorkerMetricsReport } from "./metrics/worker-report.ts";
export { serveMetrics, type MeteredSupervisor, type MetricsEndpointOptions } from "./metrics/endpoint.ts";
