/**
 * ClientCallState: one call made by a client, from before it has a
 * connection (the deadline and abort signal already run during connect)
 * until its STATUS/RESPONSE, failure or cancel. Holds the promise (unary,
 * client stream) or the InboundStream (server stream, bidi) the caller sees,
 * and the credit for request messages. Frames are written by its connection.
 */
import type { CallOptions, Metadata, MethodDescriptor } from "./descriptor.ts";
import { MAX_TIMER_MS } from "./protocol.ts";
import { InboundStream, type OutboundCredit } from "./stream.ts";
import { RpcError, Status } from "./status.ts";

/** What a call needs from the connection it runs on. */
export interface CallTransport {
  sendCancel(id: number): void;
  sendWindow(id: number, n: number): void;
  forget(call: ClientCallState): void;
}

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
  private transport: CallTransport | null;
  /** Set by captureSettlers while the constructor creates the promise. */
  resolve: ((v: unknown) => void) | null;
  reject: ((e: Error) => void) | null;
  private timer: ReturnType<typeof setTimeout> | null;
  private readonly onAbort: (() => void) | null;

  constructor(
    readonly method: MethodDescriptor,
    readonly options: CallOptions,
    window: number,
  ) {
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
  }

  get headersHandler(): ((h: Metadata) => void) | undefined {
    return this.options.onHeaders;
  }

  // Every way to end a call settles what the caller holds (promise or
  // stream): finish() clears the deadline timer, so a call it ended without
  // settling would hang past its deadline.

  /** The single response of a unary or client-streaming call. */
  succeed(value: unknown): void {
    if (this.done) return;
    this.finish();
    if (this.resolve !== null) this.resolve(value);
    else this.inbound!.end(new RpcError(Status.INTERNAL, `a single response was delivered to the ${this.method.kind} call ${this.method.path}`));
  }

  /** A response stream ended with OK. */
  endStream(): void {
    if (this.done) return;
    this.finish();
    if (this.inbound !== null) this.inbound.end(null);
    else this.reject!(new RpcError(Status.INTERNAL, `a response stream ended on the ${this.method.kind} call ${this.method.path}`));
  }

  /** Ends the call with an error, sending nothing (STATUS arrived, connection lost, never sent). */
  fail(err: RpcError): void {
    if (this.done) return;
    this.finish();
    if (this.reject !== null) this.reject(err);
    else this.inbound?.end(err);
  }

  /** Ends the call with an error and tells the server (CANCEL) if it was sent. */
  cancel(err: RpcError): void {
    if (this.done) return;
    const t = this.transport;
    if (t !== null) t.sendCancel(this.id);
    this.fail(err);
  }

  private finish(): void {
    this.done = true;
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
