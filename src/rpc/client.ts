/**
 * createChannel: the RPC client. A Channel implements CallInvoker over the
 * addresses of its target (fixed `endpoints`, or a `target` string or
 * Resolver: resolver.ts, target.ts, dns-resolver.ts), each with a small
 * pool of multiplexed connections (backend.ts: connect at the first call,
 * reconnect with exponential backoff and jitter, health watch), balanced
 * over the ready ones (balancer.ts) with outlier ejection (outlier.ts). It
 * owns deadlines, cancellation, interceptors, waiting for an address to be
 * ready, the transparent retry of calls no server processed, and the
 * optional retry of idempotent unary calls (retry.ts); the per-connection
 * protocol lives in client-connection.ts.
 */
import { checkClientTls } from "../runtime/tls-config.ts";
import { TlsConfigError } from "../runtime/tls-errors.ts";
import type { Runtime, TlsClientOptions } from "../runtime/types.ts";
import { Backend, type PooledConnection, type PoolHost } from "./backend.ts";
import { type BalancePolicy, Balancer } from "./balancer.ts";
import { ClientCallState, NOT_PROCESSED, type Redispatcher } from "./client-call.ts";
import type { ClientConnectionConfig } from "./client-connection.ts";
import { type CompressionOptions, resolveCompression } from "./compression.ts";
import type { CallInvoker, CallOptions, MethodDescriptor } from "./descriptor.ts";
import type { DnsResolverOptions } from "./dns-resolver.ts";
import { chainInterceptors, type ClientCall, type ClientInterceptor } from "./interceptors.ts";
import type { ClientMetrics } from "./metrics/client-metrics.ts";
import { OutlierDetector, type OutlierOptions } from "./outlier.ts";
import { DEFAULT_LIMITS } from "./protocol.ts";
import { type Endpoint, formatEndpoint, type Resolver, StaticResolver } from "./resolver.ts";
import { type RetryHost, type RetryOptions, RetryPolicy } from "./retry.ts";
import { RpcError, Status } from "./status.ts";
import { resolverFor } from "./target.ts";

export type { Endpoint } from "./resolver.ts";
export type { RetryOptions } from "./retry.ts";

export interface ChannelOptions {
  /** Fixed addresses (one or more `{ host, port }`); or give `target`. */
  endpoints?: Endpoint[];
  /**
   * Where the addresses come from, instead of `endpoints`: `dns:///NAME:PORT`
   * (A and AAAA records, re-resolved), `dns://DNS-SERVER[:PORT]/NAME:PORT`,
   * `HOST:PORT[,HOST:PORT...]`, or a Resolver of your own.
   */
  target?: string | Resolver;
  /** Re-resolution of a `dns:` target (intervalMs 30000, minIntervalMs 1000, timeoutMs 2000). */
  resolve?: DnsResolverOptions;
  /** Connections per address (default 1). */
  connectionsPerEndpoint?: number;
  /** How a call picks a ready connection (default "round_robin"). */
  balance?: BalancePolicy;
  /** Connect + HELLO timeout (default 5000 ms). */
  connectTimeoutMs?: number;
  /** Reconnect backoff after a failed connect: initialMs (default 100), maxMs (default 5000), jitter 0..1 (default 0.2). */
  backoff?: { initialMs?: number; maxMs?: number; jitter?: number };
  /** Retry idempotent unary calls that may have run; off unless set. Calls no server processed are always sent again. */
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
   * Watch each connection's health (ringrpc.health.v1.Health/watch, for
   * `service`, default "" = the whole server): a connection whose server
   * says anything but SERVING gets no new calls. Off by default.
   */
  healthCheck?: boolean | { service?: string };
  /** Eject addresses whose calls keep failing with UNAVAILABLE (outlier.ts defaults); `false` turns it off. */
  outlierDetection?: OutlierOptions | false;
  /**
   * Connect with TLS: `{ ca?, cert?, key?, serverName? }`, PEM text (`{}`: the
   * default trust store). Needs a runtime on the epoll driver (docs/DEPLOY.md,
   * "TLS"); a failed handshake fails the call with UNAVAILABLE naming the reason.
   */
  tls?: TlsClientOptions;
  /**
   * Per-message compression, off by default: `{ algorithms: ["gzip"], minBytes: 1024 }`
   * advertises the algorithms in the HELLO (the client accepts them) and
   * compresses request messages of at least minBytes to a server that
   * accepts one. docs/RPC.md, "Compression".
   */
  compression?: CompressionOptions;
  /**
   * Announce in the HELLO that this channel reads several values per
   * metadata key (default true). false: with compression off too, the
   * channel sends version 1's 7-element HELLO byte for byte, and servers do
   * not send it several values for a header or trailer. docs/RPC.md, "Metadata".
   */
  multiValuedMetadata?: boolean;
  /** Count this channel's calls into these grpc_client_* metrics (off unless set; one ClientMetrics may serve many channels of a thread). */
  metrics?: ClientMetrics;
}

/** One address as `stats()` reports it. */
export interface AddressStats {
  address: string;
  /** Connections that take new calls. */
  ready: number;
  activeCalls: number;
  /** Of activeCalls, those waiting client-side unsent: the server's maxConcurrentCalls are open, or the connection's output is over writeHighWaterBytes. */
  queuedCalls: number;
  /** Bytes encoded for this address that the kernel has not taken yet (at most about writeHighWaterBytes plus one message per connection). */
  unsentBytes: number;
  ejected: boolean;
  /** False when a health watch said the server is not SERVING. */
  serving: boolean;
}

export interface ChannelStats {
  connections: number;
  activeCalls: number;
  /** Every address the target resolves to now. */
  addresses: AddressStats[];
  /** Calls sent again because no server processed them (transparent retries). */
  transparentRetries: number;
  /** Retries of idempotent calls by the `retry` policy, and those its budget refused. */
  retries: number;
  throttledRetries: number;
}

export interface Channel extends CallInvoker {
  /** Closes every connection; open calls fail with UNAVAILABLE. */
  close(): Promise<void>;
  /** Open connections and calls, per address too, for tests and metrics. */
  stats(): ChannelStats;
}

/** The options of a call made without any (never written to). */
const NO_OPTIONS: CallOptions = Object.freeze({});

export function createChannel(rt: Runtime, opts: ChannelOptions): Channel {
  if (opts.target !== undefined && opts.endpoints !== undefined) throw new TypeError("createChannel: give opts.target or opts.endpoints, not both");
  if (opts.target === undefined) {
    if (opts.endpoints === undefined) throw new TypeError('createChannel: give opts.target (e.g. "dns:///kv.internal:7100") or opts.endpoints');
    if (opts.endpoints.length === 0) throw new TypeError("createChannel: opts.endpoints is empty");
  }
  if (opts.tls !== undefined) checkChannelTls(rt, opts.tls);
  const resolver =
    opts.target === undefined ? new StaticResolver(opts.endpoints!) : typeof opts.target === "string" ? resolverFor(opts.target, opts.resolve) : opts.target;
  return new RpcChannel(rt, opts, resolver);
}

/** TLS options that cannot work fail here, at once, rather than at every connect. */
function checkChannelTls(rt: Runtime, tls: TlsClientOptions): void {
  checkClientTls(tls, "createChannel: tls");
  if (rt.driver !== "epoll") {
    throw new TlsConfigError(`createChannel: tls needs a runtime on the epoll driver, this one runs ${rt.driver}: create it with createRuntime({ driver: "epoll" }) (io_uring carries no TLS here: docs/DEPLOY.md, "TLS")`);
  }
}

class RpcChannel implements Channel, PoolHost, Redispatcher, RetryHost {
  readonly cfg: ClientConnectionConfig;
  readonly backoff: { initialMs: number; maxMs: number; jitter: number };
  readonly healthService: string | null;
  closed: boolean;
  private readonly window: number;
  private readonly per: number;
  private readonly intercepted: ((call: ClientCall) => unknown) | null;
  private readonly balancer: Balancer;
  private readonly outliers: OutlierDetector<Backend> | null;
  private readonly retryPolicy: RetryPolicy | null;
  private readonly metrics: ClientMetrics | null;
  /** The addresses in rotation, by "host:port". */
  private backends: Map<string, Backend>;
  /** Addresses the resolver dropped whose connections still finish their calls. */
  private readonly retired: Set<Backend>;
  /** Every ready-able pooled connection, in turn order: connection i of each address, for i = 0, 1, ... */
  private pool: PooledConnection[];
  /** idle: not started; waiting: no answer yet; answered; late: no answer within connectTimeoutMs. */
  private resolverState: "idle" | "waiting" | "answered" | "late";
  /** The resolver promised a new answer after a failed connection (waiting calls wait for it). */
  private refreshing: boolean;
  private resolveError: string;
  private waiters: (() => void)[];
  private transparent: number;
  private retried: number;
  private throttled: number;

  constructor(
    readonly rt: Runtime,
    opts: ChannelOptions,
    private readonly resolver: Resolver,
  ) {
    this.per = Math.max(1, opts.connectionsPerEndpoint ?? 1);
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
      compression: resolveCompression(opts.compression, "createChannel: compression"),
      multiValuedMetadata: opts.multiValuedMetadata ?? true,
    };
    const b = opts.backoff ?? {};
    this.backoff = { initialMs: b.initialMs ?? 100, maxMs: b.maxMs ?? 5000, jitter: b.jitter ?? 0.2 };
    const hc = opts.healthCheck ?? false;
    this.healthService = hc === false ? null : hc === true ? "" : (hc.service ?? "");
    this.closed = false;
    this.balancer = new Balancer(opts.balance ?? "round_robin");
    const od = opts.outlierDetection ?? {};
    this.outliers = od === false ? null : new OutlierDetector<Backend>(od, this.outlierHost());
    this.retryPolicy = opts.retry === undefined ? null : new RetryPolicy(opts.retry);
    this.metrics = opts.metrics ?? null;
    this.backends = new Map();
    this.retired = new Set();
    this.pool = [];
    this.resolverState = "idle";
    this.resolveError = "";
    this.refreshing = false;
    this.waiters = [];
    this.transparent = 0;
    this.retried = 0;
    this.throttled = 0;
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
    return this.start(m as MethodDescriptor, req, opts ?? NO_OPTIONS, null).inbound as AsyncIterable<O>;
  }

  clientStream<I, O>(m: MethodDescriptor<I, O>, reqs: AsyncIterable<I> | Iterable<I>, opts?: CallOptions): Promise<O> {
    if (this.intercepted !== null) return this.intercepted({ method: m as MethodDescriptor, request: reqs, options: opts ?? {} }) as Promise<O>;
    return this.start(m as MethodDescriptor, reqs, opts ?? NO_OPTIONS, null).promise as Promise<O>;
  }

  bidi<I, O>(m: MethodDescriptor<I, O>, reqs: AsyncIterable<I> | Iterable<I>, opts?: CallOptions): AsyncIterable<O> {
    if (this.intercepted !== null) return this.intercepted({ method: m as MethodDescriptor, request: reqs, options: opts ?? {} }) as AsyncIterable<O>;
    return this.start(m as MethodDescriptor, reqs, opts ?? NO_OPTIONS, null).inbound as AsyncIterable<O>;
  }

  async close(): Promise<void> {
    this.closed = true;
    this.resolver.close();
    const all = [...this.backends.values(), ...this.retired];
    const pending = all.flatMap((b) => b.conns.map((p) => p.connecting).filter((p) => p !== null));
    for (const b of all) b.close();
    await Promise.allSettled(pending);
    for (const b of all) {
      b.close();
      this.outliers?.forget(b);
    }
    this.changed();
  }

  stats(): ChannelStats {
    let connections = 0;
    let activeCalls = 0;
    const addresses: AddressStats[] = [];
    for (const b of this.backends.values()) {
      const a: AddressStats = { address: b.address, ready: 0, activeCalls: 0, queuedCalls: 0, unsentBytes: 0, ejected: b.outlier.ejected, serving: true };
      for (const p of b.conns) {
        if (p.ready) a.ready++;
        if (p.conn !== null && !p.serving) a.serving = false;
        a.activeCalls += p.calls;
        if (p.conn !== null && !p.conn.closed) {
          a.queuedCalls += p.conn.queuedCalls;
          a.unsentBytes += p.conn.unsentBytes;
        }
      }
      addresses.push(a);
    }
    for (const b of [...this.backends.values(), ...this.retired])
      for (const p of b.conns)
        if (p.conn !== null && !p.conn.closed) {
          connections++;
          activeCalls += p.calls;
        }
    return { connections, activeCalls, addresses, transparentRetries: this.transparent, retries: this.retried, throttledRetries: this.throttled };
  }

  /** The end of the interceptor chain: the call kind decides what is returned. */
  private dispatch(m: MethodDescriptor, request: unknown, opts: CallOptions): unknown {
    if (m.kind === "unary") return this.unaryWithRetry(m, request, opts);
    const call = this.start(m, request, opts, null);
    return call.inbound ?? call.promise;
  }

  private unaryWithRetry(m: MethodDescriptor, req: unknown, opts: CallOptions): Promise<unknown> {
    const first = this.start(m, req, opts, null);
    const policy = this.retryPolicy;
    if (policy === null || !m.idempotent) return first.promise!;
    return policy.run(this, m, req, opts, first);
  }

  private start(m: MethodDescriptor, request: unknown, opts: CallOptions, avoid: Backend | null): ClientCallState {
    const cm = this.metrics;
    const call = cm === null ? new ClientCallState(m, opts, this.window) : new ClientCallState(m, opts, this.window, cm.counters, cm.slotOf(m));
    if (call.done) return call;
    if (this.closed) {
      call.fail(new RpcError(Status.UNAVAILABLE, "channel is closed"));
      return call;
    }
    // A call whose request is one inline message can be sent again as it was.
    if (m.kind === "unary" || m.kind === "server_stream") {
      call.redispatcher = this;
      call.request = request;
    }
    this.send(call, request, avoid);
    return call;
  }

  /** Sends the call on a ready connection, or waits for one. */
  private send(call: ClientCallState, request: unknown, avoid: Backend | null): void {
    if (this.resolverState === "idle") this.startResolver();
    const s = this.balancer.pick(this.pool, avoid);
    if (s !== null) {
      call.via = s;
      s.conn!.start(call, request);
      return;
    }
    void this.sendWhenReady(call, request, avoid);
  }

  private async sendWhenReady(call: ClientCallState, request: unknown, avoid: Backend | null): Promise<void> {
    for (;;) {
      if (call.done) return;
      if (this.closed) return call.fail(new RpcError(Status.UNAVAILABLE, "channel is closed"));
      const s = this.balancer.pick(this.pool, avoid);
      if (s !== null) {
        call.via = s;
        s.conn!.start(call, request);
        return;
      }
      if (!this.hopeful()) {
        call.outcome = NOT_PROCESSED;
        return call.fail(new RpcError(Status.UNAVAILABLE, this.unreachable()));
      }
      await new Promise<void>((resolve) => this.waiters.push(resolve));
    }
  }

  /** A call waiting for a ready connection may still get one: the resolver has not answered, or a connection is being made. */
  private hopeful(): boolean {
    if (this.resolverState === "waiting" || this.refreshing) return true;
    for (const p of this.pool) if (p.connecting !== null) return true;
    return false;
  }

  /** Why no address can take a call, naming each (at most four). */
  private unreachable(): string {
    const target = this.resolver.description;
    if (this.backends.size === 0) {
      if (this.resolverState === "late") return `${target}: the resolver gave no addresses within ${this.cfg.connectTimeoutMs} ms (call not sent)`;
      return this.resolveError !== "" ? `${this.resolveError} (call not sent)` : `${target} resolves to no addresses (call not sent)`;
    }
    const now = Date.now();
    // One address: its own reason is the message (a refused connect reads as that, not as a summary).
    if (this.backends.size === 1) return `${[...this.backends.values()][0]!.state(now)} (call not sent)`;
    const states = [...this.backends.values()].slice(0, 4).map((b) => `${b.address}: ${b.state(now)}`);
    const more = this.backends.size > 4 ? `; and ${this.backends.size - 4} more` : "";
    return `no address of ${target} can take the call now (${states.join("; ")}${more}); each is tried again after its backoff (call not sent)`;
  }

  private startResolver(): void {
    this.resolverState = "waiting";
    const timer = setTimeout(() => {
      if (this.resolverState !== "waiting") return;
      this.resolverState = "late";
      this.changed();
    }, this.cfg.connectTimeoutMs);
    timer.unref?.();
    this.resolver.start({
      addresses: (list) => {
        clearTimeout(timer);
        this.addresses(list);
      },
      error: (err) => {
        clearTimeout(timer);
        if (this.closed) return;
        this.resolverState = "answered";
        this.refreshing = false;
        this.resolveError = err.message;
        this.changed();
      },
    });
  }

  /** The resolver's new list: new addresses start connecting, dropped ones drain. */
  private addresses(list: readonly Endpoint[]): void {
    if (this.closed) return;
    this.resolverState = "answered";
    this.refreshing = false;
    this.resolveError = "";
    const next = new Map<string, Backend>();
    const added: Backend[] = [];
    for (const e of list) {
      const key = formatEndpoint(e);
      if (next.has(key)) continue;
      let b = this.backends.get(key);
      if (b === undefined) added.push((b = new Backend({ host: e.host, port: e.port }, this.per, this)));
      next.set(key, b);
    }
    for (const [key, b] of this.backends)
      if (!next.has(key)) {
        this.outliers?.forget(b);
        b.drain();
        this.retired.add(b);
      }
    for (const b of this.retired) if (b.conns.every((p) => p.conn === null && p.connecting === null)) this.retired.delete(b);
    this.backends = next;
    const pool: PooledConnection[] = [];
    for (let i = 0; i < this.per; i++) for (const b of next.values()) pool.push(b.conns[i]!);
    this.pool = pool;
    // Like gRPC's round_robin: every new address starts connecting now, so it is ready when calls come.
    const now = Date.now();
    for (const b of added) for (const p of b.conns) p.wake(now);
    this.changed();
  }

  // PoolHost

  changed(): void {
    if (this.waiters.length === 0) return;
    const w = this.waiters;
    this.waiters = [];
    for (const wake of w) wake();
  }

  connectionFailed(): void {
    if (!this.closed && this.resolverState !== "idle" && this.resolver.refresh()) this.refreshing = true;
  }

  callEnded(b: Backend, call: ClientCallState): void {
    if (this.outliers !== null && !b.removed) this.outliers.record(b, call.outcome);
  }

  // Redispatcher: a call no server processed goes out again, away from where it was refused.

  redispatch(call: ClientCallState): void {
    this.transparent++;
    const from = call.via as PooledConnection | null;
    call.via = null;
    if (this.closed) return call.fail(new RpcError(Status.UNAVAILABLE, "channel is closed"));
    this.send(call, call.request, from === null ? null : from.backend);
  }

  // RetryHost

  attempt(m: MethodDescriptor, req: unknown, opts: CallOptions, previous: ClientCallState): ClientCallState {
    const from = previous.via as PooledConnection | null;
    return this.start(m, req, opts, from === null ? null : from.backend);
  }

  sleep(ms: number): Promise<void> {
    return this.rt.sleep(ms);
  }

  counted(kind: "retried" | "throttled"): void {
    if (kind === "retried") this.retried++;
    else this.throttled++;
  }

  private outlierHost() {
    const channel = this;
    return {
      get addressCount() {
        return channel.backends.size;
      },
      probe: (b: Backend) => b.probe(),
      changed: () => channel.changed(),
    };
  }
}
