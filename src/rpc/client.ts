/**
 * createChannel: the RPC client. A Channel implements CallInvoker over a
 * small pool of multiplexed connections per endpoint (lazy connect,
 * reconnect with exponential backoff and jitter), balanced round-robin or by
 * least outstanding calls. It owns deadlines, cancellation, interceptors and
 * the optional retry of idempotent unary calls; the per-connection protocol
 * lives in client-connection.ts.
 */
import { checkClientTls } from "../runtime/tls-config.ts";
import { TlsConfigError } from "../runtime/tls-errors.ts";
import type { Runtime, TlsClientOptions } from "../runtime/types.ts";
import { ClientCallState } from "./client-call.ts";
import { ClientConnection, type ClientConnectionConfig } from "./client-connection.ts";
import type { CallInvoker, CallOptions, MethodDescriptor } from "./descriptor.ts";
import { chainInterceptors, type ClientCall, type ClientInterceptor } from "./interceptors.ts";
import type { ClientMetrics } from "./metrics/client-metrics.ts";
import { DEFAULT_LIMITS } from "./protocol.ts";
import { RpcError, Status, type StatusCode } from "./status.ts";

export interface Endpoint {
  host: string;
  port: number;
}

export interface RetryOptions {
  /** Attempts in all, the first included (default 3). */
  maxAttempts?: number;
  /** First pause between attempts (default 20 ms), doubled each time up to maxBackoffMs (default 1000 ms). */
  initialBackoffMs?: number;
  maxBackoffMs?: number;
  /** Statuses that are retried (default [UNAVAILABLE]). */
  retryOn?: StatusCode[];
}

export interface ChannelOptions {
  endpoints: Endpoint[];
  /** Connections per endpoint (default 1). */
  connectionsPerEndpoint?: number;
  /** How a call picks a connection (default "round_robin"). */
  balance?: "round_robin" | "least_outstanding";
  /** Connect + HELLO timeout (default 5000 ms). */
  connectTimeoutMs?: number;
  /** Reconnect backoff after a failed connect: initialMs (default 100), maxMs (default 5000), jitter 0..1 (default 0.2). */
  backoff?: { initialMs?: number; maxMs?: number; jitter?: number };
  /** Retry idempotent unary calls automatically; off unless set. */
  retry?: RetryOptions;
  interceptors?: ClientInterceptor[];
  /** What this client accepts (advertised in its HELLO). */
  maxFrameBytes?: number;
  /** Credit per response stream, in messages (default 64). */
  initialWindow?: number;
  writeHighWaterBytes?: number;
  /**
   * Keepalive: after this long with nothing read, send a PING, and fail the
   * connection (its calls with UNAVAILABLE) when nothing answers within
   * keepaliveTimeoutMs (default 20000). 0 or absent = off.
   */
  keepaliveMs?: number;
  keepaliveTimeoutMs?: number;
  /** Keepalive also while no call is open (default false). */
  keepaliveWithoutCalls?: boolean;
  /**
   * Connect with TLS: `{ ca?, cert?, key?, serverName? }`, PEM text (`{}`: the
   * default trust store). Needs a runtime on the epoll driver (docs/DEPLOY.md,
   * "TLS"); a failed handshake fails the call with UNAVAILABLE naming the reason.
   */
  tls?: TlsClientOptions;
  /** Count this channel's calls into these grpc_client_* metrics (off unless set; one ClientMetrics may serve many channels of a thread). */
  metrics?: ClientMetrics;
}

export interface Channel extends CallInvoker {
  /** Closes every connection; open calls fail with UNAVAILABLE. */
  close(): Promise<void>;
  /** Open connections and calls, for tests and metrics. */
  stats(): { connections: number; activeCalls: number };
}

/** The options of a call made without any (never written to). */
const NO_OPTIONS: CallOptions = Object.freeze({});

export function createChannel(rt: Runtime, opts: ChannelOptions): Channel {
  if (opts.endpoints.length === 0) throw new TypeError("createChannel: opts.endpoints is empty");
  if (opts.tls !== undefined) checkChannelTls(rt, opts.tls);
  return new RpcChannel(rt, opts);
}

/** TLS options that cannot work fail here, at once, rather than at every connect. */
function checkChannelTls(rt: Runtime, tls: TlsClientOptions): void {
  checkClientTls(tls, "createChannel: tls");
  if (rt.driver !== "epoll") {
    throw new TlsConfigError(`createChannel: tls needs a runtime on the epoll driver, this one runs ${rt.driver}: create it with createRuntime({ driver: "epoll" }) (io_uring carries no TLS here: docs/DEPLOY.md, "TLS")`);
  }
}

interface PooledConnection {
  readonly endpoint: Endpoint;
  conn: ClientConnection | null;
  connecting: Promise<ClientConnection> | null;
  failures: number;
  retryAt: number;
  lastError: string;
  /** Calls waiting for this pooled connection's connect (least-outstanding counts them as load). */
  waiting: number;
}

class RpcChannel implements Channel {
  private readonly pool: PooledConnection[];
  private readonly cfg: ClientConnectionConfig;
  private readonly window: number;
  private rr: number;
  private closed: boolean;
  private readonly intercepted: ((call: ClientCall) => unknown) | null;
  private readonly metrics: ClientMetrics | null;

  constructor(
    private readonly rt: Runtime,
    private readonly opts: ChannelOptions,
  ) {
    const per = Math.max(1, opts.connectionsPerEndpoint ?? 1);
    this.pool = [];
    for (let i = 0; i < per; i++)
      for (const endpoint of opts.endpoints) this.pool.push({ endpoint, conn: null, connecting: null, failures: 0, retryAt: 0, lastError: "", waiting: 0 });
    this.window = opts.initialWindow ?? DEFAULT_LIMITS.initialWindow;
    this.cfg = {
      limits: { ...DEFAULT_LIMITS, maxFrameBytes: opts.maxFrameBytes ?? DEFAULT_LIMITS.maxFrameBytes, initialWindow: this.window },
      connectTimeoutMs: opts.connectTimeoutMs ?? 5000,
      writeHighWaterBytes: opts.writeHighWaterBytes ?? 4 * 1024 * 1024,
      keepalive: {
        intervalMs: opts.keepaliveMs ?? 0,
        timeoutMs: opts.keepaliveTimeoutMs ?? 20_000,
        withoutCalls: opts.keepaliveWithoutCalls ?? false,
      },
      tls: opts.tls ?? null,
    };
    this.rr = 0;
    this.closed = false;
    this.metrics = opts.metrics ?? null;
    const ics = opts.interceptors ?? [];
    this.intercepted = ics.length === 0 ? null : chainInterceptors<ClientCall>(ics, (call) => this.dispatch(call.method, call.request, call.options));
  }

  // Without interceptors a call without options shares NO_OPTIONS (nothing
  // below writes to a call's options); an interceptor gets an object of its own.
  unary<I, O>(m: MethodDescriptor<I, O>, req: I, opts?: CallOptions): Promise<O> {
    if (this.intercepted !== null) return this.intercepted({ method: m as MethodDescriptor, request: req, options: opts ?? {} }) as Promise<O>;
    return this.unaryWithRetry(m as MethodDescriptor, req, opts ?? NO_OPTIONS) as Promise<O>;
  }

  serverStream<I, O>(m: MethodDescriptor<I, O>, req: I, opts?: CallOptions): AsyncIterable<O> {
    if (this.intercepted !== null) return this.intercepted({ method: m as MethodDescriptor, request: req, options: opts ?? {} }) as AsyncIterable<O>;
    return this.start(m as MethodDescriptor, req, opts ?? NO_OPTIONS).inbound as AsyncIterable<O>;
  }

  clientStream<I, O>(m: MethodDescriptor<I, O>, reqs: AsyncIterable<I> | Iterable<I>, opts?: CallOptions): Promise<O> {
    if (this.intercepted !== null) return this.intercepted({ method: m as MethodDescriptor, request: reqs, options: opts ?? {} }) as Promise<O>;
    return this.start(m as MethodDescriptor, reqs, opts ?? NO_OPTIONS).promise as Promise<O>;
  }

  bidi<I, O>(m: MethodDescriptor<I, O>, reqs: AsyncIterable<I> | Iterable<I>, opts?: CallOptions): AsyncIterable<O> {
    if (this.intercepted !== null) return this.intercepted({ method: m as MethodDescriptor, request: reqs, options: opts ?? {} }) as AsyncIterable<O>;
    return this.start(m as MethodDescriptor, reqs, opts ?? NO_OPTIONS).inbound as AsyncIterable<O>;
  }

  async close(): Promise<void> {
    this.closed = true;
    const pending = this.pool.map((s) => s.connecting).filter((p) => p !== null);
    for (const s of this.pool) s.conn?.close("channel closed");
    await Promise.allSettled(pending);
    for (const s of this.pool) s.conn?.close("channel closed");
  }

  stats(): { connections: number; activeCalls: number } {
    let connections = 0;
    let activeCalls = 0;
    for (const s of this.pool)
      if (s.conn !== null && !s.conn.closed) {
        connections++;
        activeCalls += s.conn.outstanding;
      }
    return { connections, activeCalls };
  }

  /** The end of the interceptor chain: the call kind decides what is returned. */
  private dispatch(m: MethodDescriptor, request: unknown, opts: CallOptions): unknown {
    if (m.kind === "unary") return this.unaryWithRetry(m, request, opts);
    const call = this.start(m, request, opts);
    return call.inbound ?? call.promise;
  }

  private unaryWithRetry(m: MethodDescriptor, req: unknown, opts: CallOptions): Promise<unknown> {
    const first = this.start(m, req, opts).promise!;
    const retry = this.opts.retry;
    if (retry === undefined || !m.idempotent) return first;
    return this.retryLoop(m, req, opts, retry, first);
  }

  private async retryLoop(m: MethodDescriptor, req: unknown, opts: CallOptions, retry: RetryOptions, first: Promise<unknown>): Promise<unknown> {
    const max = retry.maxAttempts ?? 3;
    const retryOn = retry.retryOn ?? [Status.UNAVAILABLE];
    // Fix the deadline once so every attempt shares the caller's budget.
    const deadline = opts.deadline ?? (opts.timeoutMs !== undefined ? Date.now() + opts.timeoutMs : m.deadlineMs !== undefined ? Date.now() + m.deadlineMs : undefined);
    const attemptOpts: CallOptions = deadline === undefined ? opts : { ...opts, deadline };
    let pending = first;
    let pause = retry.initialBackoffMs ?? 20;
    for (let attempt = 1; ; attempt++) {
      try {
        return await pending;
      } catch (e) {
        const status = (e as RpcError).status;
        const retryable = typeof status === "number" && retryOn.includes(status);
        if (!retryable || attempt >= max || opts.signal?.aborted || this.closed) throw e;
        const wait = Math.min(pause, retry.maxBackoffMs ?? 1000) * (0.5 + Math.random() * 0.5);
        if (deadline !== undefined && Date.now() + wait >= deadline) throw e;
        await this.rt.sleep(Math.max(1, Math.round(wait)));
        pause *= 2;
        pending = this.start(m, req, attemptOpts).promise!;
      }
    }
  }

  private start(m: MethodDescriptor, request: unknown, opts: CallOptions): ClientCallState {
    const cm = this.metrics;
    const call = cm === null ? new ClientCallState(m, opts, this.window) : new ClientCallState(m, opts, this.window, cm.counters, cm.slotOf(m));
    if (call.done) return call;
    if (this.closed) {
      call.fail(new RpcError(Status.UNAVAILABLE, "channel is closed"));
      return call;
    }
    const conn = this.pick();
    if (conn instanceof ClientConnection) conn.start(call, request);
    else
      conn.then(
        (c) => c.start(call, request),
        (e: unknown) => call.fail(e instanceof RpcError ? e : new RpcError(Status.UNAVAILABLE, String(e))),
      );
    return call;
  }

  private pick(): ClientConnection | Promise<ClientConnection> {
    const n = this.pool.length;
    if (n === 1) {
      // One connection: both policies pick it whenever it is ready.
      const only = this.pool[0]!.conn;
      if (only !== null && only.usable) return only;
    }
    const now = Date.now();
    let chosen: PooledConnection | null = null;
    if (this.opts.balance === "least_outstanding") {
      let best = Number.POSITIVE_INFINITY;
      for (let i = 0; i < n; i++) {
        const s = this.pool[(this.rr + i) % n]!;
        const ready = s.conn !== null && s.conn.usable;
        if (!ready && s.retryAt > now) continue;
        // Ties go to a ready connection; an unconnected entry counts the calls waiting for it.
        const load = ready ? s.conn!.outstanding : s.waiting + 0.25;
        if (load < best) {
          best = load;
          chosen = s;
        }
      }
      this.rr = (this.rr + 1) % n;
    } else {
      for (let i = 0; i < n; i++) {
        const s = this.pool[(this.rr + i) % n]!;
        if ((s.conn !== null && s.conn.usable) || s.retryAt <= now) {
          chosen = s;
          this.rr = (this.rr + i + 1) % n;
          break;
        }
      }
    }
    if (chosen === null) {
      const s = this.pool[0]!;
      return Promise.reject(new RpcError(Status.UNAVAILABLE, `no endpoint is reachable (last error: ${s.lastError}); retrying after backoff`));
    }
    if (chosen.conn !== null && chosen.conn.usable) return chosen.conn;
    chosen.waiting++;
    return this.connect(chosen);
  }

  private connect(s: PooledConnection): Promise<ClientConnection> {
    if (s.connecting !== null) return s.connecting;
    const { host, port } = s.endpoint;
    const p = ClientConnection.open(this.rt, host, port, { connectionEnded: (c) => this.ended(s, c) }, this.cfg).then(
      (c) => {
        s.connecting = null;
        s.waiting = 0;
        s.failures = 0;
        s.retryAt = 0;
        if (this.closed) {
          c.close("channel closed");
          throw new RpcError(Status.UNAVAILABLE, "channel is closed");
        }
        s.conn = c;
        return c;
      },
      (e: unknown) => {
        s.connecting = null;
        s.waiting = 0;
        s.failures++;
        const b = this.opts.backoff ?? {};
        const base = Math.min(b.maxMs ?? 5000, (b.initialMs ?? 100) * 2 ** (s.failures - 1));
        const jitter = b.jitter ?? 0.2;
        s.retryAt = Date.now() + base * (1 - jitter + 2 * jitter * Math.random());
        s.lastError = e instanceof Error ? e.message : String(e);
        throw e;
      },
    );
    s.connecting = p;
    return p;
  }

  private ended(s: PooledConnection, c: ClientConnection): void {
    if (s.conn === c) s.conn = null;
  }
}
