/**
 * RPC status codes (numbered as gRPC's) and the error type that carries one
 * across the wire. Typed IDL errors (generated) extend RpcError with a stable
 * `code` string of their own and fields.
 */

export const Status = {
  OK: 0,
  CANCELLED: 1,
  UNKNOWN: 2,
  INVALID_ARGUMENT: 3,
  DEADLINE_EXCEEDED: 4,
  NOT_FOUND: 5,
  ALREADY_EXISTS: 6,
  PERMISSION_DENIED: 7,
  RESOURCE_EXHAUSTED: 8,
  FAILED_PRECONDITION: 9,
  ABORTED: 10,
  OUT_OF_RANGE: 11,
  UNIMPLEMENTED: 12,
  INTERNAL: 13,
  UNAVAILABLE: 14,
  DATA_LOSS: 15,
  UNAUTHENTICATED: 16,
} as const;
export type StatusName = keyof typeof Status;
export type StatusCode = (typeof Status)[StatusName];

const statusNames = Object.fromEntries(Object.entries(Status).map(([k, v]) => [v, k])) as Record<number, StatusName>;

export function statusName(code: number): StatusName | "UNKNOWN" {
  return statusNames[code] ?? "UNKNOWN";
}

/**
 * An error with an RPC status. `code` is the status name for plain statuses
 * ("NOT_FOUND") and the IDL error's qualified name for typed errors
 * ("kv.v1.KeyNotFound"); `status` is always the numeric status.
 * Match on `code`/`status`, never `instanceof`, across Worker boundaries.
 */
export class RpcError extends Error {
  override name = "RpcError";
  readonly status: StatusCode;
  readonly code: string;
  /** Trailing metadata that came with the error, if any. */
  metadata: Record<string, string | Uint8Array> | undefined;
  constructor(status: StatusCode, message: string, code?: string) {
    super(message);
    this.status = status;
    this.code = code ?? statusName(status);
    this.metadata = undefined;
  }
}

/** True for anything shaped like an RpcError (works across Worker boundaries, no instanceof). */
export function isRpcErrorLike(e: unknown): e is RpcError {
  return typeof e === "object" && e !== null && typeof (e as RpcError).status === "number" && typeof (e as RpcError).code === "string";
}

/** `e` itself when it is an RpcError, else an error with `status` (INTERNAL by default) saying `context` and what `e` was. */
export function asRpcError(e: unknown, context: string, status: StatusCode = Status.INTERNAL): RpcError {
  return isRpcErrorLike(e) ? e : new RpcError(status, `${context}: ${e instanceof Error ? e.message : String(e)}`);
}
