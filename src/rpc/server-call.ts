/**
 * ServerCallState: one call on a server connection. It is the handler's
 * CallContext (metadata, deadline, a lazily created AbortSignal, headers and
 * trailers) and it turns the handler's outcome into frames: RESPONSE for a
 * plain unary success, MESSAGE + STATUS when trailers were set, MESSAGE*
 * then STATUS for streams, STATUS for every error. Response streams honour
 * the client's credit and the connection's write high-water mark. A response
 * that does not fit its IDL type ends the call with INTERNAL naming the field
 * (and the stream message's index), logged once on stderr.
 */
import { DecodeError } from "../codec/errors.ts";
import { peerText } from "../codec/peer-text.ts";
import type { MsgReader } from "../codec/reader.ts";
import type { CallContext, ErrorType, Metadata, MethodDescriptor } from "./descriptor.ts";
import type { MessageCompressor } from "./compression.ts";
import type { FrameOutput } from "./frame-output.ts";
import type { MessageInflater } from "./message-compression.ts";
import { writeHeaders, writeMessage, writeResponse, writeStatus, writeWindow } from "./frames.ts";
import { internalMessage, newErrorId } from "./internal-error.ts";
import { isValidMetadataKey, MetadataMap, type MetadataValue } from "./metadata-map.ts";
import { multiValuedKey, peerName, severalValuesRefused } from "./metadata-negotiation.ts";
import type { CallCounters } from "./metrics/call-counters.ts";
import type { ServerEventLog } from "./server-events.ts";
import { InboundStream, OutboundCredit, roomToSend } from "./stream.ts";
import { asRpcError, isRpcErrorLike, RpcError, Status, type StatusCode, statusName } from "./status.ts";

/** What a call needs from its connection. */
export interface CallHost {
  readonly out: FrameOutput;
  readonly peer: { address: string; port: number } | null;
  readonly debug: boolean;
  /** Send an unexpected error's message (not the generic one) to the client. */
  readonly exposeErrors: boolean;
  /** The server's per-method call counters, or null when metrics are off. */
  readonly metrics: CallCounters | null;
  /** Where a handler failure is logged. */
  readonly events: ServerEventLog;
  /** Date.now() when the bytes of the call being started arrived. */
  readonly readAt: number;
  /** The client's maxFrameBytes (what we may send). */
  readonly peerMaxFrameBytes: number;
  /** The client's initialWindow (credit for response messages). */
  readonly peerWindow: number;
  /** Compresses response messages (null: the client accepts no algorithm of the server's, or compression is off). */
  readonly compressor: MessageCompressor | null;
  /** Decompresses compressed request messages (an authorized call's held ones). */
  readonly inflater: MessageInflater;
  /** The client's HELLO said it reads several values per metadata key (false: it predates them, send it one per key). */
  readonly peerMultiValuedMetadata: boolean;
  /** The connection is closing: no more WINDOW frames. */
  readonly closing: boolean;
  /** Watches response streams left without credit (connection-guard.ts). */
  readonly guard: { stalled(call: ServerCallState): void };
  removeCall(call: ServerCallState): void;
  /** Request bytes queued for handlers grew (or shrank, when negative) by `delta` (the memory budget counts them). */
  inboundHeld(delta: number): void;
}

/** A request message that did not decode or validate: the call ends with INVALID_ARGUMENT `message`. */
export class InvalidInput {
  constructor(readonly message: string) {}
}

/** A field path in an INVALID_ARGUMENT message keeps this many characters (its map keys are cut shorter on their own). */
const FIELD_PATH_MAX_CHARS = 256;

/** `field: problem` for an INVALID_ARGUMENT message: both may quote the peer's bytes, so both go through peerText. */
function fieldProblem(path: string, problem: string): string {
  return `${path === "" ? "" : `${peerText(path, { maxChars: FIELD_PATH_MAX_CHARS })}: `}${peerText(problem)}`;
}

/**
 * Decodes one request message of `m` from `r` and validates it when asked.
 * `end` >= 0 also rejects bytes left before it (an inline REQUEST message).
 */
export function decodeInput(m: MethodDescriptor, r: MsgReader, end: number, validate: boolean): unknown {
  const t = m.input;
  let v: unknown;
  try {
    v = t.decode(r);
  } catch (e) {
    return undecodable(t.typeName, e);
  }
  if (end >= 0 && r.pos !== end) return trailingBytes(t.typeName, end - r.pos);
  if (!validate || t.decoderValidates === true) return v;
  const issue = t.validate(v);
  return issue === null ? v : new InvalidInput(`invalid ${t.typeName}: ${fieldProblem(issue.path, issue.message)}`);
}

/** A request message of type `typeName` that threw `e` while it was decoded. */
export function undecodable(typeName: string, e: unknown): InvalidInput {
  if (e instanceof DecodeError) return new InvalidInput(`could not decode ${typeName}: ${e.path === "" ? "" : "field "}${fieldProblem(e.path, e.detail)}`);
  return new InvalidInput(`could not decode ${typeName}: ${fieldProblem("", e instanceof Error ? e.message : String(e))}`);
}

/** An inline request message followed by `n` bytes before the frame's end. */
export function trailingBytes(typeName: string, n: number): InvalidInput {
  return new InvalidInput(`request ${typeName} has ${n} trailing bytes`);
}

const EMPTY_MAP = new MetadataMap();

/** An error's metadata, then the trailers the handler set (which replace the error's values of the same key). */
function withErrorMetadata(errorMd: Metadata, trailers: MetadataMap | undefined): MetadataMap {
  const merged = MetadataMap.from(errorMd);
  if (trailers !== undefined) for (const [k, vs] of trailers.entries()) merged.set(k, vs);
  return merged;
}

export function isThenable(v: unknown): v is PromiseLike<unknown> {
  return v instanceof Promise || (typeof v === "object" && v !== null && typeof (v as PromiseLike<unknown>).then === "function");
}

/**
 * What only some calls need (streams, deadlines, headers and trailers, an
 * AbortSignal): kept apart so that the common call, a unary one answered at
 * once, allocates and initialises a small object.
 */
class CallExtras {
  inbound: InboundStream<unknown> | null = null;
  credit: OutboundCredit | null = null;
  timer: ReturnType<typeof setTimeout> | null = null;
  stalledSince = 0;
  ac: AbortController | null = null;
  abortReason: RpcError | null = null;
  headers: MetadataMap | null = null;
  trailers: MetadataMap | null = null;
  /** ctx.metadataMap, made on first use. */
  metadataMap: MetadataMap | null = null;
  queuedSizes: number[] | null = null;
}

export class ServerCallState implements CallContext {
  done: boolean;
  /** The client sent END_STREAM or HALF_CLOSE: a later MESSAGE is a protocol error. */
  halfClosed: boolean;
  private headersSent: boolean;
  /** Date.now() at the call's start, for the duration a failure is logged with. */
  private readonly startedAt: number;
  /** The call's start on the metrics clock (0 when metrics are off). */
  private readonly t0: number;
  /** The rarely needed state, created on first use (x()). */
  private extras: CallExtras | null;

  constructor(
    private readonly host: CallHost,
    readonly id: number,
    readonly method: MethodDescriptor,
    readonly metadata: Metadata,
    readonly deadline: number | undefined,
    /** The method's slot in the server's CallCounters. */
    private readonly slot: number,
  ) {
    this.startedAt = host.readAt;
    // A unary or server-streaming call's one request message is not counted here: it is its start (withSingleMessages).
    const metrics = host.metrics;
    this.t0 = metrics !== null ? metrics.start(slot) : 0;
    this.done = false;
    this.halfClosed = false;
    this.headersSent = false;
    this.extras = null;
  }

  private x(): CallExtras {
    return (this.extras ??= new CallExtras());
  }

  get inbound(): InboundStream<unknown> | null {
    return this.extras === null ? null : this.extras.inbound;
  }
  set inbound(v: InboundStream<unknown> | null) {
    this.x().inbound = v;
  }

  get credit(): OutboundCredit | null {
    return this.extras === null ? null : this.extras.credit;
  }
  set credit(v: OutboundCredit | null) {
    this.x().credit = v;
  }

  get timer(): ReturnType<typeof setTimeout> | null {
    return this.extras === null ? null : this.extras.timer;
  }
  set timer(v: ReturnType<typeof setTimeout> | null) {
    this.x().timer = v;
  }

  /** Date.now() since when the response stream has waited for the client's WINDOW credit; 0 when it is not waiting. */
  get stalledSince(): number {
    return this.extras === null ? 0 : this.extras.stalledSince;
  }
  set stalledSince(v: number) {
    this.x().stalledSince = v;
  }

  get peer(): { address: string; port: number } | null {
    return this.host.peer;
  }

  get signal(): AbortSignal {
    const x = this.x();
    if (x.ac === null) {
      x.ac = new AbortController();
      if (x.abortReason !== null) x.ac.abort(x.abortReason);
    }
    return x.ac.signal;
  }

  /** Every value of every request metadata key (ctx.metadata shows the first of each). */
  get metadataMap(): MetadataMap {
    const x = this.x();
    return (x.metadataMap ??= MetadataMap.from(this.metadata));
  }

  setHeader(key: string, value: MetadataValue | readonly MetadataValue[]): void {
    this.headerMap("setHeader", key, value).set(key, value);
  }

  addHeader(key: string, value: MetadataValue): void {
    this.headerMap("addHeader", key, null).add(key, value);
  }

  private headerMap(what: string, key: string, value: MetadataValue | readonly MetadataValue[] | null): MetadataMap {
    if (this.headersSent) throw new RpcError(Status.FAILED_PRECONDITION, `${what}(${JSON.stringify(key)}) after the headers were sent`);
    if (!isValidMetadataKey(key)) throw new RpcError(Status.INTERNAL, `invalid header key ${JSON.stringify(key)}: keys are 1-255 bytes of [a-z0-9._-]`);
    const x = this.x();
    this.checkSeveral("header", x.headers, key, value);
    return (x.headers ??= new MetadataMap());
  }

  /**
   * Throws INTERNAL when `key` would get several values in `map` (`value`:
   * what set() gets; null: one more value, add()) and the client predates
   * multi-valued metadata: it would close the connection on the array.
   */
  private checkSeveral(what: "header" | "trailer", map: MetadataMap | null, key: string, value: MetadataValue | readonly MetadataValue[] | null): void {
    if (this.host.peerMultiValuedMetadata) return;
    const several = value === null ? map !== null && map.has(key) : typeof value !== "string" && !(value instanceof Uint8Array) && value.length > 1;
    if (several) throw this.severalRefused(`${what} ${JSON.stringify(key)}`, `set one value`);
  }

  private severalRefused(what: string, next: string): RpcError {
    const p = this.host.peer;
    return severalValuesRefused(Status.INTERNAL, peerName("client", p === null ? null : `${p.address}:${p.port}`), what, next);
  }

  sendHeaders(): void {
    if (this.done || this.headersSent) return;
    this.headersSent = true;
    const headers = this.extras === null ? null : this.extras.headers;
    writeHeaders(this.host.out.w, this.id, headers ?? EMPTY_MAP);
    this.host.out.commit();
  }

  setTrailer(key: string, value: MetadataValue | readonly MetadataValue[]): void {
    this.trailerMap(key, value).set(key, value);
  }

  addTrailer(key: string, value: MetadataValue): void {
    this.trailerMap(key, null).add(key, value);
  }

  private trailerMap(key: string, value: MetadataValue | readonly MetadataValue[] | null): MetadataMap {
    if (!isValidMetadataKey(key)) throw new RpcError(Status.INTERNAL, `invalid trailer key ${JSON.stringify(key)}: keys are 1-255 bytes of [a-z0-9._-]`);
    const x = this.x();
    this.checkSeveral("trailer", x.trailers, key, value);
    return (x.trailers ??= new MetadataMap());
  }

  /** Opens the request stream of a client-streaming or bidi call; each message read returns WINDOW credit. */
  openInbound(window: number, endStream: boolean): InboundStream<unknown> {
    const host = this.host;
    this.inbound = new InboundStream<unknown>(
      window,
      (n) => {
        if (this.done || host.closing) return;
        writeWindow(host.out.w, this.id, n);
        host.out.commit();
      },
      () => {},
      () => {
        const n = this.extras?.queuedSizes?.shift();
        if (n !== undefined) host.inboundHeld(-n);
      },
    );
    if (endStream) this.endInbound();
    return this.inbound;
  }

  /** Hands a request message of `bytes` on the wire to the handler's stream; false when it exceeds the granted credit. */
  pushInbound(msg: unknown, bytes: number): boolean {
    const inbound = this.inbound!;
    const before = inbound.buffered;
    if (!inbound.push(msg)) return false;
    if (inbound.buffered > before) {
      (this.x().queuedSizes ??= []).push(bytes);
      this.host.inboundHeld(bytes);
    }
    const metrics = this.host.metrics;
    if (metrics !== null) metrics.received[this.slot]!++;
    return true;
  }

  /** The client's END_STREAM or HALF_CLOSE: its request stream ends. */
  endInbound(): void {
    this.halfClosed = true;
    this.inbound?.end(null);
  }

  /** Ends the call without sending anything more (client cancel, connection loss) and aborts the handler. */
  abort(reason: RpcError): void {
    if (this.done) return;
    this.finish(reason.status);
    const x = this.x();
    x.abortReason = reason;
    x.ac?.abort(reason);
    x.inbound?.end(reason);
  }

  /** Sends STATUS with `status` and aborts the handler (deadline, shutdown, bad stream message). */
  abortWithStatus(status: StatusCode, message: string): void {
    if (this.done) return;
    this.fail(new RpcError(status, message));
    const x = this.x();
    x.abortReason = new RpcError(status, message);
    x.ac?.abort(x.abortReason);
    x.inbound?.end(x.abortReason);
  }

  /** Routes a handler's return value: a value, a promise, or (streams) an iterable. */
  completeUnary(result: unknown): void {
    if (isThenable(result)) {
      result.then(
        (v) => this.respond(v),
        (e: unknown) => this.fail(e),
      );
    } else this.respond(result);
  }

  completeStream(result: unknown): void {
    if (isThenable(result)) {
      result.then(
        (v) => void this.pump(v),
        (e: unknown) => this.fail(e),
      );
    } else void this.pump(result);
  }

  respond(value: unknown): void {
    if (this.done) return;
    const w = this.host.out.w;
    const max = this.host.peerMaxFrameBytes;
    try {
      this.flushHeaders();
      const trailers = this.extras === null ? null : this.extras.trailers;
      if (trailers === null) writeResponse(w, this.id, this.method.output, value, max, this.host.compressor);
      else {
        writeMessage(w, this.id, 0, this.method.output, value, max, this.host.compressor);
        writeStatus(w, this.id, Status.OK, "", trailers, null, null);
      }
    } catch (e) {
      this.fail(this.notEncoded(e, -1));
      return;
    }
    // The one response message is counted as the OK end (withSingleMessages).
    this.finish(Status.OK);
    this.host.out.commit();
  }

  /**
   * The error a call ends with when the handler's response (message `index`
   * of a response stream, -1 for the single response) does not encode: the
   * handler broke the IDL, so the client gets INTERNAL with the field path
   * and the server logs it once (fail(): a handler_failed event, as for
   * every INTERNAL). A frame over the client's limit
   * (RESOURCE_EXHAUSTED) is not a broken handler and is passed on unlogged.
   */
  private notEncoded(e: unknown, index: number): RpcError {
    if (isRpcErrorLike(e)) return e;
    const m = this.method;
    const what = index < 0 ? `response ${m.output.typeName}` : `response stream message at index ${index} (${m.output.typeName})`;
    return asRpcError(e, `could not encode ${what} of ${m.path}`);
  }

  fail(e: unknown): void {
    if (this.done) return;
    let status: number = Status.INTERNAL;
    let message: string;
    let errorType: ErrorType | null = null;
    let err: RpcError | null = null;
    let trailers: MetadataMap | undefined = this.extras?.trailers ?? undefined;
    const typed = this.method.errors.find((t) => t.is(e));
    if (typed !== undefined) {
      errorType = typed;
      err = e as RpcError;
      status = typed.status;
      message = err.message;
    } else if (isRpcErrorLike(e)) {
      status = e.status;
      message = e.message;
      if (isServerFault(status)) this.host.events.callFailed(this, status, e, null, Date.now() - this.startedAt);
    } else {
      // Not an error the method declares: a bug, or an outage behind the handler. Its text may name internals.
      const errorId = newErrorId();
      this.host.events.callFailed(this, status, e, errorId, Date.now() - this.startedAt);
      message = internalMessage(e, errorId, this.host.exposeErrors, this.host.debug);
    }
    if (isRpcErrorLike(e) && e.metadata !== undefined) {
      trailers = withErrorMetadata(e.metadata, trailers);
      const key = this.host.peerMultiValuedMetadata ? null : multiValuedKey(trailers);
      if (key !== null) {
        // The client would close the connection on the array: it gets INTERNAL saying why, without the error's metadata.
        const refused = this.severalRefused(`metadata key ${JSON.stringify(key)} of the error`, `the handler's ${statusName(status)} was not sent; give one value per key`);
        this.host.events.callFailed(this, Status.INTERNAL, refused, null, Date.now() - this.startedAt);
        status = Status.INTERNAL;
        message = refused.message;
        trailers = this.extras?.trailers ?? undefined;
        errorType = null;
        err = null;
      }
    }
    this.flushHeaders();
    writeStatus(this.host.out.w, this.id, status, message, trailers, errorType, err);
    this.finish(status);
    this.host.out.commit();
  }

  private flushHeaders(): void {
    if (this.headersSent) return;
    this.headersSent = true;
    const headers = this.extras === null ? null : this.extras.headers;
    if (headers !== null) writeHeaders(this.host.out.w, this.id, headers);
  }

  private finish(status: number): void {
    this.done = true;
    const metrics = this.host.metrics;
    if (metrics !== null) metrics.end(this.slot, status, this.t0);
    this.headersSent = true;
    const x = this.extras;
    if (x !== null) {
      const queued = x.queuedSizes;
      if (queued !== null && queued.length > 0) {
        let sum = 0;
        for (const n of queued) sum += n;
        queued.length = 0;
        this.host.inboundHeld(-sum);
      }
      if (x.timer !== null) {
        clearTimeout(x.timer);
        x.timer = null;
      }
      x.credit?.close();
    }
    this.host.removeCall(this);
  }

  /** Sends a response stream, one MESSAGE per item, waiting for credit and for the socket to drain. */
  private async pump(source: unknown): Promise<void> {
    const it = openIterator(source);
    if (it === null) return this.fail(new RpcError(Status.INTERNAL, `handler for ${this.method.path} must return an iterable`));
    const credit = (this.credit ??= new OutboundCredit(this.host.peerWindow));
    const out = this.host.out;
    const max = this.host.peerMaxFrameBytes;
    let index = 0;
    try {
      for (;;) {
        const room = roomToSend(credit, out, this);
        if (room !== null) {
          if (!credit.ready) this.host.guard.stalled(this);
          await room;
          this.stalledSince = 0;
        }
        if (this.done) break;
        const step = it.next();
        const r = isThenable(step) ? await step : step;
        if (this.done) break;
        if (r.done) {
          this.flushHeaders();
          writeStatus(out.w, this.id, Status.OK, "", this.extras?.trailers ?? undefined, null, null);
          this.finish(Status.OK);
          out.commit();
          return;
        }
        this.flushHeaders();
        try {
          writeMessage(out.w, this.id, 0, this.method.output, r.value, max, this.host.compressor);
        } catch (e) {
          throw this.notEncoded(e, index);
        }
        index++;
        credit.credit--;
        const metrics = this.host.metrics;
        if (metrics !== null) metrics.sent[this.slot]!++;
        out.commit();
      }
      await it.return?.();
    } catch (e) {
      this.fail(e);
      try {
        await it.return?.();
      } catch {
        // The producer's own cleanup failed after the call had already ended.
      }
    }
  }
}

/** Statuses that say the server failed, not the caller: logged even when a handler threw them as an RpcError. */
function isServerFault(status: number): boolean {
  return status === Status.INTERNAL || status === Status.UNKNOWN || status === Status.DATA_LOSS;
}

type AnyIterator = {
  next(): IteratorResult<unknown> | Promise<IteratorResult<unknown>>;
  return?(): unknown;
};

function openIterator(source: unknown): AnyIterator | null {
  if (source === null || typeof source !== "object") return null;
  const s = source as Partial<AsyncIterable<unknown> & Iterable<unknown>>;
  const asyncOpen = s[Symbol.asyncIterator];
  if (typeof asyncOpen === "function") return asyncOpen.call(s) as AnyIterator;
  const syncOpen = s[Symbol.iterator];
  if (typeof syncOpen === "function") return syncOpen.call(s) as AnyIterator;
  return null;
}
