/**
 * Client keepalive: detects a dead peer or a silently dropped connection
 * (a NAT that forgot the flow, a server host that vanished) that TCP alone
 * would only notice after minutes. When nothing has been read for
 * `intervalMs`, it sends a PING; when nothing arrives within `timeoutMs`
 * after that, it declares the connection lost. Any frame read counts as
 * life. Owns only the timers and the decision, not the socket.
 */

export interface KeepaliveOptions {
  /** Idle time before a PING (0 = keepalive off). */
  intervalMs: number;
  /** How long to wait for any frame after the PING. */
  timeoutMs: number;
  /** Also ping while no call is open (default false: an idle connection may be closed by the server's idle timeout). */
  withoutCalls: boolean;
}

export interface KeepaliveHost {
  /** Open calls on the connection. */
  readonly openCalls: number;
  /** Date.now() at the last read from the peer (any frame counts as life). */
  readonly lastRead: number;
  sendPing(opaque: number): void;
  lost(why: string): void;
}

export class Keepalive {
  private pingSentAt: number;
  private opaque: number;
  private timer: ReturnType<typeof setTimeout> | null;

  constructor(private readonly opts: KeepaliveOptions, private readonly host: KeepaliveHost) {
    this.pingSentAt = 0;
    this.opaque = 0;
    this.timer = null;
  }

  start(): void {
    if (this.opts.intervalMs > 0) this.arm(this.opts.intervalMs);
  }

  stop(): void {
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
  }

  private arm(ms: number): void {
    this.timer = setTimeout(() => this.check(), ms);
  }

  private check(): void {
    const now = Date.now();
    if (this.pingSentAt > 0) {
      if (this.host.lastRead >= this.pingSentAt) {
        this.pingSentAt = 0; // answered (or other traffic arrived)
      } else if (now - this.pingSentAt >= this.opts.timeoutMs) {
        this.timer = null;
        this.host.lost(`keepalive: no frame within ${this.opts.timeoutMs} ms of a PING`);
        return;
      } else {
        this.arm(this.opts.timeoutMs - (now - this.pingSentAt));
        return;
      }
    }
    const idle = now - this.host.lastRead;
    if (idle < this.opts.intervalMs || (this.host.openCalls === 0 && !this.opts.withoutCalls)) {
      this.arm(Math.max(1, this.opts.intervalMs - idle));
      return;
    }
    this.opaque = (this.opaque + 1) % 0x7fffffff;
    this.pingSentAt = now;
    this.host.sendPing(this.opaque);
    this.arm(this.opts.timeoutMs);
  }
}
