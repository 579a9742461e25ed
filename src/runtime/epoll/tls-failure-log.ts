/**
 * TlsFailureLog: the server's lines about TLS handshakes it refused or saw
 * fail, at most one per interval per listener, so a scan or a
 * misconfigured fleet of clients cannot flood the log: the first failure
 * is printed at once with its reason and what to do; later ones within the
 * interval are counted and summed up in the next line (with the last
 * reason). Owns only the wording and the pacing.
 */

/** At most one line per this many ms per listener. */
export const TLS_LOG_INTERVAL_MS = 10_000;

export class TlsFailureLog {
  private lastLineAt = Number.NEGATIVE_INFINITY;
  private held = 0;
  private lastHeld = "";
  private timer: ReturnType<typeof setTimeout> | null = null;

  constructor(
    private readonly where: string,
    private readonly print: (line: string) => void = (line) => console.error(line),
    private readonly intervalMs = TLS_LOG_INTERVAL_MS,
  ) {}

  /** One failed handshake; `what` is the TlsError's message. */
  failed(what: string): void {
    const now = Date.now();
    if (now - this.lastLineAt >= this.intervalMs && this.held === 0) {
      this.lastLineAt = now;
      this.print(`ringrpc epoll: TLS on ${this.where}: ${what}`);
      return;
    }
    this.held++;
    this.lastHeld = what;
    if (this.timer === null) {
      this.timer = setTimeout(this.flush, Math.max(0, this.lastLineAt + this.intervalMs - now));
      this.timer.unref?.();
    }
  }

  private readonly flush = (): void => {
    this.timer = null;
    if (this.held === 0) return;
    this.lastLineAt = Date.now();
    this.print(`ringrpc epoll: TLS on ${this.where}: ${this.held} more handshake${this.held === 1 ? "" : "s"} failed in the last ${this.intervalMs / 1000} s; the last: ${this.lastHeld}`);
    this.held = 0;
  };

  close(): void {
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
    this.flush();
  }
}
