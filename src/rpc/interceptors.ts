/**
 * Interceptors for both sides, `(call, next) => next(call)` style: enough for
 * auth, logging, metrics and retries (examples in docs/RPC.md). Owns the
 * types and the chaining; the client and server decide what a call carries.
 */
import type { CallContext, CallOptions, MethodDescriptor } from "./descriptor.ts";

/** A client call as interceptors see it; they may replace `options` or `request`. */
export interface ClientCall {
  readonly method: MethodDescriptor;
  /** The request message (unary, server stream) or the request stream (client stream, bidi). */
  request: unknown;
  options: CallOptions;
}

/**
 * Returns what `next` returns: a Promise of the response for unary and
 * client-stream calls, an AsyncIterable of responses for server-stream and
 * bidi calls.
 */
export type ClientInterceptor = (call: ClientCall, next: (call: ClientCall) => unknown) => unknown;

/** A server call as interceptors see it. Throw an RpcError to refuse it. */
export interface ServerCall {
  readonly method: MethodDescriptor;
  readonly ctx: CallContext;
  /** The decoded request (unary, server stream) or the request stream (client stream, bidi). */
  request: unknown;
}

/** Returns what the handler returns: a value or Promise (unary, client stream), an iterable (streams). */
export type ServerInterceptor = (call: ServerCall, next: (call: ServerCall) => unknown) => unknown;

/** Builds one function that runs the interceptors in order around `last`. */
export function chainInterceptors<C>(
  interceptors: readonly ((call: C, next: (call: C) => unknown) => unknown)[],
  last: (call: C) => unknown,
): (call: C) => unknown {
  let next = last;
  for (let i = interceptors.length - 1; i >= 0; i--) {
    const ic = interceptors[i]!;
    const inner = next;
    next = (call: C) => ic(call, inner);
  }
  return next;
}
