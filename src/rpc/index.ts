/**
 * Public API of the RPC layer (`ringrpc/rpc`): server, channel (with its
 * targets and resolvers), interceptors, the codegen contract types
 * (descriptor.ts) and statuses (status.ts).
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
export { MetadataMap, type MetadataValue } from "./metadata-map.ts";
export type { CompressionAlgorithm, CompressionOptions } from "./compression.ts";
export { RpcError, Status, statusName, type StatusCode, type StatusName } from "./status.ts";
export { typedErrorMessage } from "./typed-error-message.ts";
export { createRpcServer, type RpcServer, type ServerOptions, type ServerStats } from "./server.ts";
export type { Authorize, AuthorizeContext } from "./server-auth.ts";
export { createChannel, type AddressStats, type Channel, type ChannelOptions, type ChannelStats, type Endpoint, type RetryOptions } from "./client.ts";
export { type Resolver, type ResolverListener, StaticResolver, TargetError } from "./resolver.ts";
export { DnsResolver, type DnsResolverOptions } from "./dns-resolver.ts";
export { resolverFor } from "./target.ts";
export type { BalancePolicy } from "./balancer.ts";
export type { OutlierOptions } from "./outlier.ts";
export { chainInterceptors, type ClientCall, type ClientInterceptor, type ServerCall, type ServerInterceptor } from "./interceptors.ts";
export { DEFAULT_LIMITS, FrameType, GoAwayReason, PROTOCOL_VERSION, type PeerLimits } from "./protocol.ts";
export { ClientMetrics, type ClientMetricsOptions } from "./metrics/client-metrics.ts";
export { DEFAULT_BUCKETS } from "./metrics/call-counters.ts";
export { workerMetrics, type ServerMetricsReport, type WorkerMetricsReport } from "./metrics/worker-report.ts";
export { serveMetrics, type MeteredSupervisor, type MetricsEndpointOptions } from "./metrics/endpoint.ts";
