/**
 * createRpcServer: binds services to their descriptors and serves them on
 * connections from any Runtime. Owns the accept loop, the method table, the
 * server-wide limits (connections, and the count of open calls each
 * connection checks against maxServerConcurrentCalls) and graceful shutdown
 * (GOAWAY, refuse new calls with UNAVAILABLE, let open calls finish within
 * the grace period, then abort them). Per-connection protocol work lives in
 * server-connection.ts, its time limits in connection-guard.ts.
 */
import { type Logger, type LogFormat, resolveLogger } from "../runtime/log/logger.ts";
import type { Conn, Listener, Runtime } from "../runtime/types.ts";
import type { CallContext, ServiceBinding } from "./descriptor.ts";
import { type CompressionOptions, resolveCompression } from "./compression.ts";
import { chainInterceptors, type ServerCall, type ServerInterceptor } from "./interceptors.ts";
import { defaultMemoryBudgetBytes, MemoryBudget, type MemoryBudgetStats } from "./memory-budget.ts";
import { PIECE_BYTES, PiecePool } from "./piece-pool.ts";
import { CallCounters, DEFAULT_BUCKETS, withSingleMessages } from "./metrics/call-counters.ts";
import type { ServerMetricsReport } from "./metrics/worker-report.ts";
import { requestKindFlags, streamsRequests } from "./method-kind.ts";
import { DEFAULT_LIMITS, END_STREAM, GoAwayReason } from "./protocol.ts";
import type { Authorize } from "./server-auth.ts";
import { type BoundMethod, type ConnectionOwner, ServerConnection, type ServerConnectionConfig } from "./server-connection.ts";
import { ServerEventLog } from "./server-events.ts";
import { type GuardOptions, resolveGuardLimits } from "./server-limits.ts";
import { RpcError, Status } from "./status.ts";

/** Every option is optional; the time limits and abuse counters are GuardOptions (server-limits.ts, docs/RPC.md). */
export interface ServerOptions extends GuardOptions {
  /** Largest frame body accepted (default 4 MiB). */
  maxFrameBytes?: number;
  /** Largest request metadata accepted (default 8 KiB). */
  maxMetadataBytes?: number;
  /** Open calls per connection (default 1000); excess calls get RESOURCE_EXHAUSTED. */
  maxConcurrentCalls?: number;
  /** Open connections on this server (default 10000); excess ones get GOAWAY TOO_MANY_CONNECTIONS. */
  maxConnections?: number;
  /** Credit per stream for request messages, in messages (default 64). */
  initialWindow?: number;
  /** Close a connection that sends no HELLO within this (default 10000 ms; 0 = never). */
  firstFrameTimeoutMs?: number;
  /** Stop reading from a peer whose unsent output passes this (default 4 MiB). */
  writeHighWaterBytes?: number;
  /** Bytes this server (one worker) may hold for its peers: frames being received and output not yet written (default: defaultMemoryBudgetBytes()). */
  memoryBudgetBytes?: number;
  /** Send stacks in INTERNAL error messages (implies exposeErrors), and a refusing authorize's own error in its message (default false). */
  debug?: boolean;
  /**
   * Send an unexpected handler error's own message to the client (default
   * false: the client gets "internal error; see the server log, id=<id>" and
   * the log has the error under that id).
   */
  exposeErrors?: boolean;
  /** Count calls per method for metrics (grpc_server_*; see RpcServer.metricsReport()); `buckets` sets the histogram's bounds in seconds. */
  metrics?: boolean | { buckets?: readonly number[] };
  /** Where handler failures, limits hit and GOAWAYs are logged, pino-compatible (default: one line per event on stderr in `logFormat`). */
  logger?: Logger;
  /** The default logger's format: "text" (logfmt, default) or "json". */
  logFormat?: LogFormat;
  interceptors?: ServerInterceptor[];
  /**
   * Runs on every call's method, metadata and peer before its request body
   * is decoded (and before the interceptors); a throw or rejection refuses
   * the call: an RpcError with its status and message, anything else as
   * UNAUTHENTICATED. docs/RPC.md, "Authorizing calls".
   */
  authorize?: Authorize;
  /**
   * Per-message compression, off by default: `{ algorithms: ["gzip"], minBytes: 1024 }`
   * advertises the algorithms in the HELLO (the server accepts them) and
   * compresses responses of at least minBytes to a client that accepts one.
   * docs/RPC.md, "Compression".
   */
  compression?: CompressionOptions;
  /**
   * Announce in the HELLO that this server reads several values per
   * metadata key (default true). false: with compression off too, the
   * server sends version 1's 7-element HELLO byte for byte, and clients do
   * not send it several values for a key. docs/RPC.md, "Metadata".
   */
  multiValuedMetadata?: boolean;
}

export interface ServerStats {
  connections: number;
  activeCalls: number;
  totalCalls: number;
  totalConnections: number;
  refusedConnections: number;
  /** The worker's memory budget: its limit, what is held now and at peak, pauses, evictions, refused calls. */
  memory: MemoryBudgetStats;
}

export interface RpcServer {
  /** Accepts connections until the listener closes or shutdown() is called. */
  serve(listener: Listener): Promise<void>;
  /** Serves one already-accepted connection. */
  handle(conn: Conn): void;
  /** GOAWAY to every connection, refuse new calls, wait up to graceMs for open calls, then abort the rest. */
  shutdown(graceMs: number): Promise<void>;
  stats(): ServerStats;
  /** Connection counters, with the per-method call counters when created with `metrics` (else `calls` is null). */
  metricsReport(): ServerMetricsReport;
}

export function createRpcServer(rt: Runtime, services: ServiceBinding[], opts: ServerOptions = {}): RpcServer {
  return new Server(rt, services, opts);
}

class Server implements RpcServer, ConnectionOwner {
  draining: boolean;
  readonly budget: MemoryBudget;
  readonly pieces: PiecePool;
  openCalls: number;
  private readonly methods: Map<string, BoundMethod>;
  private readonly connections: Set<ServerConnection>;
  private readonly listeners: Set<Listener>;
  private readonly cfg: ServerConnectionConfig;
  private readonly maxConnections: number;
  private totalCalls: number;
  private totalConnections: number;
  private refused: number;
  private idleWaiters: (() => void)[];
  private readonly events: ServerEventLog;
  private readonly counters: CallCounters | null;
  /** Bytes of connections already closed (open ones are summed at report time). */
  private closedBytesIn: number;
  private closedBytesOut: number;

  constructor(
    private readonly rt: Runtime,
    services: ServiceBinding[],
    opts: ServerOptions,
  ) {
    this.draining = false;
    this.openCalls = 0;
    this.connections = new Set();
    this.listeners = new Set();
    this.totalCalls = 0;
    this.totalConnections = 0;
    this.refused = 0;
    this.idleWaiters = [];
    this.maxConnections = opts.maxConnections ?? 10000;
    // The epoll driver hands over a new buffer per read (Bun's socket data), garbage once copied.
    this.budget = new MemoryBudget(opts.memoryBudgetBytes ?? defaultMemoryBudgetBytes(), { readsAllocate: rt.driver === "epoll" });
    this.pieces = new PiecePool(Math.floor(this.budget.limit / PIECE_BYTES));
    this.events = new ServerEventLog(resolveLogger(opts));
    const m = opts.metrics ?? false;
    this.counters = m === false ? null : new CallCounters((m === true ? undefined : m.buckets) ?? DEFAULT_BUCKETS, (fn) => rt.defer(fn));
    this.closedBytesIn = 0;
    this.closedBytesOut = 0;
    this.cfg = {
      limits: {
        maxFrameBytes: opts.maxFrameBytes ?? DEFAULT_LIMITS.maxFrameBytes,
        maxConcurrentCalls: opts.maxConcurrentCalls ?? DEFAULT_LIMITS.maxConcurrentCalls,
        initialWindow: opts.initialWindow ?? DEFAULT_LIMITS.initialWindow,
        maxMetadataBytes: opts.maxMetadataBytes ?? DEFAULT_LIMITS.maxMetadataBytes,
      },
      debug: opts.debug ?? false,
      exposeErrors: opts.exposeErrors ?? false,
      metrics: this.counters,
      events: this.events,
      firstFrameTimeoutMs: opts.firstFrameTimeoutMs ?? 10000,
      guard: resolveGuardLimits(opts),
      writeHighWaterBytes: opts.writeHighWaterBytes ?? 4 * 1024 * 1024,
      authorize: opts.authorize ?? null,
      compression: resolveCompression(opts.compression, "createRpcServer: compression"),
      multiValuedMetadata: opts.multiValuedMetadata ?? true,
    };
    if (this.cfg.authorize !== null && typeof this.cfg.authorize !== "function")
      throw new TypeError(`ServerOptions.authorize must be a function (ctx) => void | Promise<void>, got ${typeof this.cfg.authorize}`);
    this.methods = bindMethods(services, opts.interceptors ?? [], this.counters);
  }

  lookup(path: string): BoundMethod | undefined {
    return this.methods.get(path);
  }

  countCall(): void {
    this.totalCalls++;
  }

  callOpened(): void {
    this.openCalls++;
  }

  callClosed(): void {
    this.openCalls--;
  }

  connectionClosed(c: ServerConnection): void {
    if (this.connections.delete(c)) {
      this.closedBytesIn += c.bytesIn;
      this.closedBytesOut += c.out.bytesWritten;
    }
    this.budget.remove(c);
    if (this.connections.size === 0 && this.idleWaiters.length > 0) {
      const waiters = this.idleWaiters;
      this.idleWaiters = [];
      for (const w of waiters) w();
    }
  }

  async serve(listener: Listener): Promise<void> {
    this.listeners.add(listener);
    try {
      while (!this.draining) {
        let conn: Conn;
        try {
          conn = await listener.accept();
        } catch (e) {
          if (this.draining || (e as { name?: string }).name === "AbortError") return;
          const code = (e as { code?: string }).code;
          // Both runtimes pause accepting on EMFILE/ENFILE themselves (src/runtime/accept-backoff.ts)
          // and never reject accept() with them; another Runtime that does, or an aborted
          // handshake, costs this loop a short pause, never the server.
          if (code === "EMFILE" || code === "ENFILE" || code === "ECONNABORTED") {
            await this.rt.sleep(10);
            continue;
          }
          throw e;
        }
        this.handle(conn);
      }
    } finally {
      this.listeners.delete(listener);
    }
  }

  handle(conn: Conn): void {
    const c = new ServerConnection(this.rt, conn, this, this.cfg);
    this.totalConnections++;
    conn.setNoDelay(true);
    if (this.draining) {
      this.refused++;
      this.connections.add(c);
      c.refuse(GoAwayReason.NO_ERROR, "server is shutting down");
      return;
    }
    if (this.connections.size >= this.maxConnections) {
      this.refused++;
      this.connections.add(c);
      c.refuse(GoAwayReason.TOO_MANY_CONNECTIONS, `server is at its limit of ${this.maxConnections} connections`);
      return;
    }
    this.connections.add(c);
    this.budget.add(c);
    c.start();
  }

  async shutdown(graceMs: number): Promise<void> {
    this.draining = true;
    await Promise.all([...this.listeners].map((l) => l.close().catch(() => {})));
    this.events.shutdown(this.connections.size, graceMs);
    for (const c of this.connections) c.goAway("server shutting down");
    if (this.connections.size > 0) {
      let timer: ReturnType<typeof setTimeout> | undefined;
      await Promise.race([
        new Promise<void>((resolve) => this.idleWaiters.push(resolve)),
        new Promise<void>((resolve) => {
          timer = setTimeout(resolve, graceMs);
        }),
      ]);
      clearTimeout(timer);
    }
    for (const c of [...this.connections]) c.abortCalls(Status.UNAVAILABLE, "server shut down before the call finished");
    await Promise.all([...this.connections].map((c) => c.close()));
  }

  stats(): ServerStats {
    let active = 0;
    for (const c of this.connections) active += c.calls.size;
    return {
      connections: this.connections.size,
      activeCalls: active,
      totalCalls: this.totalCalls,
      totalConnections: this.totalConnections,
      refusedConnections: this.refused,
      memory: this.budget.stats(),
    };
  }

  metricsReport(): ServerMetricsReport {
    let bytesIn = this.closedBytesIn;
    let bytesOut = this.closedBytesOut;
    for (const c of this.connections) {
      bytesIn += c.bytesIn;
      bytesOut += c.out.bytesWritten;
    }
    return {
      calls: this.counters === null ? null : withSingleMessages(this.counters.snapshot()),
      connections: {
        open: this.connections.size, accepted: this.totalConnections, refused: this.refused, bytesIn, bytesOut,
        goAways: { ...this.events.goAways }, rejected: { ...this.events.rejected },
      },
      memory: this.budget.stats(),
    };
  }
}

function bindMethods(services: ServiceBinding[], interceptors: ServerInterceptor[], counters: CallCounters | null): Map<string, BoundMethod> {
  const methods = new Map<string, BoundMethod>();
  for (const s of services) {
    const impl = s.impl as Record<string, unknown>;
    const unimplemented = new Set(s.unimplemented ?? []);
    for (const name of unimplemented) {
      if (!(name in s.descriptor.methods)) throw new TypeError(`service ${s.descriptor.name} has no method ${name} to list as unimplemented`);
      if (typeof impl[name] === "function") throw new TypeError(`service ${s.descriptor.name}: method ${name} is listed as unimplemented but impl.${name} is a function; remove one of the two`);
    }
    for (const [name, m] of Object.entries(s.descriptor.methods)) {
      const fn = unimplemented.has(name) ? unimplementedHandler(m.path) : impl[name];
      if (typeof fn !== "function")
        throw new TypeError(`service ${s.descriptor.name} has no handler for method ${name}: implement impl.${name}, or list it to answer UNIMPLEMENTED (bind...(impl, { unimplemented: ["${name}"] }))`);
      if (methods.has(m.path)) throw new TypeError(`method path ${m.path} is bound twice`);
      const handler = (req: unknown, ctx: CallContext): unknown => (fn as (r: unknown, c: CallContext) => unknown).call(impl, req, ctx);
      const intercepted = interceptors.length === 0 ? null : chainInterceptors<ServerCall>(interceptors, (call) => handler(call.request, call.ctx));
      // The method's metrics slot: where its calls are counted (0 when metrics are off).
      const slot = counters === null ? 0 : counters.addMethod({ service: m.service, method: m.name, kind: m.kind });
      const plain = m.kind === "unary" && intercepted === null && !unimplemented.has(name) && fn.length === 1 ? (req: unknown): unknown => (fn as (r: unknown) => unknown).call(impl, req) : null;
      const inlineRequestFlags = streamsRequests(m.kind) ? -1 : requestKindFlags(m.kind) | END_STREAM;
      methods.set(m.path, { method: m, handler, validate: s.validate, intercepted, slot, plain, inlineRequestFlags });
    }
  }
  return methods;
}

/** The handler of a method a binding lists as unimplemented: every call gets UNIMPLEMENTED. */
function unimplementedHandler(path: string): () => never {
  return () => {
    throw new RpcError(Status.UNIMPLEMENTED, `method ${path} is not implemented by this server`);
  };
}
