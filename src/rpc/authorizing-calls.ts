/**
 * AuthorizingCalls: the calls of one server connection whose asynchronous
 * authorize hook (server-auth.ts) has not answered yet. Such a call opens
 * at once (it counts against maxConcurrentCalls, CANCEL and its deadline
 * reach it), but nothing of its body is decoded: the inline message is
 * kept as a copy, and the MESSAGEs of a streaming-in call as copies too,
 * within the call's credit (one more is FLOW_CONTROL_ERROR, as for any
 * call). When the hook answers, the call is refused with its verdict, or
 * what was kept is decoded in order and the handler runs. The bytes kept
 * count in the connection's share of the memory budget (`heldBytes`). A
 * connection creates this only once a hook returns a promise.
 */
import { MsgReader } from "../codec/reader.ts";
import type { CallContext, Metadata, MethodDescriptor } from "./descriptor.ts";
import type { ServerCall } from "./interceptors.ts";
import { ConnectionError, END_STREAM, GoAwayReason, MAX_TIMER_MS } from "./protocol.ts";
import type { AuthVerdict } from "./server-auth.ts";
import { type CallHost, decodeInput, InvalidInput, ServerCallState } from "./server-call.ts";
import { COMPRESSION_MASK } from "./compression.ts";
import { RpcError, Status } from "./status.ts";

/** A MESSAGE kept while its call waits: its body and its flags (which say whether it is compressed). */
interface HeldMessage {
  readonly bytes: Uint8Array;
  readonly flags: number;
}

/** What a waiting call runs once allowed (server-connection.ts's BoundMethod). */
export interface AuthorizedMethod {
  readonly method: MethodDescriptor;
  readonly handler: (req: unknown, ctx: CallContext) => unknown;
  readonly validate: boolean;
  readonly intercepted: ((call: ServerCall) => unknown) | null;
  /** Where the method's calls are counted (BoundMethod.slot). */
  readonly slot: number;
}

/** What the connection hears about its waiting calls. */
export interface AuthorizingEvents {
  /** A waiting call joined the connection's open calls (the server-wide count; removeCall undoes it). */
  opened(): void;
  /** A call got to run (the server's totalCalls). */
  started(): void;
  /** A call's kept bytes were let go (the connection re-accounts its memory). */
  released(): void;
}

export class AuthorizingCalls {
  /** Bytes kept for all waiting calls (inline messages and MESSAGEs). */
  heldBytes = 0;
  /** Raw MESSAGE bodies kept per waiting streaming-in call. */
  private readonly held = new Map<number, HeldMessage[]>();

  constructor(
    private readonly host: CallHost,
    /** The connection's open calls: a waiting call is one of them. */
    private readonly calls: Map<number, ServerCallState>,
    private readonly initialWindow: number,
    private readonly events: AuthorizingEvents,
  ) {}

  /**
   * Opens call `id` while `verdict` is pending. `body` is a copy of the
   * inline message, null for a streaming-in call (its MESSAGEs come to hold()).
   */
  open(verdict: Promise<AuthVerdict>, id: number, bound: AuthorizedMethod, metadata: Metadata, timeoutMs: number | undefined, flags: number, body: Uint8Array | null): void {
    const call = new ServerCallState(this.host, id, bound.method, metadata, timeoutMs === undefined ? undefined : Date.now() + timeoutMs, bound.slot);
    this.calls.set(id, call);
    this.events.opened();
    if (timeoutMs !== undefined && timeoutMs > 0 && timeoutMs <= MAX_TIMER_MS)
      call.timer = setTimeout(() => call.abortWithStatus(Status.DEADLINE_EXCEEDED, `deadline of ${timeoutMs} ms exceeded`), timeoutMs);
    let held: HeldMessage[] | null = null;
    if (body !== null) this.heldBytes += body.length;
    else {
      held = [];
      this.held.set(id, held);
      if ((flags & END_STREAM) !== 0) call.halfClosed = true;
    }
    void verdict.then((refused) => this.answered(call, bound, refused, timeoutMs, body, flags, held));
  }

  /**
   * A MESSAGE (the reader at its body, `end` where the frame ends) for a
   * call that may be waiting: kept and true when it is, false otherwise.
   */
  hold(call: ServerCallState, r: MsgReader, end: number, flags: number): boolean {
    const held = this.held.get(call.id);
    if (held === undefined) return false;
    if (held.length >= this.initialWindow) throw new ConnectionError(GoAwayReason.FLOW_CONTROL_ERROR, `MESSAGE on call ${call.id} beyond the granted credit`);
    held.push({ bytes: r.buf.slice(r.pos, end), flags });
    this.heldBytes += end - r.pos;
    if ((flags & END_STREAM) !== 0) call.halfClosed = true;
    return true;
  }

  private answered(
    call: ServerCallState,
    bound: AuthorizedMethod,
    refused: AuthVerdict,
    timeoutMs: number | undefined,
    body: Uint8Array | null,
    flags: number,
    held: HeldMessage[] | null,
  ): void {
    if (held !== null) this.held.delete(call.id);
    let kept = body?.length ?? 0;
    for (const m of held ?? []) kept += m.bytes.length;
    this.heldBytes -= kept;
    this.events.released();
    // Cancelled, past its deadline, or its connection is gone: the answer changes nothing.
    if (call.done) return;
    if (refused !== null) return call.abortWithStatus(refused.status, refused.message);
    const m = bound.method;
    let req: unknown;
    if (body !== null) {
      const r = this.readerFor(body, flags);
      if (r instanceof RpcError) return call.abortWithStatus(r.status, r.message);
      req = decodeInput(m, r, r.end, bound.validate);
      if (req instanceof InvalidInput) return call.abortWithStatus(Status.INVALID_ARGUMENT, req.message);
    }
    this.events.started();
    if (timeoutMs !== undefined && timeoutMs <= 0) return call.abortWithStatus(Status.DEADLINE_EXCEEDED, "deadline exceeded before the call started");
    if (held !== null) {
      const inbound = call.openInbound(this.initialWindow, false);
      for (const kept of held) {
        const r = this.readerFor(kept.bytes, kept.flags);
        if (r instanceof RpcError) return call.abortWithStatus(r.status, r.message);
        const msg = decodeInput(m, r, -1, bound.validate);
        if (msg instanceof InvalidInput) return call.abortWithStatus(Status.INVALID_ARGUMENT, msg.message);
        call.pushInbound(msg, r.end);
      }
      if (call.halfClosed) call.endInbound();
      req = inbound;
    }
    let result: unknown;
    try {
      result = bound.intercepted === null ? bound.handler(req, call) : bound.intercepted({ method: m, ctx: call, request: req });
    } catch (e) {
      return call.fail(e);
    }
    if (m.kind === "unary" || m.kind === "client_stream") call.completeUnary(result);
    else call.completeStream(result);
  }

  /** A reader over a kept message, decompressed when its flags say so (only now that the call is allowed). */
  private readerFor(bytes: Uint8Array, flags: number): MsgReader | RpcError {
    const r = readerOver(bytes);
    if ((flags & COMPRESSION_MASK) === 0) return r;
    try {
      return this.host.inflater.open(r, flags);
    } catch (e) {
      return e as RpcError;
    }
  }
}

function readerOver(bytes: Uint8Array): MsgReader {
  const r = new MsgReader();
  r.reset(bytes, 0, bytes.length);
  return r;
}
