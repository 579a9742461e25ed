/**
 * ConnectionCore: what a client and a server connection share
 * (docs/PROTOCOL.md sections 3 and 7). It owns the FrameDecoder and the frame
 * head, the HELLO preface (the handshake timer, the peer's limits and
 * what its extensions announce: compression, several metadata values), the
 * connection frames (PING/PONG answered here once the side allows it, WINDOW
 * credit, GOAWAY handed to the side), the mapping of a bad frame to a
 * connection error, the time of the last read, and (when given one) the
 * deadline for finishing a frame (frame-deadline.ts). It never looks inside
 * a call frame: REQUEST, RESPONSE, MESSAGE, HEADERS, STATUS, HALF_CLOSE and
 * CANCEL go to the side's `callFrame`, with the reader at the frame's body.
 *
 * Composition, not a base class: each connection owns one core and passes
 * itself as the `ConnectionSide`, so the client's and the server's public
 * surfaces stay their own (no protected members to keep in step), and the
 * hot path is one call from `frame` to a side that, in one process, is
 * always the same class (a monomorphic call site). It must not own
 * teardown policy: what a lost or closed connection does to its calls
 * differs by side.
 */
import { MsgReader } from "../codec/reader.ts";
import type { Conn } from "../runtime/types.ts";
import { type Compression, type MessageCompressor, pickCompressor } from "./compression.ts";
import { FrameDeadline } from "./frame-deadline.ts";
import { type DecodeResult, FrameDecoder } from "./frame-decoder.ts";
import type { PiecePool } from "./piece-pool.ts";
import type { FrameOutput } from "./frame-output.ts";
import { type FrameHead, readFrameHead, skipRest, writeGoAway, writeHello, writePing } from "./frames.ts";
import { readHelloExtensions } from "./hello-extensions.ts";
import { MessageInflater } from "./message-compression.ts";
import { checkHelloLimits, ConnectionError, frameIdProblem, FrameType, GoAwayReason, type GoAwayReasonCode, type PeerLimits, PROTOCOL_VERSION } from "./protocol.ts";
import { OutboundCredit } from "./stream.ts";

/** What the core needs from the connection that owns it. */
export interface ConnectionSide {
  /** A call frame, its head read; the core's reader is at its body, `end` is where the frame ends. */
  callFrame(type: number, id: number, count: number, end: number): void;
  /** The peer's HELLO was valid; `core.peer` holds its limits. */
  helloReceived(): void;
  /** The peer sent GOAWAY with `count` elements; the reader is at its body. */
  peerGoAway(count: number): void;
  /** A PING arrived; false when it broke the side's PING policy (the side then ended the connection: no PONG). */
  pingReceived(): boolean;
  /** The open call with this id (for WINDOW credit), if any. */
  openCall(id: number): { credit: OutboundCredit | null } | undefined;
  /** A protocol violation: send GOAWAY `reason` and end the connection. */
  connectionError(reason: GoAwayReasonCode, message: string): void;
}

export type ConnectionRole = "client" | "server";

/**
 * Bytes read and thrown away after stop() before reading stops too: reading
 * on lets a GOAWAY reach a peer still sending (its bytes would otherwise sit
 * unread and turn the close into a reset), but a peer pushing more than this
 * is not worth the work; its close may reset.
 */
const DISCARD_AFTER_STOP_BYTES = 256 * 1024;

export class ConnectionCore {
  readonly reader: MsgReader;
  /** The peer's limits, from its HELLO (until then, the ones given to the constructor). */
  peer: PeerLimits;
  helloSeen: boolean;
  /** Date.now() at the last chunk read (idle timeout, keepalive). */
  lastRead: number;
  /** Set by stop(): no frame is handled after it. */
  stopped: boolean;
  /** Compresses this side's outgoing messages: set from the peer's HELLO, null when the peer accepts none of this side's algorithms. */
  compressor: MessageCompressor | null;
  /** The peer's HELLO said it reads several values per metadata key (false until its HELLO, and for a peer older than that). */
  peerMultiValuedMetadata: boolean;
  /** The inflater, made at the first compressed message (most connections never see one). */
  private inflaterMade: MessageInflater | null;
  /** Bytes read after stop(), thrown away. */
  private discarded: number;
  private helloTimer: ReturnType<typeof setTimeout> | null;
  private readonly decoder: FrameDecoder;
  private readonly deadline: FrameDeadline | null;
  private readonly head: FrameHead;
  private readonly onFrame: (buf: Uint8Array, start: number, end: number) => void;
  /** Tried first for every frame after the HELLO: true when it handled the frame (the server's plain REQUEST path). */
  shortcut: ((buf: Uint8Array, start: number, end: number) => boolean) | null = null;

  constructor(
    readonly role: ConnectionRole,
    readonly conn: Conn,
    readonly out: FrameOutput,
    private readonly side: ConnectionSide,
    /** This side's limits: what HELLO announces and the decoder enforces. */
    readonly limits: PeerLimits,
    peer: PeerLimits,
    /** A frame must be complete this long after its first byte (0 = no limit). */
    frameTimeoutMs = 0,
    /** Where split frames are assembled (a server's connections share one; null: plain allocations). */
    pieces: PiecePool | null = null,
    /** Per-message compression this side accepts and uses (null: off). */
    private readonly compression: Compression | null = null,
    /** Announce that this side reads several values per metadata key (with compression off and this false: the 7-element HELLO of version 1). */
    private readonly multiValuedMetadata = false,
  ) {
    this.reader = new MsgReader();
    this.peer = peer;
    this.helloSeen = false;
    this.lastRead = Date.now();
    this.stopped = false;
    this.discarded = 0;
    this.compressor = null;
    this.peerMultiValuedMetadata = false;
    this.inflaterMade = null;
    this.helloTimer = null;
    this.decoder = new FrameDecoder(limits.maxFrameBytes, pieces);
    this.deadline = frameTimeoutMs > 0 ? new FrameDeadline(frameTimeoutMs, this.decoder, (m) => this.side.connectionError(GoAwayReason.ENHANCE_YOUR_CALM, m)) : null;
    this.head = { count: 0, type: 0, id: 0 };
    this.onFrame = (buf, start, end) => this.frame(buf, start, end);
  }

  /** Sends this side's HELLO; `timeoutMs` > 0 runs `onTimeout` unless the peer's HELLO comes first. */
  sendHello(timeoutMs = 0, onTimeout?: () => void): void {
    writeHello(this.out.w, this.limits, this.compression, this.multiValuedMetadata);
    this.out.commit();
    if (timeoutMs > 0 && onTimeout !== undefined) this.helloTimer = setTimeout(onTimeout, timeoutMs);
  }

  /** Decompresses the peer's compressed messages (what this side advertised, up to its maxFrameBytes; with compression off it refuses them all). */
  get inflater(): MessageInflater {
    return (this.inflaterMade ??= new MessageInflater(this.compression === null ? 0 : this.compression.accepts, this.limits.maxFrameBytes));
  }

  sendPing(type: number, opaque: number): void {
    writePing(this.out.w, type, opaque);
    this.out.commit();
  }

  sendGoAway(lastId: number, reason: GoAwayReasonCode, message: string): void {
    writeGoAway(this.out.w, lastId, reason, message);
    this.out.commit();
  }

  /** Stops reading frames (the rest of a chunk included) and the handshake timer. */
  stop(): void {
    this.stopped = true;
    this.decoder.stop();
    this.deadline?.stop();
    if (this.helloTimer !== null) clearTimeout(this.helloTimer);
    this.helloTimer = null;
  }

  /** The socket's data sink. */
  data(chunk: Uint8Array): void {
    this.dataIn(chunk, 0, chunk.length);
  }

  /** The socket's data sink, for bytes buf[start..end) of a driver's own view. */
  dataIn(buf: Uint8Array, start: number, end: number): void {
    this.lastRead = Date.now();
    if (this.stopped) {
      this.discarded += end - start;
      if (this.discarded > DISCARD_AFTER_STOP_BYTES) this.conn.pause();
      return;
    }
    this.decoded(this.decoder.push(buf, this.onFrame, start, end));
  }

  /** This side stopped (true) or resumed (false) reading from the peer: the frame deadline does not run meanwhile. */
  readingPaused(on: boolean): void {
    this.deadline?.setPaused(on);
  }

  /** Delivers no frame after the current one until releaseFrames(); bytes read meanwhile are kept (FrameDecoder.hold). */
  holdFrames(): void {
    this.decoder.hold();
  }

  get framesHeld(): boolean {
    return this.decoder.isHeld;
  }

  /** Delivers the frames kept since holdFrames(). */
  releaseFrames(): void {
    if (!this.stopped) this.decoded(this.decoder.release(this.onFrame));
  }

  /** Memory holding bytes read but not yet delivered as frames: a partial frame's buffer, what arrived while held. */
  get bufferedBytes(): number {
    return this.decoder.heldMemory;
  }

  private decoded(res: DecodeResult): void {
    if (res === "ok") {
      // Only a read that ends inside a frame arms the frame deadline.
      if (this.deadline !== null && this.decoder.partialBytes !== 0) this.deadline.partial(this.lastRead);
      return;
    }
    if (res === "stopped") return;
    if (res === "too_large")
      this.side.connectionError(GoAwayReason.FRAME_TOO_LARGE, `frame of ${this.decoder.rejectedLength} bytes is over the limit of ${this.limits.maxFrameBytes}`);
    else this.side.connectionError(GoAwayReason.MALFORMED_FRAME, "frame with length 0");
  }

  /** The error for a frame type this side never receives. */
  unexpected(type: number): ConnectionError {
    if (type < FrameType.HELLO || type > FrameType.GOAWAY) return new ConnectionError(GoAwayReason.UNKNOWN_FRAME_TYPE, `unknown frame type ${type}`);
    return new ConnectionError(GoAwayReason.PROTOCOL_ERROR, `frame type ${type} is ${this.role === "server" ? "server-to-client" : "client-to-server"} only`);
  }

  private frame(buf: Uint8Array, start: number, end: number): void {
    if (this.stopped) return;
    const r = this.reader;
    r.reset(buf, start, end);
    try {
      if (this.shortcut !== null && this.helloSeen && this.shortcut(buf, start, end)) return;
      readFrameHead(r, this.head);
      const { type, id, count } = this.head;
      if (!this.helloSeen) {
        // A server may refuse a client with GOAWAY before (or instead of) its HELLO.
        if (type === FrameType.GOAWAY && this.role === "client") return this.side.peerGoAway(count);
        if (type !== FrameType.HELLO) throw new ConnectionError(GoAwayReason.PROTOCOL_ERROR, `first frame must be HELLO, got type ${type}`);
      }
      const badId = frameIdProblem(type, id);
      if (badId !== null) throw new ConnectionError(GoAwayReason.PROTOCOL_ERROR, badId);
      if (!this.helloSeen) return this.hello(count);
      switch (type) {
        case FrameType.WINDOW: {
          const credit = r.int();
          if (credit <= 0) throw new ConnectionError(GoAwayReason.PROTOCOL_ERROR, `WINDOW with credit ${credit}`);
          const call = this.side.openCall(id);
          if (call !== undefined) (call.credit ??= new OutboundCredit(this.peer.initialWindow)).add(credit);
          return;
        }
        case FrameType.PING: {
          const opaque = r.int();
          if (this.side.pingReceived()) this.sendPing(FrameType.PONG, opaque);
          return;
        }
        case FrameType.PONG:
          return;
        case FrameType.GOAWAY:
          return this.side.peerGoAway(count);
        case FrameType.HELLO:
          throw new ConnectionError(GoAwayReason.PROTOCOL_ERROR, "second HELLO");
        default:
          return this.side.callFrame(type, id, count, end);
      }
    } catch (e) {
      if (e instanceof ConnectionError) this.side.connectionError(e.reason, e.message);
      else this.side.connectionError(GoAwayReason.MALFORMED_FRAME, `malformed frame: ${e instanceof Error ? e.message : String(e)}`);
    }
  }

  private hello(count: number): void {
    if (count < 7) throw new ConnectionError(GoAwayReason.PROTOCOL_ERROR, `HELLO has ${count} elements, needs 7`);
    const r = this.reader;
    const version = r.int();
    if (version !== PROTOCOL_VERSION)
      throw new ConnectionError(
        GoAwayReason.UNSUPPORTED_VERSION,
        this.role === "server"
          ? `protocol version ${version} is not supported; this server speaks ${PROTOCOL_VERSION}`
          : `server speaks protocol version ${version}, this client speaks ${PROTOCOL_VERSION}`,
      );
    // A client's maxConcurrentCalls is informational to a server; its maxMetadataBytes bounds only what handlers set.
    const peer = { maxFrameBytes: r.int(), maxConcurrentCalls: r.int(), initialWindow: r.int(), maxMetadataBytes: r.int() };
    const bad = checkHelloLimits(peer);
    if (bad !== null) throw new ConnectionError(GoAwayReason.PROTOCOL_ERROR, bad);
    this.peer = peer;
    if (count > 7) {
      const ext = readHelloExtensions(r);
      this.compressor = pickCompressor(this.compression, ext.compression);
      this.peerMultiValuedMetadata = ext.multiValuedMetadata;
      skipRest(r, count, 8);
    }
    this.helloSeen = true;
    if (this.helloTimer !== null) clearTimeout(this.helloTimer);
    this.helloTimer = null;
    this.side.helloReceived();
  }
}
