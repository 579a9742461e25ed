/**
 * One resolved address of a channel (`Backend`) and its pooled connections
 * (`PooledConnection`, `connectionsPerEndpoint` of them): connecting with
 * exponential, jittered backoff after a failure, the health watch of each
 * connection when health checking is on (health-watch.ts), the outlier
 * counts of the address (outlier.ts), and draining when the address leaves
 * the resolver's list. A pooled connection is `ready` for a new call when
 * it is connected, not draining (no GOAWAY), its health says SERVING and
 * its address is not ejected. Owns the state of one address; choosing
 * among them is balancer.ts's, the list itself the channel's.
 */
import type { Runtime } from "../runtime/types.ts";
import type { ClientCallState } from "./client-call.ts";
import { ClientConnection, type ClientConnectionConfig, type ClientConnectionOwner } from "./client-connection.ts";
import { checkHealth, HealthWatch } from "./health-watch.ts";
import { type Ejectable, OutlierState } from "./outlier.ts";
import { type Endpoint, formatEndpoint } from "./resolver.ts";
import { RpcError, Status } from "./status.ts";

export interface Backoff {
  initialMs: number;
  maxMs: number;
  jitter: number;
}

/** What an address needs from its channel. */
export interface PoolHost {
  readonly rt: Runtime;
  readonly cfg: ClientConnectionConfig;
  readonly backoff: Backoff;
  /** The service whose health is watched ("" = the whole server), or null when health checking is off. */
  readonly healthService: string | null;
  readonly closed: boolean;
  /** Something changed that may let a waiting call through (or tell it there is no hope). */
  changed(): void;
  /** A connection failed or was lost: the resolver may know better now. */
  connectionFailed(): void;
  /** A call that ran on this address ended. */
  callEnded(b: Backend, call: ClientCallState): void;
}

export class Backend implements Ejectable {
  readonly address: string;
  readonly conns: PooledConnection[];
  readonly outlier: OutlierState;
  /** Left the resolver's list: no new calls, its connections close once idle. */
  removed: boolean;

  constructor(
    readonly endpoint: Endpoint,
    per: number,
    readonly host: PoolHost,
  ) {
    this.address = formatEndpoint(endpoint);
    this.conns = [];
    for (let i = 0; i < per; i++) this.conns.push(new PooledConnection(this));
    this.outlier = new OutlierState();
    this.removed = false;
  }

  /** The address left the resolver's list: calls on it finish, nothing new starts. */
  drain(): void {
    this.removed = true;
    for (const p of this.conns) p.drain();
  }

  close(): void {
    for (const p of this.conns) p.close();
  }

  /**
   * An ejected address is taken back only if this passes: one of its
   * connections is (or gets) connected and, with health checking on, its
   * health check answers SERVING.
   */
  async probe(): Promise<boolean> {
    const p = this.conns[0]!;
    const c = p.conn;
    if (c !== null && c.usable) {
      const service = this.host.healthService;
      return service === null || (await checkHealth(c, service, this.host.cfg.connectTimeoutMs));
    }
    try {
      await p.connect();
      return p.serving;
    } catch {
      return false; // its backoff and error are recorded on the pooled connection
    }
  }

  /** Why the address cannot take calls now, for the message of a call that found no address. */
  state(now: number): string {
    if (this.outlier.ejected) return `ejected after ${this.outlier.consecutive} UNAVAILABLE calls in a row`;
    const p = this.conns.find((c) => c.lastError !== "") ?? this.conns[0]!;
    if (p.conn !== null && !p.serving) return "its health check says NOT_SERVING";
    if (p.conn !== null && !p.conn.usable) return "draining (GOAWAY)";
    if (p.connecting !== null) return "connecting";
    if (p.lastError !== "") return `${p.lastError}${p.retryAt > now ? `; connecting again after a backoff of ${Math.ceil(p.retryAt - now)} ms` : ""}`;
    return "not connected";
  }
}

export class PooledConnection implements ClientConnectionOwner {
  conn: ClientConnection | null;
  connecting: Promise<ClientConnection> | null;
  failures: number;
  retryAt: number;
  lastError: string;
  /** The health watch's last answer (true without health checking). */
  serving: boolean;
  private watch: HealthWatch | null;

  constructor(readonly backend: Backend) {
    this.conn = null;
    this.connecting = null;
    this.failures = 0;
    this.retryAt = 0;
    this.lastError = "";
    this.serving = true;
    this.watch = null;
  }

  /** May take a new call now. */
  get ready(): boolean {
    const c = this.conn;
    return c !== null && c.usable && this.serving && !this.backend.outlier.ejected;
  }

  /** The caller's open and queued calls (the health watch not counted), 0 when not connected. */
  get calls(): number {
    const c = this.conn;
    if (c === null || c.closed) return 0;
    return c.outstanding - (this.watch !== null ? 1 : 0);
  }

  /** Open plus queued calls (what least-outstanding compares; the health watch counts on every connection alike). */
  get outstanding(): number {
    return this.conn!.outstanding;
  }

  /** Starts connecting when it is not connected, not already connecting, past its backoff and its address is in rotation. */
  wake(now: number): void {
    if (this.conn === null && this.connecting === null && this.retryAt <= now && !this.backend.removed && !this.backend.outlier.ejected && !this.backend.host.closed)
      this.connect().catch(() => {
        // The failure is recorded (lastError, retryAt) and reported through changed().
      });
  }

  /** Connects (and, with health checking, waits for the first health answer). */
  connect(): Promise<ClientConnection> {
    if (this.connecting !== null) return this.connecting;
    const b = this.backend;
    const host = b.host;
    const p = ClientConnection.open(host.rt, b.endpoint.host, b.endpoint.port, this, host.cfg)
      .then(async (c) => {
        if (host.closed || b.removed) {
          c.close(host.closed ? "channel closed" : "address removed by the resolver");
          throw new RpcError(Status.UNAVAILABLE, host.closed ? "channel is closed" : `${b.address} left the resolver's list`);
        }
        // A server that is shutting down answers HELLO, then GOAWAY: that connection takes no call.
        if (!c.usable) {
          c.close("server went away");
          throw new RpcError(Status.UNAVAILABLE, `${b.address} went away right after its HELLO (shutting down?)`);
        }
        if (host.healthService !== null) {
          const watch = new HealthWatch(c, host.healthService, (serving) => this.healthChanged(watch, serving));
          this.watch = watch;
          this.serving = await firstAnswer(watch, host.cfg.connectTimeoutMs);
          if (!c.usable) {
            this.stopWatch();
            c.close("server went away");
            throw new RpcError(Status.UNAVAILABLE, `${b.address} went away during its first health check`);
          }
        }
        return c;
      })
      .then(
        (c) => {
          this.connecting = null;
          this.failures = 0;
          this.retryAt = 0;
          this.lastError = "";
          this.conn = c;
          host.changed();
          return c;
        },
        (e: unknown) => {
          this.connecting = null;
          this.failures++;
          const { initialMs, maxMs, jitter } = host.backoff;
          const base = Math.min(maxMs, initialMs * 2 ** (this.failures - 1));
          this.retryAt = Date.now() + base * (1 - jitter + 2 * jitter * Math.random());
          this.lastError = e instanceof Error ? e.message : String(e);
          host.connectionFailed();
          host.changed();
          throw e;
        },
      );
    this.connecting = p;
    return p;
  }

  /** ClientConnectionOwner: GOAWAY received or the connection closed. */
  connectionEnded(c: ClientConnection): void {
    if (this.conn !== c) return;
    this.conn = null;
    this.stopWatch();
    const host = this.backend.host;
    if (!host.closed && !this.backend.removed) host.connectionFailed();
    host.changed();
  }

  /** ClientConnectionOwner: outlier detection counts how calls on this address end. */
  callEnded(call: ClientCallState): void {
    this.backend.host.callEnded(this.backend, call);
  }

  drain(): void {
    this.stopWatch();
    this.conn?.drain("address removed by the resolver");
  }

  close(): void {
    this.stopWatch();
    this.conn?.close("channel closed");
  }

  private healthChanged(watch: HealthWatch, serving: boolean): void {
    if (watch !== this.watch || serving === this.serving) return;
    this.serving = serving;
    this.backend.host.changed();
  }

  private stopWatch(): void {
    const w = this.watch;
    this.watch = null;
    this.serving = true;
    w?.cancel();
  }
}

/** The watch's first answer, or false when none comes within `ms`. */
function firstAnswer(watch: HealthWatch, ms: number): Promise<boolean> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const late = new Promise<boolean>((resolve) => {
    timer = setTimeout(() => resolve(false), ms);
  });
  return Promise.race([watch.first, late]).finally(() => clearTimeout(timer));
}
