/**
 * FrameOutput: a connection's outgoing byte stream. Frames are encoded into
 * one MsgWriter per connection; the batch is flushed once per runtime turn
 * (rt.defer) by copying it into a buffer from rt.buffers (arena-backed on
 * uring: the one copy) and handing that to conn.send. At most one write
 * is in flight; frames queued meanwhile form the next batch. Tracks a
 * high-water mark so the owner can stop reading from a peer that does not
 * read, and stream producers can wait for the backlog to drain.
 */
import { MsgWriter } from "../codec/writer.ts";
import type { Conn, Runtime } from "../runtime/types.ts";

/** Largest single write handed to the driver. */
const MAX_WRITE_BYTES = 256 * 1024;
/** Writer size kept between batches; one that grew past this (a huge message) is replaced once drained. */
const KEEP_WRITER_BYTES = 1024 * 1024;
/** A connection starts with a small writer (an idle connection costs little); it grows to its batches once and keeps that size. */
const INITIAL_WRITER_BYTES = 2 * 1024;

export class FrameOutput {
  /** Where frames are encoded. Read it afresh for each batch of writes: it is replaced after a huge batch drains. */
  w: MsgWriter;
  /** Writes handed to the driver so far: a change tells that output moved (the server's idle rule). */
  writes: number;
  /** Bytes of the writer already handed to the driver. */
  private sentOff: number;
  /** Bytes handed to the driver so far (a connection's bytes out). */
  bytesWritten: number;
  private scheduled: boolean;
  private inFlight: boolean;
  private inFlightBytes: number;
  private failed: boolean;
  /** Backlog is above the high-water mark (cleared below half of it). */
  private over: boolean;
  private drainWaiters: (() => void)[];
  private readonly flushFn: () => void;
  /** The buffer of the write in flight (handed back to the pool when it completes). */
  private inFlightBuf: Uint8Array | null;
  private readonly onWriteDone: (res: number, error: Error | null) => void;

  constructor(
    private readonly rt: Runtime,
    private readonly conn: Conn,
    private readonly highWaterBytes: number,
    /** Called when the backlog crosses the high-water mark (true) or drains below half of it (false). */
    private readonly onPressure: (over: boolean) => void,
    /** Called once when a write fails (the connection is then unusable). */
    private readonly onWriteError: (e: Error) => void,
    /** Called after each write completes (the backlog shrank), e.g. to update a memory budget. */
    private readonly onWritten: (() => void) | null = null,
  ) {
    this.w = new MsgWriter(INITIAL_WRITER_BYTES);
    this.writes = 0;
    this.sentOff = 0;
    this.bytesWritten = 0;
    this.scheduled = false;
    this.inFlight = false;
    this.inFlightBytes = 0;
    this.failed = false;
    this.drainWaiters = [];
    this.flushFn = () => this.flush();
    this.over = false;
    this.inFlightBuf = null;
    this.onWriteDone = (_res, error) => this.written(error);
  }

  /** Bytes queued but not yet written by the kernel. */
  get backlog(): number {
    return this.w.pos - this.sentOff + this.inFlightBytes;
  }

  get overHighWater(): boolean {
    return this.over;
  }

  /** Call after writing frames into `w`: schedules one flush for this turn. */
  commit(): void {
    if (!this.over && this.backlog > this.highWaterBytes) {
      this.over = true;
      this.onPressure(true);
    }
    if (this.scheduled || this.inFlight || this.failed) return;
    this.scheduled = true;
    this.rt.defer(this.flushFn);
  }

  /** True when the backlog is below the high-water mark (or the output can no longer drain). */
  get drained(): boolean {
    return !this.over || this.failed || this.conn.closed;
  }

  /** Resolves when the backlog is below the high-water mark (immediately if it is). */
  waitDrain(): Promise<void> | null {
    if (this.drained) return null;
    return new Promise((resolve) => this.drainWaiters.push(resolve));
  }

  /**
   * Flushes what is queued now (used before closing). Resolves when everything
   * queued is written, a write failed, or timeoutMs passed (a peer that does
   * not read must not hold a close forever).
   */
  async drain(timeoutMs = 1000): Promise<void> {
    if (this.failed) return;
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      this.wake();
    }, timeoutMs);
    try {
      if (!this.inFlight) this.flush();
      while (this.inFlight && !this.failed && !timedOut) {
        await new Promise<void>((resolve) => this.drainWaiters.push(resolve));
        if (!this.inFlight && this.w.pos > this.sentOff) this.flush();
      }
    } finally {
      clearTimeout(timer);
    }
  }

  /** The connection is gone: nothing more is written and every waiter is released. */
  abandon(): void {
    this.failed = true;
    this.wake();
  }

  private flush(): void {
    this.scheduled = false;
    if (this.inFlight || this.failed || this.conn.closed) return;
    const w = this.w;
    const n = Math.min(w.pos - this.sentOff, MAX_WRITE_BYTES);
    if (n <= 0) return;
    let buf: Uint8Array;
    try {
      buf = this.rt.buffers.acquire(n);
    } catch {
      // The driver's buffer arena is exhausted (ENOBUFS): keep the batch and try again shortly.
      this.scheduled = true;
      setTimeout(this.flushFn, 1);
      return;
    }
    buf.set(w.buf.subarray(this.sentOff, this.sentOff + n));
    this.sentOff += n;
    this.bytesWritten += n;
    if (this.sentOff === w.pos) {
      if (w.buf.length > KEEP_WRITER_BYTES) this.w = new MsgWriter(INITIAL_WRITER_BYTES);
      else w.reset();
      this.sentOff = 0;
    }
    this.inFlight = true;
    this.writes++;
    this.inFlightBytes = n;
    this.inFlightBuf = buf;
    // The answer may come before send returns (epoll, a socket that took it all): all state is set by now.
    this.conn.send(buf, this.onWriteDone);
  }

  private written(error: Error | null): void {
    this.rt.buffers.release(this.inFlightBuf!);
    this.inFlightBuf = null;
    this.inFlight = false;
    this.inFlightBytes = 0;
    if (error !== null) {
      this.failed = true;
      this.wake();
      this.onWriteError(error);
      return;
    }
    if (this.w.pos > this.sentOff) this.flush();
    if (this.over && this.backlog <= this.highWaterBytes / 2) {
      this.over = false;
      this.onPressure(false);
    }
    if (!this.over || !this.inFlight) this.wake();
    if (this.onWritten !== null) this.onWritten();
  }

  private wake(): void {
    if (this.drainWaiters.length === 0) return;
    const waiters = this.drainWaiters;
    this.drainWaiters = [];
    for (const fn of waiters) fn();
  }
}
