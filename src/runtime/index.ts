/**
 * Public entry of the per-core runtime (`ringrpc/runtime`): the Runtime API,
 * its errors (TLS's included), driver selection, the io_uring and kTLS
 * probes and the thread-per-core launcher (with its supervised
 * multi-process mode).
 */
export type * from "./types.ts";
export { DriverUnavailable, Errno, errnoName, IoError, PortInUse } from "./errors.ts";
export { chooseDriver, createRuntime, createRuntimeFor, driverFromEnv, type DriverChoice, type DriverNeeds, type DriverRequest } from "./select.ts";
export { TlsConfigError, TlsError, type TlsSide } from "./tls-errors.ts";
export {
  launch, ProcessStartError, resolveWorkerCount, WorkerStartError,
  type LaunchOptions, type Supervisor, type WorkerContext, type WorkerProcessInfo, type WorkerService, type WorkerThreadInfo,
} from "./launcher.ts";
export { probeUring, type UringProbe } from "./uring/probe.ts";
export { probeKtls, type KtlsProbe } from "./uring/ktls.ts";
export { createLogger, type LogFields, type LogFormat, type Logger, withFields } from "./log/logger.ts";
