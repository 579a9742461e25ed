/**
 * The runtime API every driver implements (io_uring in uring/, Bun's epoll
 * networking in epoll/). Owns only types: no behaviour lives here.
 *
 * The I/O style is Monoio's owned-buffer ("rent") model: an operation takes a
 * buffer and always hands it back in its result, on success, on error and on
 * cancel, because the kernel may own it while the operation is in flight.
 */
import type { IoError } from "./errors.ts";

export type DriverName = "uring" | "epoll";

/**
 * Result of an owned-buffer operation. `res` is the byte count (>= 0; 0 from
 * read means end of stream) or -errno; `error` is set exactly when res < 0.
 * `buf` is the very buffer that was passed in.
 */
export interface BufResult<B extends Uint8Array = Uint8Array> {
  res: number;
  buf: B;
  error: IoError | null;
}

/**
 * Completion of Conn.send: res is buf.length when every byte was sent, else
 * -errno with error set. Called exactly once; it may run before send()
 * returns (a connection already closed, or a socket that took every byte).
 */
export type SendDone = (res: number, error: IoError | null) => void;

export interface OpOptions {
  /** Aborting cancels the operation in the kernel (async cancel); the op then completes with ECANCELED. */
  signal?: AbortSignal;
}

export interface SocketAddress {
  address: string;
  port: number;
}

/**
 * Receives a connection's bytes in streaming mode (multishot recv on uring,
 * the socket's data callback on epoll). `chunk` is valid only during the
 * call: copy what must outlive it.
 */
export interface ConnSink {
  data(chunk: Uint8Array): void;
  /**
   * Optional: the same bytes as data(), as buf[start..end) of a view the
   * driver keeps (io_uring: its provided-buffer region), so a read creates
   * no view. A driver calls it instead of data() when the sink has it.
   */
  dataIn?(buf: Uint8Array, start: number, end: number): void;
  /** Optional: the driver read bytes while the stream is paused and holds them (`Conn.queuedBytes` grew). */
  queued?(): void;
  /** Called once: null on orderly end of stream, the error otherwise. */
  end(error: IoError | null): void;
}

export interface Conn {
  /** Unique per runtime, for logs and maps. */
  readonly id: number;
  readonly remote: SocketAddress | null;
  readonly closed: boolean;
  /** Reads at most buf.length bytes into buf. Not allowed while stream() is active. */
  read<B extends Uint8Array>(buf: B, opts?: OpOptions): Promise<BufResult<B>>;
  /** One send of buf; res may be short. */
  write<B extends Uint8Array>(buf: B, opts?: OpOptions): Promise<BufResult<B>>;
  /** Sends all of buf, resubmitting after short sends; res = buf.length on success. */
  writeAll<B extends Uint8Array>(buf: B, opts?: OpOptions): Promise<BufResult<B>>;
  /**
   * writeAll for a hot path: the same bytes on the wire and the same owned
   * buffer rule, but the outcome goes to a callback, so a send allocates no
   * promise or result object. No signal: such a send ends with the connection.
   */
  send(buf: Uint8Array, done: SendDone): void;
  /** Switches the connection to streaming reads; sink receives every chunk until end. */
  stream(sink: ConnSink): void;
  /** Pauses/resumes streaming reads (backpressure). */
  pause(): void;
  resume(): void;
  /**
   * Bytes the driver has read from the socket and holds, not yet given to
   * the stream's sink (the epoll driver queues a paused socket's reads, up to
   * 256 KiB; the io_uring driver leaves them in the kernel: 0). A memory
   * budget counts them.
   */
  readonly queuedBytes: number;
  setNoDelay(on: boolean): void;
  /** Closes the socket after in-flight operations are cancelled. Idempotent. */
  close(): Promise<void>;
}

export interface Listener {
  readonly host: string;
  readonly port: number;
  /** Next accepted connection. Rejects with IoError (e.g. ECANCELED after close()). */
  accept(opts?: OpOptions): Promise<Conn>;
  close(): Promise<void>;
}

/** PEM text: a file's contents (never its path), as a string or its bytes. */
export type Pem = string | Uint8Array;

/**
 * TLS on a listener (epoll driver only; tls-config.ts checks it, docs/DEPLOY.md
 * "TLS" says why io_uring cannot carry it here). A connection is handed to
 * accept() only once its handshake succeeded.
 */
export interface TlsServerOptions {
  /** The server's certificate chain, PEM: its own certificate first, then any intermediates. */
  cert: Pem;
  /** The certificate's private key, PEM (unencrypted). */
  key: Pem;
  /** CAs whose client certificates are accepted; only with requireClientCert. */
  ca?: Pem | Pem[];
  /** Mutual TLS: refuse a client that sends no certificate, or one no CA in `ca` signed (default false). */
  requireClientCert?: boolean;
  /** Close a connection whose handshake has not finished this long after it was accepted (default 10000 ms). */
  handshakeTimeoutMs?: number;
}

/** TLS on an outgoing connection (epoll driver only). `{}` is TLS with the default trust store. */
export interface TlsClientOptions {
  /** CAs to trust instead of the default list (Mozilla's, as Bun ships it). */
  ca?: Pem | Pem[];
  /** This client's certificate chain and key, for a server that requires one (mutual TLS); both or neither. */
  cert?: Pem;
  key?: Pem;
  /** The name the server's certificate must carry, also sent as SNI (default: the host connected to). */
  serverName?: string;
}

export interface ListenOptions {
  host?: string; // default 127.0.0.1
  port: number; // 0 = ephemeral
  backlog?: number; // default 1024
  /**
   * SO_REUSEPORT: share the port with other listeners that set it too (one
   * listener per launch() worker on a shared port). Default false: listening
   * on a port another socket holds fails with EADDRINUSE.
   */
  reusePort?: boolean;
  /** Serve TLS (epoll driver only). */
  tls?: TlsServerOptions;
}

export interface ConnectOptions {
  host: string;
  port: number;
  noDelay?: boolean; // default true
  signal?: AbortSignal;
  /** Connect with TLS (epoll driver only); connect() resolves once the handshake succeeded. */
  tls?: TlsClientOptions;
}

/**
 * Per-worker pool of native buffers (uring: carved from the ring's arena;
 * epoll: plain ArrayBuffers). acquire() returns a buffer of at least `size`
 * bytes, viewed to exactly `size`.
 */
export interface BufferPool {
  acquire(size: number): Uint8Array;
  release(buf: Uint8Array): void;
}

/**
 * The io_uring driver's idle wake-up accounting (docs/RUNTIME.md, "Waking
 * up"): how the ring runs completion work, how its idle loop is woken, what
 * ended each sleep, and the guard's probes. A late wake-up shows here as
 * lateWakes > 0 long before it shows in a user's p99.
 */
export interface WakeStats {
  ringMode: "coop" | "defer";
  wakeMode: "eventfd" | "poll";
  /** The idle poll's window in microseconds (0: off; docs/RUNTIME.md, "Idle poll"). */
  idlePollUs: number;
  sleeps: number;
  eventfdWakes: number;
  jsWakes: number;
  pollWakes: number;
  yields: number;
  /** Idle moments that polled the ring, and those whose poll found work (so the loop did not sleep). */
  idlePolls: number;
  idlePollHits: number;
  /** Guard probes run while idle, those later than 2 ms, and the worst lateness. */
  probes: number;
  lateWakes: number;
  maxLateUs: number;
  /** In the poll mode: self-tests re-run, and those that returned the loop to the eventfd. */
  rechecks: number;
  recoveries: number;
  /** The startup self-test, null when it did not run; `replaced`: the test a "defer" ring failed before a "coop" one took over. */
  selfTest: (WakeSample & { verdict: "ok" | "late"; replaced: WakeSample | null }) | null;
}

/** A wake-up self-test's numbers: samples, how many were late, p50 and max in microseconds. */
export interface WakeSample {
  samples: number;
  late: number;
  p50Us: number;
  maxUs: number;
}

/** The runtime's buffers (rt.buffers and, on io_uring, the provided buffers of streaming reads). */
export interface BufferStats {
  /** Native memory the pool carves buffers from (uring: the arena); 0 on epoll, whose buffers are plain memory. */
  arenaBytes: number;
  /** Bytes of buffers handed out by acquire() and not yet released (uring: arena buffers only). */
  inUseBytes: number;
  /** acquire() calls the arena could not serve (full, or larger than a slab): plain memory, copied through the arena for I/O. */
  fallbacks: number;
  /** Streaming reads that found every provided buffer in use (ENOBUFS) and waited for one to come back (uring only). */
  recvNoBuffers: number;
  /** Provided buffers the kernel has for streaming reads (uring: starts at bufInitial, doubles at ENOBUFS up to bufCount); 0 on epoll. */
  recvBuffers: number;
  /** Streaming reads share provided buffers, each taking only the bytes it needs (uring on kernel 6.12+, unless bufIncremental is false); false on epoll. */
  recvIncremental: boolean;
}

/**
 * Accepting while the process or the system is out of file descriptors
 * (docs/RUNTIME.md, "Out of file descriptors"). Both drivers fill it in.
 */
export interface AcceptStats {
  /** Episodes in which accept failed for lack of file descriptors (EMFILE or ENFILE); each printed one line. */
  fdExhausted: number;
  /** Accepts retried during those episodes, each after a back-off delay. */
  retries: number;
  /** Listeners in such an episode now: not accepting, or not yet accepting steadily again. */
  pausedListeners: number;
}

export interface RuntimeStats {
  /** Loop steps run (uring) or loop turns observed (epoll). */
  steps: number;
  /** Syscalls into the kernel for I/O submission/reaping (uring: io_uring_enter). -1 when unknown. */
  enters: number;
  submitted: number;
  completed: number;
  /** io_uring only. */
  wake?: WakeStats;
  /** File-descriptor exhaustion on accept (both drivers; absent in test doubles). */
  accept?: AcceptStats;
  /** The runtime's buffers: arena, use, exhaustion (both drivers; absent in test doubles). */
  buffers?: BufferStats;
}

export interface Runtime {
  readonly driver: DriverName;
  readonly buffers: BufferPool;
  listen(opts: ListenOptions): Promise<Listener>;
  connect(opts: ConnectOptions): Promise<Conn>;
  /** Resolves after ms (a ring timeout on uring). Rejects with an AbortError-named IoError (ECANCELED) on abort. */
  sleep(ms: number, opts?: OpOptions): Promise<void>;
  /**
   * Runs op with a signal that is aborted after ms; the op's kernel work is
   * cancelled and its buffer comes back in its result as usual.
   */
  timeout<T>(ms: number, op: (signal: AbortSignal) => Promise<T>): Promise<T>;
  /** Runs fn once before the next submission to the kernel (write coalescing). */
  defer(fn: () => void): void;
  stats(): RuntimeStats;
  /** Cancels everything, closes every socket, frees native memory. */
  close(): Promise<void>;
}
