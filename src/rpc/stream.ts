/**
 * Per-stream flow control (docs/PROTOCOL.md section 4). InboundStream is the
 * receiving side of one stream direction: an AsyncIterable that buffers at
 * most the window it granted and grants credit back (WINDOW frames) as its
 * consumer pulls. OutboundCredit is the sending side: the producer waits on
 * it when the peer's credit runs out. Knows nothing about frames or sockets.
 */
import { RpcError, Status } from "./status.ts";

export class InboundStream<T> implements AsyncIterableIterator<T> {
  private readonly queue: T[];
  private head: number;
  private outstanding: number;
  private consumed: number;
  private ended: boolean;
  private error: Error | null;
  private waiter: { resolve: (r: IteratorResult<T>) => void; reject: (e: Error) => void } | null;
  private returned: boolean;

  constructor(
    private readonly window: number,
    /** Sends WINDOW(n) to the producer. */
    private readonly grant: (n: number) => void,
    /** The consumer stopped early (break/return): cancel the stream. */
    private readonly onReturn: () => void,
    /** A message queued by push() was handed to the consumer (for memory accounting). */
    private readonly onDequeue: (() => void) | null = null,
  ) {
    this.queue = [];
    this.head = 0;
    this.outstanding = window;
    this.consumed = 0;
    this.ended = false;
    this.error = null;
    this.waiter = null;
    this.returned = false;
  }

  /** Messages buffered and not yet consumed. */
  get buffered(): number {
    return this.queue.length - this.head;
  }

  /** Delivers one message; false when the producer exceeded its credit (flow-control violation). */
  push(msg: T): boolean {
    if (this.ended) return true;
    if (this.outstanding <= 0) return false;
    this.outstanding--;
    const w = this.waiter;
    if (w !== null) {
      this.waiter = null;
      this.took();
      w.resolve({ value: msg, done: false });
    } else this.queue.push(msg);
    return true;
  }

  /** Ends the stream: cleanly (null) or with an error the consumer will see after buffered messages. */
  end(error: Error | null): void {
    if (this.ended) return;
    this.ended = true;
    this.error = error;
    const w = this.waiter;
    if (w === null) return;
    this.waiter = null;
    if (error !== null) w.reject(error);
    else w.resolve({ value: undefined, done: true });
  }

  get isEnded(): boolean {
    return this.ended;
  }

  next(): Promise<IteratorResult<T>> {
    if (this.head < this.queue.length) {
      const v = this.queue[this.head]!;
      this.queue[this.head] = undefined as T;
      this.head++;
      if (this.head === this.queue.length) {
        this.queue.length = 0;
        this.head = 0;
      }
      if (this.onDequeue !== null) this.onDequeue();
      this.took();
      return Promise.resolve({ value: v, done: false });
    }
    if (this.ended) {
      if (this.error !== null) {
        const e = this.error;
        this.error = null;
        return Promise.reject(e);
      }
      return Promise.resolve({ value: undefined, done: true });
    }
    if (this.waiter !== null) return Promise.reject(new RpcError(Status.FAILED_PRECONDITION, "stream read concurrently: await each next() before the next one"));
    return new Promise((resolve, reject) => {
      this.waiter = { resolve, reject };
    });
  }

  return(): Promise<IteratorResult<T>> {
    if (!this.returned && !this.ended) {
      this.returned = true;
      this.end(null);
      this.queue.length = 0;
      this.head = 0;
      this.onReturn();
    }
    return Promise.resolve({ value: undefined, done: true });
  }

  [Symbol.asyncIterator](): AsyncIterableIterator<T> {
    return this;
  }

  private took(): void {
    if (this.ended) return;
    this.consumed++;
    if (this.consumed >= this.window / 2 || this.consumed >= this.window) {
      const n = this.consumed;
      this.consumed = 0;
      this.outstanding += n;
      this.grant(n);
    }
  }
}

export class OutboundCredit {
  credit: number;
  private waiter: (() => void) | null;
  private closed: boolean;

  constructor(initial: number) {
    this.credit = initial;
    this.waiter = null;
    this.closed = false;
  }

  add(n: number): void {
    this.credit += n;
    this.wake();
  }

  /** Wakes a waiting producer for good (the stream ended or was cancelled). */
  close(): void {
    this.closed = true;
    this.wake();
  }

  /** True when a MESSAGE may be sent now (credit left) or the stream closed. */
  get ready(): boolean {
    return this.credit > 0 || this.closed;
  }

  /** Resolves when credit is positive or the stream closed; null when no wait is needed. */
  wait(): Promise<void> | null {
    if (this.credit > 0 || this.closed) return null;
    return new Promise((resolve) => {
      this.waiter = resolve;
    });
  }

  private wake(): void {
    const w = this.waiter;
    if (w !== null) {
      this.waiter = null;
      w();
    }
  }
}

/** The connection output a stream producer waits on (FrameOutput). */
export interface DrainSource {
  /** True when the output backlog is under its high-water mark (or can no longer drain). */
  readonly drained: boolean;
  waitDrain(): Promise<void> | null;
}

/**
 * Null when a stream may send its next MESSAGE now; otherwise a promise that
 * resolves once the peer granted credit and the connection's output drained
 * below its high-water mark, or the call ended (check `call.done` after).
 * Shared by client request streams and server response streams.
 */
export function roomToSend(credit: OutboundCredit, out: DrainSource, call: { readonly done: boolean }): Promise<void> | null {
  return credit.ready && (out.drained || call.done) ? null : waitForRoom(credit, out, call);
}

async function waitForRoom(credit: OutboundCredit, out: DrainSource, call: { readonly done: boolean }): Promise<void> {
  let wait = credit.wait();
  while (wait !== null) {
    await wait;
    wait = credit.wait();
  }
  let drain = out.waitDrain();
  while (drain !== null && !call.done) {
    await drain;
    drain = out.waitDrain();
  }
}
