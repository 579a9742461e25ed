/**
 * The interop server's handlers for interop.v1.TestService (test.ridl), with
 * what they observed: which calls saw their `ctx.signal` abort, and why. The
 * client side of the cases is test/interop/cases.test.ts; this file answers
 * as the IDL's doc comments say and asserts nothing itself.
 * `unimplementedCall` is left out on purpose: the binding lists it.
 */
import type { CallContext } from "../../src/rpc/descriptor.ts";
import { RpcError, type StatusCode } from "../../src/rpc/status.ts";
import {
  bindTestService,
  type EchoStatus,
  type Empty,
  type SimpleRequest,
  type SimpleResponse,
  type StreamingInputCallRequest,
  type StreamingInputCallResponse,
  type StreamingOutputCallRequest,
  type StreamingOutputCallResponse,
  type TestServiceHandlers,
} from "./gen/test.ts";

/** Request metadata keys whose values the server echoes when asked (`echo_metadata`). */
export const ECHO_INITIAL_KEY = "x-interop-echo-initial";
export const ECHO_TRAILING_KEY = "x-interop-echo-trailing-bin";

/** One handler whose ctx.signal aborted: its method and the abort's status name. */
export interface AbortSeen {
  method: string;
  code: string;
}

/** What the handlers observed, read by the cases through the server worker. */
export interface ServiceLog {
  aborts: AbortSeen[];
}

function fail(status: EchoStatus): never {
  throw new RpcError(status.code as StatusCode, status.message);
}

/** Sets the headers and trailers a call asked to have echoed (every value, in order). */
function echoMetadata(ctx: CallContext): void {
  const md = ctx.metadataMap;
  const initial = md.getAll(ECHO_INITIAL_KEY);
  if (initial.length > 0) ctx.setHeader(ECHO_INITIAL_KEY, initial);
  for (const v of md.getAll(ECHO_TRAILING_KEY)) ctx.addTrailer(ECHO_TRAILING_KEY, v);
}

function watchAbort(log: ServiceLog, method: string, ctx: CallContext): void {
  ctx.signal.addEventListener("abort", () => {
    const reason = ctx.signal.reason as { code?: string } | undefined;
    log.aborts.push({ method, code: reason?.code ?? String(reason) });
  });
}

function* respond(req: StreamingOutputCallRequest, ctx: CallContext): Generator<StreamingOutputCallResponse> {
  for (const p of req.response_parameters) {
    if (ctx.signal.aborted) return;
    yield { payload: new Uint8Array(p.size) };
  }
}

/** The server side of every case; `log` collects what it saw. */
export class InteropTestService implements Omit<TestServiceHandlers, "unimplementedCall"> {
  constructor(readonly log: ServiceLog) {}

  emptyCall(_req: Empty): Empty {
    return {};
  }

  unaryCall(req: SimpleRequest, ctx: CallContext): SimpleResponse {
    if (req.echo_metadata) echoMetadata(ctx);
    if (req.response_status !== undefined && req.response_status.code !== 0) fail(req.response_status);
    return { payload: new Uint8Array(req.response_size) };
  }

  async *streamingOutputCall(req: StreamingOutputCallRequest, ctx: CallContext): AsyncGenerator<StreamingOutputCallResponse> {
    watchAbort(this.log, "streamingOutputCall", ctx);
    if (req.echo_metadata) echoMetadata(ctx);
    yield* respond(req, ctx);
    if (req.response_status !== undefined && req.response_status.code !== 0) fail(req.response_status);
  }

  async streamingInputCall(reqs: AsyncIterable<StreamingInputCallRequest>, ctx: CallContext): Promise<StreamingInputCallResponse> {
    watchAbort(this.log, "streamingInputCall", ctx);
    let size = 0;
    for await (const r of reqs) size += r.payload.length;
    return { aggregated_payload_size: size };
  }

  async *fullDuplexCall(reqs: AsyncIterable<StreamingOutputCallRequest>, ctx: CallContext): AsyncGenerator<StreamingOutputCallResponse> {
    watchAbort(this.log, "fullDuplexCall", ctx);
    let first = true;
    for await (const req of reqs) {
      if (first && req.echo_metadata) {
        echoMetadata(ctx);
        ctx.sendHeaders();
      }
      first = false;
      yield* respond(req, ctx);
      if (req.response_status !== undefined && req.response_status.code !== 0) fail(req.response_status);
    }
  }

  async *halfDuplexCall(reqs: AsyncIterable<StreamingOutputCallRequest>, ctx: CallContext): AsyncGenerator<StreamingOutputCallResponse> {
    watchAbort(this.log, "halfDuplexCall", ctx);
    const all: StreamingOutputCallRequest[] = [];
    for await (const req of reqs) all.push(req);
    for (const req of all) yield* respond(req, ctx);
  }
}

/** The binding the interop server serves: unimplementedCall answers UNIMPLEMENTED; UnimplementedService is not bound. */
export function interopBinding(log: ServiceLog) {
  return bindTestService(new InteropTestService(log), { unimplemented: ["unimplementedCall"] });
}
