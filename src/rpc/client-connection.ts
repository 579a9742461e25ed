/**
 * ClientConnection: one client connection to one endpoint, the client's
 * side of a ConnectionCore (src/rpc/connection-core.ts: framing, HELLO,
 * PING/WINDOW/GOAWAY). Connects, multiplexes calls by id, writes REQUEST/
 * MESSAGE/HALF_CLOSE/CANCEL/WINDOW, and routes RESPONSE/MESSAGE/HEADERS/
 * STATUS back to calls. When the
 * connection dies every open call fails at once with UNAVAILABLE; on GOAWAY
 * it takes no new calls and fails those the server did not accept.
 */
import { peerText } from "../codec/peer-text.ts";
import type { Conn, Runtime, TlsClientOptions } from "../runtime/types.ts";
import { CallTable } from "./call-table.ts";
import { type CallTransport, ClientCallState, runCallback } from "./client-call.ts";
import { type Compression, COMPRESSION_MASK } from "./compression.ts";
import { ConnectionCore, type ConnectionSide } from "./connection-core.ts";
import type { Metadata, MethodDescriptor } from "./descriptor.ts";
import { FrameOutput } from "./frame-output.ts";
import { readOptionalStr, writeIdOnly, writeRequest, writeWindow } from "./frames.ts";
import { readMetadata } from "./metadata.ts";
import { multiValuedKey, peerName, severalValuesRefused } from "./metadata-negotiation.ts";
import { requestKindFlags, streamsRequests } from "./method-kind.ts";
import { ConnectionError, DEFAULT_LIMITS, END_STREAM, FrameType, GoAwayReason, type GoAwayReasonCode, goAwayReasonName, type PeerLimits } from "./protocol.ts";
import { Keepalive, type KeepaliveOptions } from "./keepalive.ts";
import { asRpcError, RpcError, Status } from "./status.ts";

export interface ClientConnectionConfig {
  readonly limits: PeerLimits;
  readonly connectTimeoutMs: number;
  readonly writeHighWaterBytes: number;
  readonly keepalive: KeepaliveOptions;
  /** Connect with TLS (ChannelOptions.tls); null for plain TCP. */
  readonly tls?: TlsClientOptions | null;
  /** Per-message compression (ChannelOptions.compression); null or absent: off. */
  readonly compression?: Compression | null;
  /** Announce in the HELLO that this client reads several values per metadata key (ChannelOptions.multiValuedMetadata); absent: true. */
  readonly multiValuedMetadata?: boolean;
}

/** Why a TLS connection closed between a good handshake and the server's HELLO, in words a person can act on. */
const TLS_CLOSED_BEFORE_HELLO =
  "the server closed the connection right after the TLS handshake, before its HELLO: a server that requires client certificates does that to a certificate it refused (its log names the reason): check this client's tls.cert and tls.key";

export interface ClientConnectionOwner {
  /** No new calls on `c` from now: GOAWAY received, or closed. */
  connectionEnded(c: ClientConnection): void;
  /** A call that ran on `c` ended (its `outcome` says how). */
  callEnded(call: ClientCallState): void;
}

const MAX_CALL_ID = 0xffffffff;

export class ClientConnection implements CallTransport, ConnectionSide {
  readonly calls: CallTable<ClientCallState>;
  readonly out: FrameOutput;
  /** No new calls: GOAWAY received, ids exhausted, or closed. */
  draining: boolean;
  closed: boolean;
  private nextId: number;
  /** Calls waiting because the server's maxConcurrentCalls are open or the output is over its high-water mark (FIFO from queueHead). */
  private readonly queue: [ClientCallState, unknown][];
  private queueHead: number;
  private onHello: ((e: Error | null) => void) | null;
  private readonly keepalive: Keepalive;
  private readonly core: ConnectionCore;

  private constructor(
    readonly conn: Conn,
    /** "host:port" of the server, for messages. */
    readonly address: string,
    rt: Runtime,
    private readonly owner: ClientConnectionOwner,
    private readonly cfg: ClientConnectionConfig,
  ) {
    this.calls = new CallTable();
    this.draining = false;
    this.closed = false;
    this.nextId = 1;
    this.queue = [];
    this.queueHead = 0;
    this.onHello = null;
    // Below half the mark again: the calls that waited for the output go out.
    this.out = new FrameOutput(rt, conn, cfg.writeHighWaterBytes, (over) => {
      if (!over && this.queue.length > this.queueHead && !this.closed) this.startQueued();
    }, (e) => this.lost(`write failed: ${e.message}`));
    const core = (this.core = new ConnectionCore("client", conn, this.out, this, cfg.limits, { ...DEFAULT_LIMITS }, 0, null, cfg.compression ?? null, cfg.multiValuedMetadata ?? true));
    const calls = this.calls;
    this.keepalive = new Keepalive(cfg.keepalive, {
      get openCalls() {
        return calls.size;
      },
      get lastRead() {
        return core.lastRead;
      },
      sendPing: (opaque) => core.sendPing(FrameType.PING, opaque),
      lost: (why) => this.lost(why),
    });
  }

  /** The server's limits, from its HELLO. */
  get peer(): PeerLimits {
    return this.core.peer;
  }

  /** Connects and waits for the server's HELLO. Rejects with RpcError UNAVAILABLE. */
  static async open(rt: Runtime, host: string, port: number, owner: ClientConnectionOwner, cfg: ClientConnectionConfig): Promise<ClientConnection> {
    let conn: Conn;
    try {
      const tls = cfg.tls ?? undefined;
      conn = await rt.timeout(cfg.connectTimeoutMs, (signal) => rt.connect({ host, port, noDelay: true, signal, ...(tls === undefined ? {} : { tls }) }));
    } catch (e) {
      throw new RpcError(Status.UNAVAILABLE, `cannot connect to ${host}:${port}: ${e instanceof Error ? e.message : String(e)}`);
    }
    const c = new ClientConnection(conn, host.includes(":") ? `[${host}]:${port}` : `${host}:${port}`, rt, owner, cfg);
    let helloSeen = false;
    const hello = new Promise<void>((resolve, reject) => {
      c.onHello = (e) => {
        helloSeen = true;
        return e === null ? resolve() : reject(e);
      };
    });
    const core = c.core;
    core.sendHello(cfg.connectTimeoutMs, () => c.lost(`no HELLO from ${host}:${port} within ${cfg.connectTimeoutMs} ms`));
    const closed = () => (!helloSeen && cfg.tls ? TLS_CLOSED_BEFORE_HELLO : "the server closed the connection");
    conn.stream({
      data: (chunk) => core.data(chunk),
      dataIn: (buf, start, end) => core.dataIn(buf, start, end),
      end: (err) => c.lost(err === null ? closed() : err.message),
    });
    await hello;
    c.keepalive.start();
    return c;
  }

  get usable(): boolean {
    return !this.draining && !this.closed;
  }

  /** Open plus queued calls (the load least-outstanding balancing compares). */
  get outstanding(): number {
    return this.calls.size + this.queue.length - this.queueHead;
  }

  /** Calls waiting client-side, not yet encoded (server's concurrency limit, or output over its high-water mark). */
  get queuedCalls(): number {
    return this.queue.length - this.queueHead;
  }

  /** Encoded bytes the kernel has not taken yet. */
  get unsentBytes(): number {
    return this.out.backlog;
  }

  /** Sends the REQUEST of a call created by the channel (and, for client streams, its messages). */
  start(call: ClientCallState, request: unknown): void {
    if (call.done) return;
    if (!this.usable) return call.refuse(new RpcError(Status.UNAVAILABLE, `connection to ${this.address} is closing: call not sent, safe to retry`));
    if (this.calls.size >= this.peer.maxConcurrentCalls || this.out.overHighWater) {
      // The server would refuse it, or the output already holds more than its high-water mark (a peer
      // that reads slowly): wait client-side, unencoded (deadline and abort still run).
      this.queue.push([call, request]);
      return;
    }
    let timeoutMs: number | undefined;
    if (call.deadline !== undefined) {
      timeoutMs = Math.ceil(call.deadline - Date.now());
      if (timeoutMs <= 0) return call.fail(new RpcError(Status.DEADLINE_EXCEEDED, `deadline exceeded before ${call.method.path} was sent`));
    }
    // Only a server that said so in its HELLO reads an array value; an older one would close the connection on it.
    if (!this.core.peerMultiValuedMetadata && call.options.metadata !== undefined) {
      const refused = this.refusedMetadata(call.options.metadata);
      if (refused !== null) return call.fail(refused);
    }
    const id = this.nextId++;
    if (this.nextId > MAX_CALL_ID) this.draining = true;
    const m = call.method as MethodDescriptor<unknown, unknown>;
    const streamingIn = streamsRequests(m.kind);
    // The flags declare the kind this client calls the method as, so a server with another kind refuses the call (Edge cases 18).
    const kindFlags = requestKindFlags(m.kind);
    try {
      if (streamingIn) writeRequest(this.out.w, id, m.path, timeoutMs, call.options.metadata, kindFlags, null, undefined, this.peer.maxFrameBytes);
      else writeRequest(this.out.w, id, m.path, timeoutMs, call.options.metadata, END_STREAM | kindFlags, m.input, request, this.peer.maxFrameBytes, this.core.compressor);
    } catch (e) {
      // The caller's value does not fit the IDL: its mistake, refused here, nothing was sent (writeRequest rolled back).
      return call.fail(asRpcError(e, `could not encode request ${m.input.typeName} of ${m.path}`, Status.INVALID_ARGUMENT));
    }
    call.attach(this, id);
    this.calls.add(call);
    this.out.commit();
    if (streamingIn) void call.sendRequests(request as AsyncIterable<unknown> | Iterable<unknown>, this.out, this.peer, this.core.compressor);
  }

  /** FAILED_PRECONDITION when `md` has a key with several values (this server predates them), else null. */
  private refusedMetadata(md: Metadata): RpcError | null {
    const key = multiValuedKey(md);
    if (key === null) return null;
    const what = `metadata key ${JSON.stringify(key)}`;
    return severalValuesRefused(Status.FAILED_PRECONDITION, peerName("server", this.address), what, `call not sent; send one value per key`);
  }

  sendCancel(id: number): void {
    if (this.closed) return;
    writeIdOnly(this.out.w, FrameType.CANCEL, id);
    this.out.commit();
  }

  sendWindow(id: number, n: number): void {
    if (this.closed) return;
    writeWindow(this.out.w, id, n);
    this.out.commit();
  }

  forget(call: ClientCallState): void {
    this.calls.remove(call);
    this.owner.callEnded(call);
    if (this.queue.length > this.queueHead && !this.closed) this.startQueued();
    if (this.draining && this.calls.size === 0 && !this.closed) this.close("drained");
  }

  /** No new calls; closes once the open ones have ended (the address left the channel). */
  drain(why: string): void {
    if (this.closed) return;
    this.draining = true;
    this.failQueued(new RpcError(Status.UNAVAILABLE, `connection to ${this.address} is draining (${why}): call not sent, safe to retry`));
    if (this.calls.size === 0) this.close(why);
  }

  /** Closes now: open calls fail with UNAVAILABLE. */
  close(why: string): void {
    if (this.closed) return;
    this.core.sendGoAway(0, GoAwayReason.NO_ERROR, why);
    this.shut(new RpcError(Status.UNAVAILABLE, `connection closed: ${why}`));
  }

  private startQueued(): void {
    while (this.queueHead < this.queue.length && this.calls.size < this.peer.maxConcurrentCalls && !this.out.overHighWater && this.usable) {
      const [call, request] = this.queue[this.queueHead]!;
      this.queue[this.queueHead++] = undefined as never;
      this.start(call, request);
    }
    if (this.queueHead === this.queue.length) {
      this.queue.length = 0;
      this.queueHead = 0;
    } else if (!this.usable) this.failQueued(new RpcError(Status.UNAVAILABLE, "connection is draining: call not sent, safe to retry"));
  }

  /** Queued calls were never sent: each is refused (sent elsewhere, or failed as safe to retry). */
  private failQueued(err: RpcError): void {
    const queued = this.queue.slice(this.queueHead);
    this.queue.length = 0;
    this.queueHead = 0;
    for (const [call] of queued) call.refuse(err);
  }

  /** ConnectionSide: the client's call frames. */
  callFrame(type: number, id: number, count: number): void {
    switch (type) {
      case FrameType.RESPONSE:
        return this.calls.get(id)?.response(this.core.reader);
      case FrameType.MESSAGE: {
        const flags = this.core.reader.int();
        const call = this.calls.get(id);
        if (call === undefined) return;
        let body = this.core.reader;
        if ((flags & COMPRESSION_MASK) !== 0) {
          try {
            body = this.core.inflater.open(body, flags);
          } catch (e) {
            // Like a response that does not decode: the call fails here and the server is told (CANCEL).
            return call.cancel(e as RpcError);
          }
        }
        if (!call.message(body)) throw new ConnectionError(GoAwayReason.FLOW_CONTROL_ERROR, `MESSAGE on call ${id} beyond the granted credit`);
        return;
      }
      case FrameType.HEADERS: {
        const md = readMetadata(this.core.reader, Number.MAX_SAFE_INTEGER) ?? {};
        const onHeaders = this.calls.get(id)?.headersHandler;
        if (onHeaders !== undefined) runCallback(onHeaders, md);
        return;
      }
      case FrameType.STATUS:
        return this.status(id, count);
      default:
        throw this.core.unexpected(type);
    }
  }

  helloReceived(): void {
    const cb = this.onHello;
    this.onHello = null;
    cb?.(null);
  }

  openCall(id: number): ClientCallState | undefined {
    return this.calls.get(id);
  }

  private status(id: number, count: number): void {
    if (count < 4) throw new ConnectionError(GoAwayReason.MALFORMED_FRAME, `STATUS has ${count} elements, needs at least 4`);
    const r = this.core.reader;
    const code = r.int();
    const message = r.str();
    const trailers = count > 4 ? readMetadata(r, Number.MAX_SAFE_INTEGER) : undefined;
    const errorCode = count > 5 ? readOptionalStr(r) : undefined;
    this.calls.get(id)?.status(code, message, trailers, errorCode, count > 6 ? r : null);
  }

  /** ConnectionSide: a client answers every PING (PROTOCOL.md section 10, rule 17). */
  pingReceived(): boolean {
    return true;
  }

  /** ConnectionSide: the server sent GOAWAY (possibly instead of its HELLO). */
  peerGoAway(count: number): void {
    const r = this.core.reader;
    const lastId = count > 2 ? r.int() : 0;
    const reason = count > 3 ? r.int() : GoAwayReason.PROTOCOL_ERROR;
    const message = count > 4 ? r.str() : "";
    this.draining = true;
    const why = `server sent GOAWAY ${goAwayReasonName(reason)}${message ? `: ${peerText(message)}` : ""}`;
    this.owner.connectionEnded(this);
    if (!this.core.helloSeen) {
      const cb = this.onHello;
      this.onHello = null;
      cb?.(new RpcError(Status.UNAVAILABLE, why));
    }
    // Calls above lastId never ran, whatever the reason (PROTOCOL.md section 10, rule 4): they may go elsewhere.
    for (const call of this.calls.values()) if (call.id > lastId) call.refuse(new RpcError(Status.UNAVAILABLE, `${why} (call not processed; safe to retry)`));
    if (reason !== GoAwayReason.NO_ERROR) return this.lost(why);
    this.failQueued(new RpcError(Status.UNAVAILABLE, `${why} (call not sent; safe to retry)`));
    if (this.calls.size === 0) this.close("server went away");
  }

  connectionError(reason: GoAwayReasonCode, message: string): void {
    if (this.closed) return;
    this.core.sendGoAway(0, reason, message);
    this.lost(`protocol error ${goAwayReasonName(reason)}: ${message}`);
  }

  /** The connection is gone: every open call fails now with UNAVAILABLE, saying it may have run. */
  lost(why: string): void {
    if (this.closed) return;
    // Only a call in flight may have run; before any call (during the HELLO) the reason alone is the error.
    const where = why.includes(this.address) ? "" : `${this.address}; `;
    const err = new RpcError(Status.UNAVAILABLE, this.calls.size > 0 ? `connection lost: ${why} (${where}a call in flight may have run)` : `connection lost: ${why}`);
    const cb = this.onHello;
    this.onHello = null;
    cb?.(err);
    this.shut(err);
  }

  /** No more frames either way: every open and queued call fails with `err`, then the socket closes once flushed. */
  private shut(err: RpcError): void {
    this.closed = true;
    this.draining = true;
    this.core.stop();
    this.keepalive.stop();
    const calls = this.calls.values();
    this.calls.clear();
    for (const call of calls) call.fail(err);
    this.failQueued(err);
    this.owner.connectionEnded(this);
    void this.out.drain().finally(() => {
      this.out.abandon();
      return this.conn.close();
    });
  }
}
