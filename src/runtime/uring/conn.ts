/**
 * UringConn: the Conn of the io_uring driver, one connected TCP socket.
 * Holds the connection's own state (streaming, paused, closing) and maps
 * each API call onto UringCore; owns no slots or buffers itself. close()
 * cancels the fd's in-flight ops and closes the fd once the last of them
 * has completed, so no op outlives its fd number.
 */
import { Errno, type IoError } from "../errors.ts";
import type { BufResult, Conn, ConnSink, OpOptions, SendDone, SocketAddress } from "../types.ts";
import type { UringCore } from "./core.ts";
import { bufResult } from "./ops/buf-result.ts";
import { pushClose } from "./ops/close.ts";
import { startIo, startSend } from "./ops/io.ts";
import type { CoreConn } from "./ops/op-core.ts";
import { startStream } from "./ops/stream.ts";
import { SlotKind } from "./slots.ts";

const PEER_CAP = 64;

export class UringConn implements Conn, CoreConn {
  /** Read bytes are left in the kernel until a read or the stream takes them: nothing is queued here. */
  readonly queuedBytes = 0;
  readonly id: number;
  fd: number;
  closed = false;
  inflight = 0;
  closeWhenIdle = false;
  streamSlot = -1;
  paused = false;
  private readonly core: UringCore;
  private sink: ConnSink | null = null;
  private streamEnded = false;
  private closing: Promise<void> | null = null;
  private closeDone: (() => void) | null = null;
  private peer: SocketAddress | null | undefined = undefined;

  constructor(core: UringCore, fd: number, id: number) {
    this.core = core;
    this.fd = fd;
    this.id = id;
  }

  get remote(): SocketAddress | null {
    if (this.peer === undefined) {
      if (this.closed) return null;
      const out = Buffer.alloc(PEER_CAP);
      const port = this.core.lib.rr_socket_peer(this.fd, out, PEER_CAP);
      this.peer = port < 0 ? null : { address: out.toString("utf8", 0, Math.max(0, out.indexOf(0))), port };
    }
    return this.peer;
  }

  read<B extends Uint8Array>(buf: B, opts?: OpOptions): Promise<BufResult<B>> {
    if (this.sink !== null) {
      return Promise.resolve(bufResult(-Errno.EINVAL, buf, "recv", "read() while stream() is active"));
    }
    return startIo(this.core, SlotKind.READ, this, buf, opts?.signal);
  }

  write<B extends Uint8Array>(buf: B, opts?: OpOptions): Promise<BufResult<B>> {
    return startIo(this.core, SlotKind.WRITE, this, buf, opts?.signal);
  }

  writeAll<B extends Uint8Array>(buf: B, opts?: OpOptions): Promise<BufResult<B>> {
    if (buf.byteLength === 0 && !this.closed) return Promise.resolve(bufResult(0, buf, "send"));
    return startIo(this.core, SlotKind.WRITE_ALL, this, buf, opts?.signal);
  }

  send(buf: Uint8Array, done: SendDone): void {
    if (buf.byteLength === 0 && !this.closed) return done(0, null);
    startSend(this.core, this, buf, done);
  }

  stream(sink: ConnSink): void {
    if (this.sink !== null) throw new Error(`conn ${this.id}: stream() was already called`);
    this.sink = sink;
    if (this.closed) {
      this.endStream(null);
      return;
    }
    startStream(this.core, this);
  }

  pause(): void {
    if (this.sink === null || this.paused || this.streamEnded) return;
    this.paused = true;
    if (this.streamSlot >= 0) this.core.cancelInKernel(this.streamSlot);
  }

  resume(): void {
    if (!this.paused) return;
    this.paused = false;
    // While the cancel of the old arm is in flight its last CQE re-arms it.
    if (this.streamSlot < 0 && !this.streamEnded && !this.closed) startStream(this.core, this);
  }

  setNoDelay(on: boolean): void {
    if (!this.closed) this.core.lib.rr_socket_nodelay(this.fd, on ? 1 : 0);
  }

  close(): Promise<void> {
    if (this.closing !== null) return this.closing;
    this.closed = true;
    this.closing = new Promise<void>((resolve) => {
      this.closeDone = resolve;
    });
    if (this.inflight > 0) {
      this.closeWhenIdle = true;
      this.core.cancelOpsOf(this);
    } else {
      pushClose(this.core, this);
    }
    if (this.sink !== null && this.streamSlot < 0) this.endStream(null);
    return this.closing;
  }

  streamData(region: Uint8Array, start: number, end: number): void {
    if (this.streamEnded) return;
    const sink = this.sink!;
    try {
      if (sink.dataIn !== undefined) sink.dataIn(region, start, end);
      else sink.data(region.subarray(start, end));
    } catch (e) {
      this.core.reportError(e);
    }
  }

  endStream(error: IoError | null): void {
    if (this.streamEnded || this.sink === null) return;
    this.streamEnded = true;
    try {
      this.sink.end(error);
    } catch (e) {
      this.core.reportError(e);
    }
  }

  onClosed(_res: number): void {
    // A failing close(2) still releases the fd number; nothing to retry.
    this.fd = -1;
    this.core.conns.delete(this);
    const done = this.closeDone;
    this.closeDone = null;
    done?.();
  }
}

