/**
 * FrameDeadline: a frame must be complete within `ms` of its first byte,
 * however its bytes trickle in (a slowloris inside a frame). It costs
 * nothing while reads end on frame boundaries: the connection core calls
 * `partial` only after a read that left part of a frame buffered, passing
 * the time it already took for that read, and at most one timer per
 * connection is armed at a time. Time during which this side does not read
 * (its output is over the high-water mark, the memory budget paused it) is
 * not the peer's: the frame's clock starts again once reading resumes. Owns
 * that timer and the decision, not the decoder or the socket.
 */
import type { FrameDecoder } from "./frame-decoder.ts";

export class FrameDeadline {
  /** The decoder's framesBegun when the pending frame began. */
  private begun: number;
  /** Date.now() at the read that brought the pending frame's first byte. */
  private since: number;
  private timer: ReturnType<typeof setTimeout> | null;
  private stopped: boolean;
  /** This side stopped reading (or holds delivery): the peer cannot finish its frame. */
  private paused: boolean;
  private readonly checkFn: () => void;

  constructor(
    private readonly ms: number,
    private readonly decoder: FrameDecoder,
    /** The pending frame is late: end the connection with this message. */
    private readonly expired: (message: string) => void,
  ) {
    this.begun = -1;
    this.since = 0;
    this.timer = null;
    this.stopped = false;
    this.paused = false;
    this.checkFn = () => this.check();
  }

  /** After a read (at `now`) that left part of a frame buffered. */
  partial(now: number): void {
    const begun = this.decoder.framesBegun;
    if (begun !== this.begun) {
      this.begun = begun;
      this.since = now;
    }
    if (this.timer === null && !this.stopped) this.timer = setTimeout(this.checkFn, Math.max(1, this.since + this.ms - now));
  }

  /** This side stops (true) or resumes (false) reading; a resume gives the pending frame a full deadline again. */
  setPaused(on: boolean): void {
    if (this.paused && !on) this.since = Date.now();
    this.paused = on;
  }

  stop(): void {
    this.stopped = true;
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
  }

  private check(): void {
    this.timer = null;
    const d = this.decoder;
    const held = d.partialBytes;
    // The frame completed (and no other is pending) or the connection ended.
    if (held === 0 || this.stopped) return;
    const age = Date.now() - this.since;
    if (d.isHeld || this.paused) {
      // This side is not reading (or holds delivery while its output
      // drains): not the peer's delay, so the frame's clock starts again.
      this.since = Date.now();
      this.timer = setTimeout(this.checkFn, this.ms);
      return;
    }
    if (age < this.ms) {
      // A later frame is pending: wait for its own deadline.
      this.timer = setTimeout(this.checkFn, this.ms - age);
      return;
    }
    this.expired(`frame_timeout: a frame was still incomplete ${age} ms after its first byte (${held} bytes received; the server's frameTimeoutMs is ${this.ms})`);
  }
}
