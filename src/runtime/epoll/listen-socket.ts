/**
 * EpollListenSocket: the Bun listening socket behind an EpollListener, kept
 * from spinning when file descriptors run out. Bun accepts on its own and
 * hides accept's errors; while no descriptor is free, a listening socket
 * with connections in its backlog stays readable, so Bun's loop retries
 * accept without ever sleeping (100% of a core until descriptors free up).
 * So after each batch of accepts, and once a second while listening, this
 * asks fdShortage(); on EMFILE/ENFILE it closes the listening socket, waits
 * the AcceptBackoff's delay and listens again on the same port once a
 * descriptor is free. Connections still in the closed socket's backlog are
 * reset (their clients see ECONNRESET and may retry; with SO_REUSEPORT the
 * kernel sends new ones to the other listeners on the port meanwhile).
 * Owns only that socket's life: the accepted connections belong to the
 * EpollListener.
 */
import type { TCPSocketListener } from "bun";
import type { AcceptBackoff } from "../accept-backoff.ts";
import { isFdShortage } from "../accept-backoff.ts";
import { listenErrorFromBun } from "./bun-error.ts";
import type { EpollConn } from "./conn.ts";
import { fdShortage } from "./fd-probe.ts";

type BunListener = TCPSocketListener<EpollConn | undefined>;

/** How often a listening socket checks for a full descriptor table when no accept made it check. */
const FD_WATCH_MS = 1000;

export class EpollListenSocket {
  private bun: BunListener | null;
  private probeQueued = false;
  private retryTimer: ReturnType<typeof setTimeout> | null = null;
  private watchTimer: ReturnType<typeof setInterval> | null = null;
  private closed = false;
  private relistenErrorLogged = false;

  constructor(
    first: BunListener,
    /** Listens again on the same address and port, with the same handlers. */
    private readonly bind: () => BunListener,
    private readonly backoff: AcceptBackoff,
    private readonly where: string,
  ) {
    this.bun = first;
    this.startWatch();
  }

  /** A connection was accepted: check the descriptor table once this turn's accepts are done. */
  accepted(): void {
    this.backoff.accepted();
    this.queueProbe();
  }

  private queueProbe(): void {
    if (this.probeQueued) return;
    this.probeQueued = true;
    setImmediate(this.probe);
  }

  /** Stops listening for good; connections already accepted stay open. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.backoff.close();
    this.stopWatch();
    if (this.retryTimer !== null) clearTimeout(this.retryTimer);
    this.retryTimer = null;
    this.bun?.stop(false);
    this.bun = null;
  }

  private readonly probe = (): void => {
    this.probeQueued = false;
    if (this.closed || this.bun === null) return;
    const errno = fdShortage();
    if (errno !== 0) this.pause(errno);
  };

  private pause(errno: number): void {
    this.stopWatch();
    this.bun?.stop(false);
    this.bun = null;
    this.retryAfter(this.backoff.failed(errno));
  }

  private retryAfter(ms: number): void {
    this.retryTimer = setTimeout(this.retry, ms);
  }

  private readonly retry = (): void => {
    this.retryTimer = null;
    if (this.closed) return;
    const errno = fdShortage();
    if (errno !== 0) return this.retryAfter(this.backoff.failed(errno));
    try {
      this.bun = this.bind();
    } catch (e) {
      const err = listenErrorFromBun(e, this.where);
      if (!isFdShortage(err.errno) && !this.relistenErrorLogged) {
        this.relistenErrorLogged = true;
        console.error(`ringrpc epoll: cannot listen on ${this.where} again after running out of file descriptors: ${err.message}; still retrying`);
      }
      return this.retryAfter(this.backoff.failed(err.errno));
    }
    this.startWatch();
    // Accepting again may fill the table at once: check after this turn's accepts.
    this.queueProbe();
  };

  private startWatch(): void {
    this.watchTimer = setInterval(this.probe, FD_WATCH_MS);
    this.watchTimer.unref?.();
  }

  private stopWatch(): void {
    if (this.watchTimer !== null) clearInterval(this.watchTimer);
    this.watchTimer = null;
  }
}
