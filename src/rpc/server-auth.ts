/**
 * The server's authorize hook (ServerOptions.authorize, docs/RPC.md
 * "Authorizing calls"): it sees a REQUEST's method, metadata and peer once
 * the method is found and before anything of the request body is decoded,
 * so a peer it refuses never makes the server decode a body. Owns the
 * hook's types and what its outcome becomes: null (allowed) or the
 * RpcError the call is refused with. When it runs, and what is kept while
 * an asynchronous hook decides, is server-connection.ts's business.
 */
import type { Metadata, MethodDescriptor } from "./descriptor.ts";
import { isThenable } from "./server-call.ts";
import { isRpcErrorLike, RpcError, Status } from "./status.ts";

/** What the hook sees of a call: never its body. */
export interface AuthorizeContext {
  /** The method called (always one this server serves: an unknown path is UNIMPLEMENTED before the hook runs). */
  readonly method: MethodDescriptor;
  /** The request metadata (an empty object when the client sent none). */
  readonly metadata: Metadata;
  /** The client's address, when the runtime knows it. */
  readonly peer: { address: string; port: number } | null;
}

/**
 * Returns (or resolves) to let the call run; throws (or rejects) to refuse
 * it: an RpcError is sent with its status and message (UNAUTHENTICATED,
 * PERMISSION_DENIED, RESOURCE_EXHAUSTED, ...), anything else as
 * UNAUTHENTICATED with REFUSED_MESSAGE.
 */
export type Authorize = (ctx: AuthorizeContext) => void | Promise<void>;

/** null: the call may run; an RpcError: the call is refused with it. */
export type AuthVerdict = RpcError | null;

/** The message of a call refused by a hook that threw something other than an RpcError. */
export const REFUSED_MESSAGE = "call not authorized: check the credentials in its metadata";

/**
 * Runs the hook on `ctx`: its verdict at once when it returned or threw,
 * or a promise of the verdict when it returned a promise.
 */
export function runAuthorize(authorize: Authorize, ctx: AuthorizeContext, debug: boolean): AuthVerdict | Promise<AuthVerdict> {
  let outcome: unknown;
  try {
    outcome = authorize(ctx);
  } catch (e) {
    return refusal(e, debug);
  }
  if (!isThenable(outcome)) return null;
  return Promise.resolve(outcome).then(
    () => null,
    (e: unknown) => refusal(e, debug),
  );
}

/** The RpcError a hook's throw becomes; a plain error says nothing of itself unless `debug`. */
function refusal(e: unknown, debug: boolean): RpcError {
  if (isRpcErrorLike(e) && e.status !== Status.OK) return typeof e.message === "string" ? e : new RpcError(e.status, REFUSED_MESSAGE);
  if (!debug) return new RpcError(Status.UNAUTHENTICATED, REFUSED_MESSAGE);
  return new RpcError(Status.UNAUTHENTICATED, `${REFUSED_MESSAGE} (authorize threw: ${e instanceof Error ? e.message : String(e)})`);
}
