/**
 * ClientCallState: one call made by a client, from before it has a
 * connection (the deadline and abort signal already run during connect)
 * until its STATUS/RESPONSE, failure or cancel. Holds the promise (unary,
 * client stream) or the InboundStream (server stream, bidi) the caller sees,
 * and the credit for request messages. Its connection writes the REQUEST and
 * reads frames for it; the call writes its own request stream (MESSAGE,
 * HALF_CLOSE) and turns RESPONSE/MESSAGE/STATUS into what the caller sees.
 */
import type { MsgReader } from "../codec/reader.ts";
import type { CallOptions, Metadata, MethodDescriptor } from "./descriptor.ts";
import type { MessageCompressor } from "./compression.ts";
import type { FrameOutput } from "./frame-output.ts";
import { writeIdOnly, writeMessage } from "./frames.ts";
import { kindMismatchMessage } from "./method-kind.ts";
import type { CallCounters } from "./metrics/call-counters.ts";
import { FrameType, MAX_TIMER_MS, type PeerLimits } from "./protocol.ts";
import { InboundStream, OutboundCredit, roomToSend } from "./stream.ts";
import { asRpcError, RpcError, Status, type StatusCode } from "./status.ts";

/** What a call needs from the connection it runs on. */
export interface CallTransport {
  sendCancel(id: number): void;
  sendWindow(id: number, n: number): void;
  forget(call: ClientCallState): void;
}

/** A channel that may send a call again when no server processed it (transparent retry). */
export interface Redispatcher {
  redispatch(call: ClientCallState): void;
}

/** `outcome` of a call still open. */
export const OPEN = -2;
/** `outcome` of a call no server processed (never sent, or refused unread: GOAWAY's last id, a closing connection). */
export const NOT_PROCESSED = -1;
/** Times one call is sent again after no server processed it, before it fails (docs/RPC.md, "Retries"). */
export const MAX_TRANSPARENT_RETRIES = 4;

export class ClientCallState {
  readonly deadline: number | undefined;
  readonly promise: Promise<unknown> | null;
  readonly inbound: InboundStream<unknown> | null;
  id: number;
  done: boolean;
  credit: OutboundCredit | null;
  /** The single response, when it came as MESSAGE before STATUS. */
  value: unknown;
  hasValue: boolean;
  /** How the call ended: its status (OK is 0), NOT_PROCESSED, or OPEN. Read by outlier detection. */
  outcome: number;
  /** Set by the channel for calls it may send again when no server processed them (unary, server stream). */
  redispatcher: Redispatcher | null;
  /** The request, kept for a transparent retry (only when redispatcher is set). */
  request: unknown;
  /** The channel's pool entry the current attempt went to (opaque here). */
  via: object | null;
  transparentRetries: number;
  private transport: CallTransport | null;
  /** Set by captureSettlers while the constructor creates the promise. */
  resolve: ((v: unknown) => void) | null;
  reject: ((e: Error) => void) | null;
  private timer: ReturnType<typeof setTimeout> | null;
  private readonly onAbort: (() => void) | null;
  /** The call's start on the metrics clock (0 when metrics are off). */
  private readonly t0: number;

  constructor(
    readonly method: MethodDescriptor,
    readonly options: CallOptions,
    window: number,
    /** The channel's call counters (ClientMetrics), or null when metrics are off. */
    private readonly metrics: CallCounters | null = null,
    /** The method's slot in them. */
    private readonly slot = 0,
  ) {
    // First: a call can end inside this constructor (aborted signal, past deadline), and its end is counted.
    this.t0 = metrics !== null ? metrics.start(slot) : 0;
    // The clock is read only for a call that has a deadline.
    let now = 0;
    let deadline = options.deadline;
    if (deadline === undefined) {
      const budget = options.timeoutMs ?? method.deadlineMs;
      if (budget !== undefined) deadline = (now = Date.now()) + budget;
    }
    this.deadline = deadline;
    this.id = 0;
    this.done = false;
    this.credit = null;
    this.value = undefined;
    this.hasValue = false;
    this.outcome = OPEN;
    this.redispatcher = null;
    this.request = undefined;
    this.via = null;
    this.transparentRetries = 0;
    this.transport = null;
    this.resolve = null;
    this.reject = null;
    this.timer = null;
    const streamingOut = method.kind === "server_stream" || method.kind === "bidi";
    if (streamingOut) {
      this.promise = null;
      this.inbound = new InboundStream<unknown>(
        window,
        (n) => {
          if (!this.done && this.transport !== null) this.transport.sendWindow(this.id, n);
        },
        () => this.cancel(new RpcError(Status.CANCELLED, "the caller stopped reading the stream")),
      );
    } else {
      this.inbound = null;
      capturing = this;
      this.promise = new Promise<unknown>(captureSettlers);
    }
    const signal = options.signal;
    if (signal !== undefined) {
      if (signal.aborted) {
        this.onAbort = null;
        this.fail(cancelledBy(signal));
        return;
      }
      this.onAbort = () => this.cancel(cancelledBy(signal));
      signal.addEventListener("abort", this.onAbort, { once: true });
    } else this.onAbort = null;
    if (deadline !== undefined) {
      if (now === 0) now = Date.now();
      const left = deadline - now;
      if (left <= 0) {
        this.fail(new RpcError(Status.DEADLINE_EXCEEDED, `deadline exceeded before ${method.path} was sent`));
        return;
      }
      // setTimeout cannot wait longer than 2^31-1 ms; a deadline past that is effectively none locally.
      if (left <= MAX_TIMER_MS)
        this.timer = setTimeout(() => this.cancel(new RpcError(Status.DEADLINE_EXCEEDED, `deadline of ${Math.round(left)} ms exceeded calling ${method.path}`)), left);
    }
  }

  /** The call got its id on a connection and its REQUEST is being written. */
  attach(transport: CallTransport, id: number): void {
    this.transport = transport;
    this.id = id;
    // A unary or server-streaming REQUEST carries the call's one request message.
    const metrics = this.metrics;
    if (metrics !== null && (this.method.kind === "unary" || this.method.kind === "server_stream")) metrics.sent[this.slot]!++;
  }

  get headersHandler(): ((h: Metadata) => void) | undefined {
    return this.options.onHeaders;
  }

  /**
   * Writes a client stream's requests as MESSAGEs within the server's credit,
   * then HALF_CLOSE. A message that does not encode cancels the call with
   * INVALID_ARGUMENT naming its index and the bad field.
   */
  async sendRequests(source: AsyncIterable<unknown> | Iterable<unknown>, out: FrameOutput, peer: PeerLimits, comp: MessageCompressor | null = null): Promise<void> {
    const credit = (this.credit ??= new OutboundCredit(peer.initialWindow));
    const m = this.method;
    const it = Symbol.asyncIterator in source ? source[Symbol.asyncIterator]() : (source as Iterable<unknown>)[Symbol.iterator]();
    let index = 0;
    try {
      for (;;) {
        const room = roomToSend(credit, out, this);
        if (room !== null) await room;
        if (this.done) break;
        const r = await it.next();
        if (this.done) break;
        if (r.done) {
          writeIdOnly(out.w, FrameType.HALF_CLOSE, this.id);
          out.commit();
          return;
        }
        try {
          writeMessage(out.w, this.id, 0, m.input, r.value, peer.maxFrameBytes, comp);
        } catch (e) {
          // Nothing of this message was sent; the call is cancelled with the caller's mistake, not INTERNAL.
          throw asRpcError(e, `could not encode request stream message at index ${index} (${m.input.typeName}) of ${m.path}`, Status.INVALID_ARGUMENT);
        }
        index++;
        credit.credit--;
        if (this.metrics !== null) this.metrics.sent[this.slot]!++;
        out.commit();
      }
      await it.return?.();
    } catch (e) {
      this.cancel(asRpcError(e, `request stream of ${m.path} failed`));
      try {
        await it.return?.();
      } catch {
        // The caller's iterator failed while closing after the call already ended.
      }
    }
  }

  /** RESPONSE: the single response of a unary or client-streaming call. */
  response(r: MsgReader): void {
    // A RESPONSE ends the call on the server, so a streaming call fails without a CANCEL.
    if (this.inbound !== null) return this.fail(this.kindMismatch("unary or client_stream (it sent a RESPONSE)"));
    const v = this.decodeOutput(r);
    if (v === FAILED) return;
    if (this.metrics !== null) this.metrics.received[this.slot]!++;
    this.succeed(v);
  }

  /** MESSAGE: one response of a stream, or the single one before trailers. False when it is beyond the granted credit. */
  message(r: MsgReader): boolean {
    // A single-response call takes one MESSAGE (a response with trailers); a second means the server is streaming.
    if (this.inbound === null && this.hasValue) {
      this.cancel(this.kindMismatch("server_stream or bidi (it sent a second MESSAGE)"));
      return true;
    }
    const v = this.decodeOutput(r);
    if (v === FAILED) return true;
    if (this.metrics !== null) this.metrics.received[this.slot]!++;
    if (this.inbound !== null) return this.inbound.push(v);
    this.value = v;
    this.hasValue = true;
    return true;
  }

  /** STATUS: the call's end; `r` is at the typed error's fields, or null when there are none. */
  status(code: number, message: string, trailers: Metadata | undefined, errorCode: string | undefined, r: MsgReader | null): void {
    const onTrailers = this.options.onTrailers;
    if (onTrailers !== undefined) runCallback(onTrailers, trailers ?? {});
    if (code === Status.OK) {
      if (this.inbound !== null) return this.endStream();
      if (this.hasValue) return this.succeed(this.value);
      return this.fail(new RpcError(Status.INTERNAL, `server ended ${this.method.path} with OK but sent no response`));
    }
    if (code < 0 || code > 16) code = Status.UNKNOWN;
    let err: RpcError | null = null;
    if (errorCode !== undefined && r !== null) {
      const et = this.method.errors.find((t) => t.code === errorCode);
      if (et !== undefined) {
        try {
          err = et.decode(r, message);
        } catch (e) {
          err = new RpcError(code as StatusCode, `${message} (and its ${errorCode} fields did not decode: ${e instanceof Error ? e.message : String(e)})`, errorCode);
        }
      }
    }
    err ??= new RpcError(code as StatusCode, message, errorCode);
    if (trailers !== undefined) err.metadata = trailers;
    this.fail(err);
  }

  private decodeOutput(r: MsgReader): unknown {
    try {
      return this.method.output.decode(r);
    } catch (e) {
      this.cancel(new RpcError(Status.INTERNAL, `could not decode response ${this.method.output.typeName}: ${e instanceof Error ? e.message : String(e)}`));
      return FAILED;
    }
  }

  /** The error a call fails with when the server's frames do not fit its kind (Edge cases 18). */
  private kindMismatch(server: string): RpcError {
    return new RpcError(Status.UNIMPLEMENTED, kindMismatchMessage(this.method.path, this.method.kind, server));
  }

  // Every way to end a call settles what the caller holds (promise or
  // stream): finish() clears the deadline timer, so a call it ended without
  // settling would hang past its deadline.

  /** The single response of a unary or client-streaming call. */
  succeed(value: unknown): void {
    if (this.done) return;
    this.outcome = Status.OK;
    this.finish(Status.OK);
    if (this.resolve !== null) this.resolve(value);
    else this.inbound!.end(new RpcError(Status.INTERNAL, `a single response was delivered to the ${this.method.kind} call ${this.method.path}`));
  }

  /** A response stream ended with OK. */
  endStream(): void {
    if (this.done) return;
    this.outcome = Status.OK;
    this.finish(Status.OK);
    if (this.inbound !== null) this.inbound.end(null);
    else this.reject!(new RpcError(Status.INTERNAL, `a response stream ended on the ${this.method.kind} call ${this.method.path}`));
  }

  /** Ends the call with an error, sending nothing (STATUS arrived, connection lost, never sent). */
  fail(err: RpcError): void {
    if (this.done) return;
    if (this.outcome === OPEN) this.outcome = err.status;
    this.finish(err.status);
    if (this.reject !== null) this.reject(err);
    else this.inbound?.end(err);
  }

  /**
   * A call no server processed: never sent, queued on a connection that went
   * away, or above the last id of a GOAWAY. With a redispatcher it is sent
   * again (up to MAX_TRANSPARENT_RETRIES times, idempotent or not: nothing
   * ran); otherwise, or after that, it fails with `err`, which says it is
   * safe to retry.
   */
  refuse(err: RpcError): void {
    if (this.done) return;
    const again = this.redispatcher;
    if (again !== null && this.transparentRetries < MAX_TRANSPARENT_RETRIES) {
      this.transparentRetries++;
      const t = this.transport;
      this.transport = null;
      t?.forget(this); // by id: before the id is cleared
      this.id = 0;
      again.redispatch(this);
      return;
    }
    this.outcome = NOT_PROCESSED;
    this.fail(err);
  }

  /** Ends the call with an error and tells the server (CANCEL) if it was sent. */
  cancel(err: RpcError): void {
    if (this.done) return;
    const t = this.transport;
    if (t !== null) t.sendCancel(this.id);
    this.fail(err);
  }

  private finish(status: number): void {
    this.done = true;
    if (this.metrics !== null) this.metrics.end(this.slot, status, this.t0);
    if (this.timer !== null) {
      clearTimeout(this.timer);
      this.timer = null;
    }
    if (this.onAbort !== null) this.options.signal?.removeEventListener("abort", this.onAbort);
    this.credit?.close();
    this.transport?.forget(this);
  }
}

/**
 * The call whose promise is being created: one shared executor stores the
 * settlers on it, so a call allocates no closure for its promise.
 */
let capturing: ClientCallState | null = null;

function captureSettlers(resolve: (v: unknown) => void, reject: (e: Error) => void): void {
  const call = capturing!;
  capturing = null;
  call.resolve = resolve;
  call.reject = reject;
}

function cancelledBy(signal: AbortSignal): RpcError {
  const reason: unknown = signal.reason;
  const detail = reason instanceof Error ? reason.message : reason === undefined ? "" : String(reason);
  return new RpcError(Status.CANCELLED, `call cancelled by the caller${detail ? `: ${detail}` : ""}`);
}

const FAILED = Symbol("decode failed");

/** Runs a caller's callback from inside frame handling: its exception must not be taken for a malformed frame. */
export function runCallback<T>(fn: (v: T) => void, v: T): void {
  try {
    fn(v);
  } catch (e) {
    console.error("ringrpc: an onHeaders/onTrailers callback threw (ignored):", e);
  }
}
