/**
 * RequestQueue: a request stream the test writes to while the call runs
 * (push, then end to half-close), for the cases whose client sends a
 * message only after it has seen a response (ping_pong) or never sends one
 * (cancel_after_begin). One consumer: the channel's writer.
 */
export class RequestQueue<T> implements AsyncIterable<T> {
  private readonly items: T[] = [];
  private ended = false;
  private wake: (() => void) | null = null;

  push(item: T): void {
    if (this.ended) throw new Error("RequestQueue: push after end");
    this.items.push(item);
    this.notify();
  }

  /** Half-closes: the stream ends once the pushed items are taken. */
  end(): void {
    this.ended = true;
    this.notify();
  }

  async *[Symbol.asyncIterator](): AsyncGenerator<T> {
    for (;;) {
      const item = this.items.shift();
      if (item !== undefined) yield item;
      else if (this.ended) return;
      else await new Promise<void>((r) => (this.wake = r));
    }
  }

  private notify(): void {
    const w = this.wake;
    this.wake = null;
    w?.();
  }
}
