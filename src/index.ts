/**
 * ringrpc's package entry: the multi-core serve(), openChannel() (a client
 * that owns its runtime), the RPC client and server,
 * the runtime and launcher, and the codec primitives generated code uses.
 */
export { serve, type ServeHandle, type ServeMetricsOptions, type ServeOptions, type ServicesSource } from "./serve.ts";
export { openChannel, type ChannelTarget, type OpenChannelOptions, type OwnedChannel } from "./open-channel.ts";
export * from "./rpc/index.ts";
export * from "./runtime/index.ts";
export { MsgReader, MsgWriter, DecodeError, EncodeError } from "./codec/index.ts";
export { HealthService } from "./services/health.ts";
export { ReflectionService, reflectionBinding } from "./services/reflection.ts";
export { HealthClient, ServingStatus } from "./services/gen/health.ts";
export { ReflectionClient } from "./services/gen/reflection.ts";
