/**
 * The contract between the io_uring engine (core.ts) and its op kinds (one
 * file each in this folder): OpCore is what an op may use of the engine,
 * OpKind is what every op kind implements, and CoreConn/CoreListener/
 * Closable are the owners an op acts for. Types only: the ops depend on this
 * file, the engine implements it, and neither imports the other's module.
 */
import type { AcceptBackoff } from "../../accept-backoff.ts";
import type { IoError } from "../../errors.ts";
import type { NativeSymbols } from "../../native.ts";
import type { ArenaBufferPool } from "../buffer-pool.ts";
import type { Ring } from "../ring.ts";
import type { SlotTable } from "../slots.ts";

/** A connection as the ops see it (implemented by UringConn). */
export interface CoreConn {
  readonly fd: number;
  readonly closed: boolean;
  inflight: number;
  closeWhenIdle: boolean;
  streamSlot: number;
  readonly paused: boolean;
  /** Bytes bufsView[start..end) arrived on the stream (valid only during the call). */
  streamData(region: Uint8Array, start: number, end: number): void;
  endStream(error: IoError | null): void;
  onClosed(res: number): void;
  close(): Promise<void>;
}

/** A listener as the ops see it (implemented by UringListener). */
export interface CoreListener {
  readonly fd: number;
  readonly closed: boolean;
  acceptSlot: number;
  /** Pauses accepting while file descriptors are short (EMFILE/ENFILE). */
  readonly backoff: AcceptBackoff;
  /** The timer that re-arms the accept after such a pause, or null. */
  acceptRetry: ReturnType<typeof setTimeout> | null;
  deliver(fd: number): void;
  fail(error: IoError): void;
  onClosed(res: number): void;
  close(): Promise<void>;
}

/** Anything whose fd a CLOSE op closes. */
export interface Closable {
  readonly fd: number;
  onClosed(res: number): void;
}

/** What an op may use of the engine. */
export interface OpCore {
  readonly lib: NativeSymbols;
  readonly ring: Ring;
  readonly slots: SlotTable;
  readonly pool: ArenaBufferPool;
  /** The provided buffers the kernel has, viewed once per growth, and the size of one buffer. */
  readonly bufsView: Uint8Array;
  /** A streaming read found no provided buffer (counts it, hands the kernel more if it may). */
  buffersExhausted(): void;
  readonly bufSize: number;
  readonly closing: boolean;
  /** Streaming reads that ended an arm with ENOBUFS (every provided buffer in use). */
  recvNoBuffers: number;
  /** An op of conn finished; closes it when it was waiting for that. */
  opDone(conn: CoreConn): void;
  /** Queues an async cancel of slot s (once); its completion still arrives. */
  cancelInKernel(s: number): void;
  /** Aborting signal gives up slot s. */
  watchSignal(s: number, signal: AbortSignal): void;
  /** The caller of slot s gave up: cancel in the kernel, then the kind's own giveUp. */
  giveUp(s: number): void;
}

/**
 * One kind of op. Each kind's file also exports the function(s) that start
 * it (their arguments differ by kind); the engine knows only these three.
 */
export interface OpKind {
  /** A completion (CQE) of slot s arrived; the op frees the slot when it is done with it. */
  /** bufOff: where a provided buffer's chunk starts in it (EVT_BUF_OFF), for ops that read into them. */
  complete(core: OpCore, s: number, res: number, flags: number, bufOff: number): void;
  /** The caller gave up while the op is in flight (the kernel cancel is already queued). */
  giveUp(core: OpCore, s: number): void;
  /** The runtime is closing and the kernel never completed the op: answer the caller; the engine frees the slot. */
  abandon(core: OpCore, s: number): void;
}
