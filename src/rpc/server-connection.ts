/**
 * ServerConnection: one accepted connection on the server. Reads frames
 * (FrameDecoder), enforces the preface, ids and limits, dispatches REQUESTs
 * to handlers by path and routes MESSAGE/HALF_CLOSE/CANCEL/WINDOW to calls.
 * Call-level problems end one call with STATUS; protocol violations end the
 * connection with GOAWAY (docs/PROTOCOL.md section 7). Only this connection
 * is affected by anything its peer sends.
 */
import { DecodeError } from "../codec/errors.ts";
import { MsgReader } from "../codec/reader.ts";
import type { Conn, Runtime } from "../runtime/types.ts";
import type { CallContext, Metadata, MethodDescriptor, MethodKind } from "./descriptor.ts";
import { FrameDecoder } from "./frame-decoder.ts";
import { FrameOutput } from "./frame-output.ts";
import { type FrameHead, readFrameHead, readOptionalInt, skipRest, writeGoAway, writeHello, writePing, writeStatus, writeWindow } from "./frames.ts";
import type { ServerCall } from "./interceptors.ts";
import { MetadataError, readMetadata } from "./metadata.ts";
import { declaredKind, kindMismatchMessage, streamsRequests } from "./method-kind.ts";
import { MethodPathCache } from "./method-path-cache.ts";
import { checkHelloLimits, ConnectionError, END_STREAM, frameIdProblem, FrameType, GoAwayReason, type GoAwayReasonCode, goAwayReasonName, type PeerLimits, PROTOCOL_VERSION } from "./protocol.ts";
import { type CallHost, isThenable, ServerCallState } from "./server-call.ts";
import { InboundStream, OutboundCredit } from "./stream.ts";
import { RpcError, Status, type StatusCode } from "./status.ts";

/** A method ready to run: its descriptor, handler and whether to validate requests. */
export interface BoundMethod {
  readonly method: MethodDescriptor;
  readonly handler: (req: unknown, ctx: CallContext) => unknown;
  readonly validate: boolean;
  /** Handler with the server's interceptors around it, or null when there are none. */
  readonly intercepted: ((call: ServerCall) => unknown) | null;
}

export interface ServerConnectionConfig {
  readonly limits: PeerLimits;
  readonly debug: boolean;
  readonly firstFrameTimeoutMs: number;
  readonly idleTimeoutMs: number;
  readonly writeHighWaterBytes: number;
}

/** What the connection needs from its server. */
export interface ConnectionOwner {
  lookup(path: string): BoundMethod | undefined;
  readonly draining: boolean;
  connectionClosed(c: ServerConnection): void;
  countCall(): void;
}

/** setTimeout's longest wait; a longer budget needs no local timer. */
const MAX_TIMER_MS = 0x7fffffff;

const EMPTY_METADATA: Metadata = Object.freeze(Object.create(null)) as Metadata;

export class ServerConnection implements CallHost {
  readonly out: FrameOutput;
  readonly calls: Map<number, ServerCallState>;
  readonly debug: boolean;
  private readonly paths: MethodPathCache<BoundMethod>;
  peerMaxFrameBytes: number;
  peerWindow: number;
  closing: boolean;
  /** Settles when the socket is closed (set by close() or lost()). */
  private closed: Promise<void> | null;
  private helloSeen: boolean;
  private goAwaySent: boolean;
  private lastRequestId: number;
  private lastActivity: number;
  private firstFrameTimer: ReturnType<typeof setTimeout> | null;
  private idleTimer: ReturnType<typeof setTimeout> | null;
  private readonly decoder: FrameDecoder;
  private readonly reader: MsgReader;
  private readonly head: FrameHead;
  private readonly onFrame: (buf: Uint8Array, start: number, end: number) => void;

  constructor(
    readonly rt: Runtime,
    readonly conn: Conn,
    private readonly owner: ConnectionOwner,
    private readonly cfg: ServerConnectionConfig,
  ) {
    this.debug = cfg.debug;
    this.calls = new Map();
    this.paths = new MethodPathCache();
    this.peerMaxFrameBytes = cfg.limits.maxFrameBytes;
    this.peerWindow = cfg.limits.initialWindow;
    this.closing = false;
    this.closed = null;
    this.helloSeen = false;
    this.goAwaySent = false;
    this.lastRequestId = 0;
    this.lastActivity = Date.now();
    this.firstFrameTimer = null;
    this.idleTimer = null;
    this.decoder = new FrameDecoder(cfg.limits.maxFrameBytes);
    this.reader = new MsgReader();
    this.head = { count: 0, type: 0, id: 0 };
    this.onFrame = (buf, start, end) => this.frame(buf, start, end);
    this.out = new FrameOutput(
      rt,
      conn,
      cfg.writeHighWaterBytes,
      (over) => (over ? conn.pause() : conn.resume()),
      () => this.lost(),
    );
  }

  get peer(): { address: string; port: number } | null {
    return this.conn.remote;
  }

  /** Sends HELLO, starts reading and the timers. */
  start(): void {
    writeHello(this.out.w, this.cfg.limits);
    this.out.commit();
    if (this.cfg.firstFrameTimeoutMs > 0) {
      this.firstFrameTimer = setTimeout(() => {
        this.firstFrameTimer = null;
        if (!this.helloSeen) this.connectionError(GoAwayReason.HANDSHAKE_TIMEOUT, `no HELLO within ${this.cfg.firstFrameTimeoutMs} ms`);
      }, this.cfg.firstFrameTimeoutMs);
    }
    this.armIdle(this.cfg.idleTimeoutMs);
    this.conn.stream({
      data: (chunk) => this.data(chunk),
      end: () => this.lost(),
    });
  }

  /** Refuses the connection right after HELLO (server full). */
  refuse(reason: GoAwayReasonCode, message: string): void {
    writeHello(this.out.w, this.cfg.limits);
    this.connectionError(reason, message);
  }

  removeCall(call: ServerCallState): void {
    if (this.calls.get(call.id) === call) this.calls.delete(call.id);
    if (this.calls.size === 0 && (this.goAwaySent || this.owner.draining) && !this.closing) void this.close();
  }

  /** Graceful shutdown, step 1: GOAWAY NO_ERROR; open calls continue. */
  goAway(message: string): void {
    if (this.goAwaySent || this.closing) return;
    this.goAwaySent = true;
    writeGoAway(this.out.w, this.lastRequestId, GoAwayReason.NO_ERROR, message);
    this.out.commit();
    if (this.calls.size === 0) void this.close();
  }

  /** Ends every open call with STATUS `status` (shutdown after the grace period). */
  abortCalls(status: StatusCode, message: string): void {
    for (const call of [...this.calls.values()]) call.abortWithStatus(status, message);
  }

  /** Flushes what is queued and closes the socket. */
  close(): Promise<void> {
    if (this.closed !== null) return this.closed;
    this.closing = true;
    this.decoder.stop();
    this.clearTimers();
    this.closed = this.out
      .drain()
      .catch(() => {})
      .then(() => {
        this.teardown(new RpcError(Status.UNAVAILABLE, "connection closed"));
        return this.conn.close();
      });
    return this.closed;
  }

  private data(chunk: Uint8Array): void {
    this.lastActivity = Date.now();
    const res = this.decoder.push(chunk, this.onFrame);
    if (res === "ok" || res === "stopped") return;
    if (res === "too_large")
      this.connectionError(GoAwayReason.FRAME_TOO_LARGE, `frame of ${this.decoder.rejectedLength} bytes is over the limit of ${this.cfg.limits.maxFrameBytes}`);
    else this.connectionError(GoAwayReason.MALFORMED_FRAME, "frame with length 0");
  }

  private frame(buf: Uint8Array, start: number, end: number): void {
    if (this.closing) return;
    const r = this.reader;
    r.reset(buf, start, end);
    try {
      readFrameHead(r, this.head);
      const { type, id, count } = this.head;
      if (!this.helloSeen) {
        if (type !== FrameType.HELLO) throw new ConnectionError(GoAwayReason.PROTOCOL_ERROR, `first frame must be HELLO, got type ${type}`);
      }
      const badId = frameIdProblem(type, id);
      if (badId !== null) throw new ConnectionError(GoAwayReason.PROTOCOL_ERROR, badId);
      if (!this.helloSeen) return this.hello(count);
      switch (type) {
        case FrameType.REQUEST:
          return this.request(id, count, end);
        case FrameType.MESSAGE:
          return this.message(id, count);
        case FrameType.HALF_CLOSE: {
          const call = this.calls.get(id);
          if (call === undefined) return;
          call.halfClosed = true;
          call.inbound?.end(null);
          return;
        }
        case FrameType.CANCEL:
          this.calls.get(id)?.abort(new RpcError(Status.CANCELLED, "cancelled by the client"));
          return;
        case FrameType.WINDOW: {
          const credit = r.int();
          if (credit <= 0) throw new ConnectionError(GoAwayReason.PROTOCOL_ERROR, `WINDOW with credit ${credit}`);
          const call = this.calls.get(id);
          if (call !== undefined) (call.credit ??= new OutboundCredit(this.peerWindow)).add(credit);
          return;
        }
        case FrameType.PING:
          writePing(this.out.w, FrameType.PONG, r.int());
          this.out.commit();
          return;
        case FrameType.PONG:
          return;
        case FrameType.GOAWAY:
          return this.peerGoAway(count);
        case FrameType.HELLO:
          throw new ConnectionError(GoAwayReason.PROTOCOL_ERROR, "second HELLO");
        case FrameType.RESPONSE:
        case FrameType.HEADERS:
        case FrameType.STATUS:
          throw new ConnectionError(GoAwayReason.PROTOCOL_ERROR, `frame type ${type} is server-to-client only`);
        default:
          throw new ConnectionError(GoAwayReason.UNKNOWN_FRAME_TYPE, `unknown frame type ${type}`);
      }
    } catch (e) {
      if (e instanceof ConnectionError) this.connectionError(e.reason, e.message);
      else this.connectionError(GoAwayReason.MALFORMED_FRAME, `malformed frame: ${e instanceof Error ? e.message : String(e)}`);
    }
  }

  private hello(count: number): void {
    if (count < 7) throw new ConnectionError(GoAwayReason.PROTOCOL_ERROR, `HELLO has ${count} elements, needs 7`);
    const r = this.reader;
    const version = r.int();
    if (version !== PROTOCOL_VERSION) throw new ConnectionError(GoAwayReason.UNSUPPORTED_VERSION, `protocol version ${version} is not supported; this server speaks ${PROTOCOL_VERSION}`);
    // The client's maxConcurrentCalls is informational; its maxMetadataBytes bounds only what handlers set.
    const peer = { maxFrameBytes: r.int(), maxConcurrentCalls: r.int(), initialWindow: r.int(), maxMetadataBytes: r.int() };
    const bad = checkHelloLimits(peer);
    if (bad !== null) throw new ConnectionError(GoAwayReason.PROTOCOL_ERROR, bad);
    this.peerMaxFrameBytes = peer.maxFrameBytes;
    this.peerWindow = peer.initialWindow;
    skipRest(r, count, 7);
    this.helloSeen = true;
    if (this.firstFrameTimer !== null) {
      clearTimeout(this.firstFrameTimer);
      this.firstFrameTimer = null;
    }
  }

  private request(id: number, count: number, end: number): void {
    if (count < 6) throw new ConnectionError(GoAwayReason.MALFORMED_FRAME, `REQUEST has ${count} elements, needs 6 or 7`);
    if (id <= this.lastRequestId) throw new ConnectionError(GoAwayReason.PROTOCOL_ERROR, `REQUEST id ${id} is not greater than the previous id ${this.lastRequestId}`);
    const r = this.reader;
    const pathStart = r.strSpan();
    const paths = this.paths;
    if (!paths.match(r.buf, pathStart, r.pos)) {
      let decoded: string;
      try {
        decoded = MethodPathCache.decode(r.buf, pathStart, r.pos);
      } catch {
        throw new ConnectionError(GoAwayReason.MALFORMED_FRAME, "REQUEST path is not valid UTF-8");
      }
      paths.remember(r.buf, pathStart, r.pos, decoded, this.owner.lookup(decoded));
    }
    const path = paths.path;
    const timeoutMs = readOptionalInt(r);
    let metadata: Metadata | undefined;
    let mdError: MetadataError | null = null;
    try {
      metadata = readMetadata(r, this.cfg.limits.maxMetadataBytes);
    } catch (e) {
      if (!(e instanceof MetadataError)) throw e;
      mdError = e;
    }
    const flags = r.int();
    if (this.goAwaySent || this.owner.draining) return this.refuseCall(id, Status.UNAVAILABLE, "server is shutting down: retry on another connection");
    this.lastRequestId = id;
    if (mdError !== null) return this.refuseCall(id, mdError.kind === "size" ? Status.RESOURCE_EXHAUSTED : Status.INVALID_ARGUMENT, mdError.message);
    if (this.calls.size >= this.cfg.limits.maxConcurrentCalls)
      return this.refuseCall(id, Status.RESOURCE_EXHAUSTED, `too many concurrent calls on this connection (limit ${this.cfg.limits.maxConcurrentCalls})`);
    const bound = paths.value;
    if (bound === undefined) return this.refuseCall(id, Status.UNIMPLEMENTED, `unknown method ${path}`);
    const m = bound.method;
    const streamingIn = streamsRequests(m.kind);
    const mismatch = this.kindMismatch(id, path, m.kind, count >= 7, flags);
    if (mismatch !== null) return this.refuseCall(id, Status.UNIMPLEMENTED, mismatch);
    let req: unknown;
    if (!streamingIn) {
      try {
        req = m.input.decode(r);
      } catch (e) {
        return this.refuseCall(id, Status.INVALID_ARGUMENT, describeDecodeFailure(m.input.typeName, e));
      }
      if (r.pos !== end && count === 7) return this.refuseCall(id, Status.INVALID_ARGUMENT, `request ${m.input.typeName} has ${end - r.pos} trailing bytes`);
      if (bound.validate) {
        const issue = m.input.validate(req);
        if (issue !== null) return this.refuseCall(id, Status.INVALID_ARGUMENT, `invalid ${m.input.typeName}: ${issue.path === "" ? "" : `${issue.path}: `}${issue.message}`);
      }
    }
    const deadline = timeoutMs === undefined ? undefined : Date.now() + timeoutMs;
    const call = new ServerCallState(this, id, m, metadata ?? EMPTY_METADATA, deadline);
    this.owner.countCall();
    if (timeoutMs !== undefined && timeoutMs <= 0) {
      call.abortWithStatus(Status.DEADLINE_EXCEEDED, "deadline exceeded before the call started");
      return;
    }
    if (streamingIn) {
      const inbound = new InboundStream<unknown>(
        this.cfg.limits.initialWindow,
        (n) => {
          if (call.done || this.closing) return;
          writeWindow(this.out.w, id, n);
          this.out.commit();
        },
        () => {},
      );
      call.inbound = inbound;
      if ((flags & END_STREAM) !== 0) {
        call.halfClosed = true;
        inbound.end(null);
      }
      req = inbound;
    }
    let result: unknown;
    try {
      result = bound.intercepted === null ? bound.handler(req, call) : bound.intercepted({ method: m, ctx: call, request: req });
    } catch (e) {
      call.fail(e);
      return;
    }
    const single = m.kind === "unary" || m.kind === "client_stream";
    // A synchronous answer is sent right away: such a call never outlives
    // this function, so it skips the call table and the deadline timer.
    if (single && !isThenable(result)) return call.respond(result);
    this.calls.set(id, call);
    if (timeoutMs !== undefined && timeoutMs <= MAX_TIMER_MS)
      call.timer = setTimeout(() => call.abortWithStatus(Status.DEADLINE_EXCEEDED, `deadline of ${timeoutMs} ms exceeded`), timeoutMs);
    if (single) call.completeUnary(result);
    else call.completeStream(result);
  }

  /**
   * Edge cases 5 and 18: the REQUEST's shape and declared kind against the
   * method's kind. Returns the UNIMPLEMENTED message of a kind mismatch, or
   * null when the call may run; throws for a REQUEST no kind can send.
   */
  private kindMismatch(id: number, path: string, kind: MethodKind, inline: boolean, flags: number): string | null {
    if (inline && (flags & END_STREAM) === 0) throw new ConnectionError(GoAwayReason.PROTOCOL_ERROR, `REQUEST ${id} carries an inline message without END_STREAM`);
    const declared = declaredKind(flags);
    if (declared !== null && streamsRequests(declared) === inline)
      throw new ConnectionError(GoAwayReason.PROTOCOL_ERROR, `REQUEST ${id} declares kind ${declared} but ${inline ? "carries an" : "has no"} inline message`);
    if (declared !== null) return declared === kind ? null : kindMismatchMessage(path, declared, kind);
    if (inline !== streamsRequests(kind)) return null;
    // An undeclared kind (an older client) is judged by the REQUEST's shape alone.
    return kindMismatchMessage(path, inline ? "unary or server_stream (its REQUEST carries an inline message)" : "client_stream or bidi (its REQUEST has no inline message)", kind);
  }

  private message(id: number, count: number): void {
    if (count < 4) throw new ConnectionError(GoAwayReason.MALFORMED_FRAME, `MESSAGE has ${count} elements, needs 4`);
    const r = this.reader;
    const flags = r.int();
    const call = this.calls.get(id);
    if (call === undefined) return;
    if (call.inbound === null || call.halfClosed) throw new ConnectionError(GoAwayReason.PROTOCOL_ERROR, `MESSAGE on call ${id} after the client's END_STREAM`);
    const m = call.method;
    let msg: unknown;
    try {
      msg = m.input.decode(r);
    } catch (e) {
      return call.abortWithStatus(Status.INVALID_ARGUMENT, describeDecodeFailure(m.input.typeName, e));
    }
    const bound = this.owner.lookup(m.path);
    if (bound?.validate) {
      const issue = m.input.validate(msg);
      if (issue !== null) return call.abortWithStatus(Status.INVALID_ARGUMENT, `invalid ${m.input.typeName}: ${issue.path === "" ? "" : `${issue.path}: `}${issue.message}`);
    }
    if (!call.inbound.push(msg)) throw new ConnectionError(GoAwayReason.FLOW_CONTROL_ERROR, `MESSAGE on call ${id} beyond the granted credit`);
    if ((flags & END_STREAM) !== 0) {
      call.halfClosed = true;
      call.inbound.end(null);
    }
  }

  /**
   * The client sent GOAWAY. NO_ERROR: it is leaving on purpose, so new
   * REQUESTs get UNAVAILABLE, open calls finish, then the socket closes (no
   * GOAWAY back). Any other reason: the client saw a protocol error and is
   * closing, so every call is aborted at once.
   */
  private peerGoAway(count: number): void {
    if (count < 5) throw new ConnectionError(GoAwayReason.MALFORMED_FRAME, `GOAWAY has ${count} elements, needs 5`);
    const r = this.reader;
    r.int();
    const reason = r.int();
    const message = r.str();
    if (reason !== GoAwayReason.NO_ERROR) return this.lost(`client sent GOAWAY ${goAwayReasonName(reason)}${message === "" ? "" : `: ${message}`}`);
    this.goAwaySent = true;
    if (this.calls.size === 0) void this.close();
  }

  private refuseCall(id: number, status: StatusCode, message: string): void {
    writeStatus(this.out.w, id, status, message, undefined, null, null);
    this.out.commit();
  }

  /** GOAWAY with a reason, stop reading, flush, close. */
  connectionError(reason: GoAwayReasonCode, message: string): void {
    if (this.closing) return;
    this.decoder.stop();
    this.conn.pause();
    writeGoAway(this.out.w, this.lastRequestId, reason, message);
    this.out.commit();
    void this.close();
  }

  /** The socket ended or failed: abort everything, no frames. */
  private lost(why = "connection lost"): void {
    if (this.closing) return;
    this.closing = true;
    this.decoder.stop();
    this.clearTimers();
    this.teardown(new RpcError(Status.UNAVAILABLE, why));
    this.closed = this.conn.close();
  }

  private teardown(reason: RpcError): void {
    this.out.abandon();
    for (const call of [...this.calls.values()]) call.abort(reason);
    this.calls.clear();
    this.owner.connectionClosed(this);
  }

  private armIdle(ms: number): void {
    if (this.cfg.idleTimeoutMs <= 0) return;
    this.idleTimer = setTimeout(() => {
      this.idleTimer = null;
      if (this.closing) return;
      const quiet = Date.now() - this.lastActivity;
      if (this.calls.size === 0 && quiet >= this.cfg.idleTimeoutMs) this.connectionError(GoAwayReason.IDLE_TIMEOUT, `idle for ${quiet} ms`);
      else this.armIdle(this.calls.size === 0 ? this.cfg.idleTimeoutMs - quiet : this.cfg.idleTimeoutMs);
    }, Math.max(1, ms));
  }

  private clearTimers(): void {
    if (this.firstFrameTimer !== null) clearTimeout(this.firstFrameTimer);
    if (this.idleTimer !== null) clearTimeout(this.idleTimer);
    this.firstFrameTimer = null;
    this.idleTimer = null;
  }
}

function describeDecodeFailure(typeName: string, e: unknown): string {
  if (e instanceof DecodeError) return `could not decode ${typeName}: ${e.path === "" ? "" : `field ${e.path}: `}${e.detail}`;
  return `could not decode ${typeName}: ${e instanceof Error ? e.message : String(e)}`;
}

