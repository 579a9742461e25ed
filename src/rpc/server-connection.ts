/**
 * ServerConnection: one accepted connection on the server, the server's
 * side of a ConnectionCore (src/rpc/connection-core.ts: framing, HELLO,
 * PING/WINDOW/GOAWAY). It dispatches REQUESTs to handlers by path, routes
 * MESSAGE/HALF_CLOSE/CANCEL to calls, and owns drain; its ConnectionGuard
 * (connection-guard.ts) owns the time limits and abuse counters.
 * Call-level problems end one call with STATUS; protocol violations end the
 * connection with GOAWAY (docs/PROTOCOL.md section 7). While its unsent
 * output is over the high-water mark it neither reads nor starts the
 * REQUESTs it has already read, so a peer that does not read its answers
 * cannot make them pile up. Only this connection
 * is affected by anything its peer sends. With an authorize hook
 * (server-auth.ts) it runs the hook before decoding a request; calls whose
 * hook answers later wait in AuthorizingCalls (authorizing-calls.ts).
 */
import { peerText } from "../codec/peer-text.ts";
import type { Conn, Runtime } from "../runtime/types.ts";
import { AuthorizingCalls } from "./authorizing-calls.ts";
import { type Compression, COMPRESSION_MASK, type MessageCompressor } from "./compression.ts";
import { ConnectionCore, type ConnectionSide } from "./connection-core.ts";
import { ConnectionGuard, type GuardHost } from "./connection-guard.ts";
import type { CallContext, Metadata, MethodDescriptor } from "./descriptor.ts";
import { FrameOutput } from "./frame-output.ts";
import type { BudgetMember, MemoryBudget } from "./memory-budget.ts";
import type { MessageInflater } from "./message-compression.ts";
import type { PiecePool } from "./piece-pool.ts";
import { readOptionalInt, writeResponse, writeStatus } from "./frames.ts";
import type { ServerCall } from "./interceptors.ts";
import { MetadataError, readMetadata } from "./metadata.ts";
import { requestKindProblem, streamsRequests } from "./method-kind.ts";
import { ByteRun } from "./byte-run.ts";
import { MethodPathCache } from "./method-path-cache.ts";
import type { CallCounters } from "./metrics/call-counters.ts";
import { ConnectionError, END_STREAM, FrameType, GoAwayReason, type GoAwayReasonCode, goAwayReasonName, MAX_TIMER_MS, type PeerLimits } from "./protocol.ts";
import { type Authorize, runAuthorize } from "./server-auth.ts";
import { type CallHost, decodeInput, InvalidInput, isThenable, ServerCallState, trailingBytes, undecodable } from "./server-call.ts";
import type { LimitName, ServerEventLog } from "./server-events.ts";
import { CLOSE_LINGER_MS, type GuardLimits, overLimitMessage } from "./server-limits.ts";
import { RpcError, Status, type StatusCode } from "./status.ts";

/** A method ready to run: its descriptor, handler and whether to validate requests. */
export interface BoundMethod {
  readonly method: MethodDescriptor;
  readonly handler: (req: unknown, ctx: CallContext) => unknown;
  readonly validate: boolean;
  /** Handler with the server's interceptors around it, or null when there are none. */
  readonly intercepted: ((call: ServerCall) => unknown) | null;
  /** Where the method's calls are counted in the server's CallCounters. */
  readonly slot: number;
  /**
   * The implementation called without a context, for a unary method with no
   * interceptors whose implementation declares one parameter (it cannot see
   * its context): a synchronous answer then needs no call state. Null otherwise.
   */
  readonly plain: ((req: unknown) => unknown) | null;
  /** The flags of a well-formed inline REQUEST of this method (kind declared, END_STREAM); -1 for a method whose requests stream in. */
  readonly inlineRequestFlags: number;
}

export interface ServerConnectionConfig {
  readonly limits: PeerLimits;
  readonly debug: boolean;
  readonly exposeErrors: boolean;
  /** Per-method call counters, or null when metrics are off. */
  readonly metrics: CallCounters | null;
  readonly events: ServerEventLog;
  readonly firstFrameTimeoutMs: number;
  readonly guard: GuardLimits;
  readonly writeHighWaterBytes: number;
  /** Runs before a request body is decoded; null when the server has none. */
  readonly authorize: Authorize | null;
  /** Per-message compression (null: off). */
  readonly compression: Compression | null;
  /** Announce in the HELLO that this server reads several values per metadata key. */
  readonly multiValuedMetadata: boolean;
}

/** What the connection needs from its server. */
export interface ConnectionOwner {
  lookup(path: string): BoundMethod | undefined;
  readonly draining: boolean;
  /** The worker's memory budget, which this connection reports what it holds to. */
  readonly budget: MemoryBudget;
  /** Where this worker's connections assemble split frames. */
  readonly pieces: PiecePool;
  connectionClosed(c: ServerConnection): void;
  countCall(): void;
  /** Calls open across the server, kept by callOpened/callClosed. */
  readonly openCalls: number;
  callOpened(): void;
  callClosed(): void;
}

const EMPTY_METADATA: Metadata = Object.freeze(Object.create(null)) as Metadata;

export class ServerConnection implements CallHost, ConnectionSide, BudgetMember, GuardHost {
  readonly out: FrameOutput;
  readonly calls: Map<number, ServerCallState>;
  readonly debug: boolean;
  readonly exposeErrors: boolean;
  readonly metrics: CallCounters | null;
  readonly events: ServerEventLog;
  /** Bytes read from the peer. */
  bytesIn: number;
  private readonly paths: MethodPathCache<BoundMethod>;
  /** The bytes from path to flags of the last REQUEST admitted by plainRequest, and its method: the same bytes again take the shortcut. */
  private readonly plainPrefix: ByteRun;
  private plainBound: BoundMethod | null;
  peerMaxFrameBytes: number;
  peerWindow: number;
  /** Compresses responses: set from the client's HELLO, null unless it accepts one of the server's algorithms. */
  compressor: MessageCompressor | null;
  closing: boolean;
  /** Settles when the socket is closed (set by close() or lost()). */
  private closed: Promise<void> | null;
  private goAwaySent: boolean;
  private lastRequestId: number;
  /** Calls whose asynchronous authorize has not answered; created at the first such call. */
  private authorizing: AuthorizingCalls | null;
  readonly core: ConnectionCore;
  readonly guard: ConnectionGuard;
  budgetCharged: number;
  budgetPaused: boolean;
  /** Bytes of request messages decoded and waiting in handlers' streams. */
  private inboundBytes: number;

  constructor(
    readonly rt: Runtime,
    readonly conn: Conn,
    private readonly owner: ConnectionOwner,
    private readonly cfg: ServerConnectionConfig,
  ) {
    this.debug = cfg.debug;
    this.exposeErrors = cfg.exposeErrors;
    this.metrics = cfg.metrics;
    this.events = cfg.events;
    this.bytesIn = 0;
    this.calls = new Map();
    this.paths = new MethodPathCache();
    this.plainPrefix = new ByteRun();
    this.plainBound = null;
    this.peerMaxFrameBytes = cfg.limits.maxFrameBytes;
    this.peerWindow = cfg.limits.initialWindow;
    this.compressor = null;
    this.closing = false;
    this.closed = null;
    this.goAwaySent = false;
    this.lastRequestId = 0;
    this.authorizing = null;
    this.budgetCharged = 0;
    this.budgetPaused = false;
    this.inboundBytes = 0;
    const budget = owner.budget;
    this.out = new FrameOutput(rt, conn, cfg.writeHighWaterBytes, (over) => this.outputPressure(over), () => this.lost(), () => budget.account(this));
    this.core = new ConnectionCore("server", conn, this.out, this, cfg.limits, cfg.limits, cfg.guard.frameTimeoutMs, owner.pieces, cfg.compression, cfg.multiValuedMetadata);
    this.guard = new ConnectionGuard(cfg.guard, this);
  }

  get peer(): { address: string; port: number } | null {
    return this.conn.remote;
  }

  /** CallHost: made at the first compressed request message. */
  get inflater(): MessageInflater {
    return this.core.inflater;
  }

  /** CallHost: the client's HELLO said it reads several values per metadata key. */
  get peerMultiValuedMetadata(): boolean {
    return this.core.peerMultiValuedMetadata;
  }

  /** Date.now() when the last bytes arrived: the start of the calls they carry. */
  get readAt(): number {
    return this.core.lastRead;
  }

  /** Sends HELLO, starts reading and the timers. */
  start(): void {
    const ms = this.cfg.firstFrameTimeoutMs;
    this.core.sendHello(ms, () => this.connectionError(GoAwayReason.HANDSHAKE_TIMEOUT, `no HELLO within ${ms} ms`));
    this.guard.start();
    const core = this.core;
    core.shortcut = (buf, start, end) => this.shortcut(buf, start, end);
    const budget = this.owner.budget;
    const readsAllocate = budget.readsAllocate;
    const dataIn = (buf: Uint8Array, start: number, end: number): void => {
      this.bytesIn += end - start;
      core.dataIn(buf, start, end);
      budget.account(this);
      if (readsAllocate) budget.readAllocated(end - start);
    };
    this.conn.stream({
      data: (chunk) => dataIn(chunk, 0, chunk.length),
      dataIn,
      queued: () => budget.account(this),
      end: () => this.lost(),
    });
  }

  /** Refuses the connection right after HELLO (server full). */
  refuse(reason: GoAwayReasonCode, message: string): void {
    this.core.sendHello();
    this.connectionError(reason, message);
  }

  removeCall(call: ServerCallState): void {
    if (this.calls.get(call.id) === call && this.calls.delete(call.id)) this.owner.callClosed();
    if (this.calls.size === 0 && (this.goAwaySent || this.owner.draining) && !this.closing) {
      // Draining before this connection's GOAWAY went out (the server closes its listeners first): send it
      // now, so a REQUEST already on its way is known not to have run (PROTOCOL.md section 10, rule 4).
      if (!this.goAwaySent) this.goAway("server shutting down");
      else void this.close();
    }
  }

  /** Graceful shutdown, step 1: GOAWAY NO_ERROR; open calls continue. */
  goAway(message: string): void {
    if (this.goAwaySent || this.closing) return;
    this.goAwaySent = true;
    this.core.sendGoAway(this.lastRequestId, GoAwayReason.NO_ERROR, message);
    this.events.goAwaySent(GoAwayReason.NO_ERROR, message, this.peer);
    if (this.calls.size === 0) void this.close();
  }

  /** Ends every open call with STATUS `status` (shutdown after the grace period). */
  abortCalls(status: StatusCode, message: string): void {
    for (const call of [...this.calls.values()]) call.abortWithStatus(status, message);
  }

  /** Flushes what is queued and closes the socket, after reading on for up to `lingerMs` while the peer still sends (ConnectionGuard.linger). */
  close(lingerMs = 0): Promise<void> {
    if (this.closed !== null) return this.closed;
    this.stop();
    this.closed = this.out
      .drain()
      .catch(() => {})
      .then(() => {
        this.teardown(new RpcError(Status.UNAVAILABLE, "connection closed"));
        if (lingerMs > 0 && !this.conn.closed) return this.guard.linger(lingerMs);
      })
      .then(() => this.conn.close());
    return this.closed;
  }

  /**
   * A REQUEST frame `[2, id, ...]` in a 7-element array whose bytes from the
   * path to the flags are those of the last plain REQUEST: handled here,
   * before the frame's head is parsed (ConnectionCore.shortcut). The id is a
   * fixint, u8, u16 or u32, as ringrpc's clients write it; anything else, an id
   * that does not grow, other bytes or a connection that admits no plain
   * call returns false with nothing read, and the frame takes the general
   * path (and its errors). Saves ~11 ns a request (bench/RESULTS.md 0.19).
   * The id is read here rather than with MsgReader.int, whose u8-u32 ids go
   * through intSlow: r.int() plus restoring the cursor measured 2% fewer
   * requests at depth 32 (6 interleaved pairs, 3.26M against 3.33M).
   */
  private shortcut(buf: Uint8Array, start: number, end: number): boolean {
    if (buf[start] !== 0x97 || buf[start + 1] !== FrameType.REQUEST || start + 7 > end) return false;
    const r = this.core.reader;
    let p = start + 2;
    const lead = buf[p]!;
    let id: number;
    if (lead <= 0x7f) {
      id = lead;
      p += 1;
    } else if (lead === 0xcc) {
      id = buf[p + 1]!;
      p += 2;
    } else if (lead === 0xcd) {
      id = (buf[p + 1]! << 8) | buf[p + 2]!;
      p += 3;
    } else if (lead === 0xce) {
      id = r.wordAt(p + 1) >>> 0;
      p += 5;
    } else return false;
    const prefix = this.plainPrefix;
    if (id <= this.lastRequestId || !prefix.startsAt(r, p) || !this.admitsPlain()) return false;
    r.pos = p + prefix.len;
    const bound = this.plainBound!;
    this.plainRequest(id, bound, bound.plain!, end);
    this.holdIfBacklogged();
    return true;
  }

  /** After a REQUEST: with answers queued past the high-water mark, the rest of what was read waits until they drain. */
  private holdIfBacklogged(): void {
    if (this.out.overHighWater) this.core.holdFrames();
  }

  /** ConnectionSide: the server's call frames. */
  callFrame(type: number, id: number, count: number, end: number): void {
    switch (type) {
      case FrameType.REQUEST:
        this.request(id, count, end);
        this.holdIfBacklogged();
        return;
      case FrameType.MESSAGE:
        return this.message(id, count, end);
      case FrameType.HALF_CLOSE:
        return this.calls.get(id)?.endInbound();
      case FrameType.CANCEL: {
        const call = this.calls.get(id);
        if (call === undefined) return;
        call.abort(new RpcError(Status.CANCELLED, "cancelled by the client"));
        return this.guard.cancelled();
      }
      default:
        throw this.core.unexpected(type);
    }
  }

  helloReceived(): void {
    this.peerMaxFrameBytes = this.core.peer.maxFrameBytes;
    this.peerWindow = this.core.peer.initialWindow;
    this.compressor = this.core.compressor;
  }

  /**
   * The output crossed the high-water mark (stop reading; REQUESTs already
   * read wait, see callFrame) or drained below half of it (read again and
   * deliver what waited, after the current turn).
   */
  private outputPressure(over: boolean): void {
    this.updateReading();
    if (!over && this.core.framesHeld) queueMicrotask(() => {
      if (!this.closing && !this.out.overHighWater) this.core.releaseFrames();
    });
  }

  /** BudgetMember: bytes read but not yet delivered, request messages waiting for handlers or for an authorize, output not yet written. */
  heldBytes(): number {
    return this.conn.queuedBytes + this.core.bufferedBytes + this.inboundBytes + this.out.backlog + (this.authorizing === null ? 0 : this.authorizing.heldBytes);
  }

  /** CallHost: request messages queued for handlers, in bytes on the wire. */
  inboundHeld(delta: number): void {
    this.inboundBytes += delta;
  }

  /** Reads from the peer unless the output is over its high-water mark or the memory budget paused this connection (also BudgetMember). */
  updateReading(): void {
    if (this.closing) return;
    const pause = this.out.overHighWater || this.budgetPaused;
    this.core.readingPaused(pause);
    if (pause) this.conn.pause();
    else this.conn.resume();
  }

  evictForBudget(message: string): void {
    this.connectionError(GoAwayReason.ENHANCE_YOUR_CALM, `memory_budget: ${message}`);
  }

  pingReceived(): boolean {
    return this.guard.pinged();
  }

  openCall(id: number): ServerCallState | undefined {
    return this.calls.get(id);
  }

  private request(id: number, count: number, end: number): void {
    if (count < 6) throw new ConnectionError(GoAwayReason.MALFORMED_FRAME, `REQUEST has ${count} elements, needs 6 or 7`);
    if (id <= this.lastRequestId) throw new ConnectionError(GoAwayReason.PROTOCOL_ERROR, `REQUEST id ${id} is not greater than the previous id ${this.lastRequestId}`);
    const r = this.core.reader;
    const prefixStart = r.pos;
    const pathStart = r.strSpan();
    const paths = this.paths;
    if (!paths.resolve(r, pathStart, r.pos, this.owner)) throw new ConnectionError(GoAwayReason.MALFORMED_FRAME, "REQUEST path is not valid UTF-8");
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
    const bound = paths.value;
    // A plain method's uncompressed inline REQUEST with nothing to check but the call limits (plainRequest).
    if (
      bound !== undefined && bound.plain !== null && count === 7 && timeoutMs === undefined && metadata === undefined && mdError === null &&
      (flags === bound.inlineRequestFlags || (flags === END_STREAM && bound.inlineRequestFlags >= 0)) &&
      this.admitsPlain()
    ) {
      // The next REQUEST with these same bytes from path to flags takes the shortcut.
      this.plainPrefix.set(r, prefixStart, r.pos);
      this.plainBound = bound;
      return this.plainRequest(id, bound, bound.plain, end);
    }
    if (this.goAwaySent || this.owner.draining) {
      // The GOAWAY goes first (its lastId below this id), so the client knows this call never ran (PROTOCOL.md section 10, rule 4).
      if (!this.goAwaySent) this.goAway("server shutting down");
      return this.refuseCall(id, Status.UNAVAILABLE, "server is shutting down: retry on another connection");
    }
    this.lastRequestId = id;
    if (this.budgetPaused) {
      this.owner.budget.refusedCalls++;
      return this.refuseCall(id, Status.RESOURCE_EXHAUSTED, "the server's memory budget is exhausted and this connection holds more than its share: retry later", "memory_budget");
    }
    if (mdError !== null)
      return mdError.kind === "size"
        ? this.refuseCall(id, Status.RESOURCE_EXHAUSTED, mdError.message, "max_metadata_bytes")
        : this.refuseCall(id, Status.INVALID_ARGUMENT, mdError.message);
    if (this.atCallLimit()) return this.overCallLimit(id);
    if (bound === undefined) return this.refuseCall(id, Status.UNIMPLEMENTED, `unknown method ${peerText(path)}`);
    const m = bound.method;
    const streamingIn = streamsRequests(m.kind);
    const mismatch = requestKindProblem(id, path, m.kind, count >= 7, flags);
    if (mismatch !== null) return this.refuseCall(id, Status.UNIMPLEMENTED, mismatch);
    const authorize = this.cfg.authorize;
    if (authorize !== null) {
      const verdict = runAuthorize(authorize, { method: m, metadata: metadata ?? EMPTY_METADATA, peer: this.conn.remote }, this.debug);
      if (verdict !== null) {
        if (!isThenable(verdict)) return this.refuseCall(id, verdict.status, verdict.message);
        const owner = this.owner;
        this.authorizing ??= new AuthorizingCalls(this, this.calls, this.cfg.limits.initialWindow, {
          opened: () => owner.callOpened(),
          started: () => owner.countCall(),
          released: () => owner.budget.account(this),
        });
        return this.authorizing.open(verdict, id, bound, metadata ?? EMPTY_METADATA, timeoutMs, flags, streamingIn ? null : r.buf.slice(r.pos, end));
      }
    }
    let req: unknown;
    if (!streamingIn) {
      let body = r;
      let bodyEnd = count === 7 ? end : -1;
      if ((flags & COMPRESSION_MASK) !== 0) {
        try {
          body = this.inflater.open(r, flags);
        } catch (e) {
          const err = e as RpcError;
          return this.refuseCall(id, err.status, err.message, err.status === Status.RESOURCE_EXHAUSTED ? "max_frame_bytes" : undefined);
        }
        bodyEnd = body.end;
      }
      req = decodeInput(m, body, bodyEnd, bound.validate);
      if (req instanceof InvalidInput) return this.refuseCall(id, Status.INVALID_ARGUMENT, req.message);
    }
    const expired = timeoutMs !== undefined && timeoutMs <= 0;
    if (bound.plain !== null && this.metrics === null && !expired) return this.plainUnary(id, bound, bound.plain, req, metadata ?? EMPTY_METADATA, timeoutMs);
    const call = this.newCall(id, bound, metadata ?? EMPTY_METADATA, timeoutMs);
    this.owner.countCall();
    if (expired) {
      call.abortWithStatus(Status.DEADLINE_EXCEEDED, "deadline exceeded before the call started");
      return;
    }
    if (streamingIn) req = call.openInbound(this.cfg.limits.initialWindow, (flags & END_STREAM) !== 0);
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
    this.track(call, timeoutMs);
    if (single) call.completeUnary(result);
    else call.completeStream(result);
  }

  /**
   * A REQUEST the general path would admit with no question but the call
   * limits: an uncompressed unary message for a plain method, no deadline or
   * metadata, nothing paused or draining. The same answers, fewer branches.
   */
  private plainRequest(id: number, bound: BoundMethod, plain: (req: unknown) => unknown, end: number): void {
    this.lastRequestId = id;
    if (this.atCallLimit()) return this.overCallLimit(id);
    const r = this.core.reader;
    const t = bound.method.input;
    let req: unknown;
    if (bound.validate && t.decoderValidates !== true) {
      req = decodeInput(bound.method, r, end, true);
      if (req instanceof InvalidInput) return this.refuseCall(id, Status.INVALID_ARGUMENT, req.message);
    } else {
      // decodeInput without the validation, in line (the same messages): 2% more requests at depth 32 than the call (11 interleaved pairs, bench/RESULTS.md 0.19).
      try {
        req = t.decode(r);
      } catch (e) {
        return this.refuseCall(id, Status.INVALID_ARGUMENT, undecodable(t.typeName, e).message);
      }
      if (r.pos !== end) return this.refuseCall(id, Status.INVALID_ARGUMENT, trailingBytes(t.typeName, end - r.pos).message);
    }
    this.plainUnary(id, bound, plain, req, EMPTY_METADATA, undefined);
  }

  /** Nothing about the connection or the server asks for more than plainRequest checks. */
  private admitsPlain(): boolean {
    return !this.goAwaySent && !this.budgetPaused && this.metrics === null && this.cfg.authorize === null && !this.owner.draining;
  }

  /** The connection's or the server's limit of open calls is reached: a new call is refused. */
  private atCallLimit(): boolean {
    return this.calls.size >= this.cfg.limits.maxConcurrentCalls || this.owner.openCalls >= this.cfg.guard.maxServerConcurrentCalls;
  }

  /** RESOURCE_EXHAUSTED for a call over the connection's or the server's limit of open calls. */
  private overCallLimit(id: number): void {
    const limit = this.calls.size >= this.cfg.limits.maxConcurrentCalls ? "max_concurrent_calls" : "max_server_concurrent_calls";
    this.refuseCall(id, Status.RESOURCE_EXHAUSTED, overLimitMessage(this.calls.size, this.cfg.limits.maxConcurrentCalls, this.cfg.guard.maxServerConcurrentCalls), limit);
    this.guard.refused();
  }

  private newCall(id: number, bound: BoundMethod, metadata: Metadata, timeoutMs: number | undefined): ServerCallState {
    const deadline = timeoutMs === undefined ? undefined : Date.now() + timeoutMs;
    return new ServerCallState(this, id, bound.method, metadata, deadline, bound.slot);
  }

  /** A call that outlives request(): into the call table (cancel, shutdown, connection loss find it there), with its deadline timer. */
  private track(call: ServerCallState, timeoutMs: number | undefined): void {
    this.calls.set(call.id, call);
    this.owner.callOpened();
    if (timeoutMs !== undefined && timeoutMs <= MAX_TIMER_MS)
      call.timer = setTimeout(() => call.abortWithStatus(Status.DEADLINE_EXCEEDED, `deadline of ${timeoutMs} ms exceeded`), timeoutMs);
  }

  /**
   * A unary call whose handler cannot see its context (BoundMethod.plain,
   * metrics off): a synchronous answer is encoded straight into the output,
   * with no call state at all. A throw, a promise or a response that does not
   * encode gets its call state then and goes the usual way (the handler never
   * saw the context, so nothing is lost by making it late).
   */
  private plainUnary(id: number, bound: BoundMethod, plain: (req: unknown) => unknown, req: unknown, metadata: Metadata, timeoutMs: number | undefined): void {
    this.owner.countCall();
    let result: unknown;
    try {
      result = plain(req);
    } catch (e) {
      return this.newCall(id, bound, metadata, timeoutMs).fail(e);
    }
    if (isThenable(result)) {
      const call = this.newCall(id, bound, metadata, timeoutMs);
      this.track(call, timeoutMs);
      return call.completeUnary(result);
    }
    try {
      writeResponse(this.out.w, id, bound.method.output, result, this.peerMaxFrameBytes, this.compressor);
    } catch {
      // respond() encodes it again and ends the call with the error that gives.
      return this.newCall(id, bound, metadata, timeoutMs).respond(result);
    }
    this.out.commit();
  }

  private message(id: number, count: number, end: number): void {
    if (count < 4) throw new ConnectionError(GoAwayReason.MALFORMED_FRAME, `MESSAGE has ${count} elements, needs 4`);
    const r = this.core.reader;
    const flags = r.int();
    const call = this.calls.get(id);
    if (call === undefined) return;
    if (call.inbound === null || call.halfClosed) {
      // A streaming call whose authorize has not answered keeps its MESSAGEs undecoded.
      if (!call.halfClosed && this.authorizing?.hold(call, r, end, flags) === true) return;
      throw new ConnectionError(GoAwayReason.PROTOCOL_ERROR, `MESSAGE on call ${id} after the client's END_STREAM`);
    }
    let bytes = end - r.pos;
    let body = r;
    if ((flags & COMPRESSION_MASK) !== 0) {
      try {
        body = this.inflater.open(r, flags);
      } catch (e) {
        const err = e as RpcError;
        return call.abortWithStatus(err.status, err.message);
      }
      // What the decoded message holds is what the memory budget must see.
      bytes = body.end;
    }
    const msg = decodeInput(call.method, body, -1, this.owner.lookup(call.method.path)?.validate === true);
    if (msg instanceof InvalidInput) return call.abortWithStatus(Status.INVALID_ARGUMENT, msg.message);
    if (!call.pushInbound(msg, bytes)) throw new ConnectionError(GoAwayReason.FLOW_CONTROL_ERROR, `MESSAGE on call ${id} beyond the granted credit`);
    if ((flags & END_STREAM) !== 0) call.endInbound();
  }

  /**
   * The client sent GOAWAY. NO_ERROR: it is leaving on purpose, so new
   * REQUESTs get UNAVAILABLE, open calls finish, then the socket closes (no
   * GOAWAY back). Any other reason: the client saw a protocol error and is
   * closing, so every call is aborted at once.
   */
  peerGoAway(count: number): void {
    if (count < 5) throw new ConnectionError(GoAwayReason.MALFORMED_FRAME, `GOAWAY has ${count} elements, needs 5`);
    const r = this.core.reader;
    r.int();
    const reason = r.int();
    const message = r.str();
    if (reason !== GoAwayReason.NO_ERROR) return this.lost(`client sent GOAWAY ${goAwayReasonName(reason)}${message === "" ? "" : `: ${peerText(message)}`}`);
    this.goAwaySent = true;
    if (this.calls.size === 0) void this.close();
  }

  private refuseCall(id: number, status: StatusCode, message: string, limit?: LimitName): void {
    if (limit !== undefined) this.events.limitHit(limit, message, this.peer);
    writeStatus(this.out.w, id, status, message, undefined, null, null);
    this.out.commit();
  }

  /** GOAWAY with a reason, stop handling frames, flush, linger, close. */
  connectionError(reason: GoAwayReasonCode, message: string): void {
    if (this.closing) return;
    this.core.stop();
    this.core.sendGoAway(this.lastRequestId, reason, message);
    this.events.goAwaySent(reason, message, this.peer);
    void this.close(CLOSE_LINGER_MS);
  }

  /** The socket ended or failed: abort everything, no frames. */
  private lost(why = "connection lost"): void {
    if (this.closing) return this.guard.peerClosed();
    this.stop();
    this.teardown(new RpcError(Status.UNAVAILABLE, why));
    this.closed = this.conn.close();
  }

  private teardown(reason: RpcError): void {
    this.out.abandon();
    for (const call of [...this.calls.values()]) call.abort(reason);
    this.calls.clear();
    this.owner.connectionClosed(this);
  }

  private stop(): void {
    this.closing = true;
    this.core.stop();
    this.guard.stop();
  }
}
