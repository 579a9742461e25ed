/**
 * The server's time limits and abuse counters (docs/RPC.md, "Limits a peer
 * cannot game"): their options, defaults, validation, and the tokens that
 * open the message of each ENHANCE_YOUR_CALM GOAWAY. Owns numbers and their
 * checking only; FrameDeadline (frame-deadline.ts) and ConnectionGuard
 * (connection-guard.ts) enforce them, ServerConnection asks them.
 */

/** The options (all part of ServerOptions); 0 turns a limit off unless its comment says otherwise. */
export interface GuardOptions {
  /**
   * Close a connection on which nothing moved for this long (default 300000 ms):
   * with no open call, nothing read; with calls open, nothing read and
   * nothing written. GOAWAY IDLE_TIMEOUT.
   */
  idleTimeoutMs?: number;
  /** A frame must be complete this long after its first byte arrived (default 30000 ms); else GOAWAY ENHANCE_YOUR_CALM frame_timeout. */
  frameTimeoutMs?: number;
  /** GOAWAY NO_ERROR once a connection is this old, jittered by ±10% (default 0 = never). */
  maxConnectionAgeMs?: number;
  /** After the max-age GOAWAY, calls still open get UNAVAILABLE and the connection closes after this (default 30000 ms). */
  maxConnectionAgeGraceMs?: number;
  /** A client PING sooner than this after its previous PING is a strike (default 10000 ms). */
  keepaliveMinIntervalMs?: number;
  /** Strikes tolerated; the next one gets GOAWAY ENHANCE_YOUR_CALM too_many_pings (default 2; 0 = none tolerated). */
  keepaliveMaxStrikes?: number;
  /** A response stream left without WINDOW credit this long ends with STATUS RESOURCE_EXHAUSTED (default 300000 ms). */
  streamStallTimeoutMs?: number;
  /** CANCELs of open calls per connection per second; one more gets GOAWAY ENHANCE_YOUR_CALM too_many_cancels (default 1000). */
  maxCancelsPerSecond?: number;
  /** REQUESTs refused over a concurrency limit per connection per second; one more gets GOAWAY ENHANCE_YOUR_CALM too_many_refused_calls (default 1000). */
  maxRefusedCallsPerSecond?: number;
  /** Open calls across all connections of this server (per worker); a REQUEST over it gets RESOURCE_EXHAUSTED (default 10000; 0 = no limit). */
  maxServerConcurrentCalls?: number;
}

/** The options resolved: every one set; maxServerConcurrentCalls is Infinity when it is off (one compare per REQUEST). */
export type GuardLimits = Required<GuardOptions>;

export const DEFAULT_GUARD_LIMITS: Readonly<GuardLimits> = Object.freeze({
  idleTimeoutMs: 300_000,
  frameTimeoutMs: 30_000,
  maxConnectionAgeMs: 0,
  maxConnectionAgeGraceMs: 30_000,
  keepaliveMinIntervalMs: 10_000,
  keepaliveMaxStrikes: 2,
  streamStallTimeoutMs: 300_000,
  maxCancelsPerSecond: 1000,
  maxRefusedCallsPerSecond: 1000,
  maxServerConcurrentCalls: 10_000,
});

/**
 * The first word of an ENHANCE_YOUR_CALM GOAWAY's message: which limit the
 * peer crossed (docs/PROTOCOL.md section 7). A program matches on it; the
 * rest of the message is for a person.
 */
export const CalmToken = {
  FRAME_TIMEOUT: "frame_timeout",
  TOO_MANY_PINGS: "too_many_pings",
  TOO_MANY_CANCELS: "too_many_cancels",
  TOO_MANY_REFUSED_CALLS: "too_many_refused_calls",
} as const;

/** The RESOURCE_EXHAUSTED message of a REQUEST refused over the connection's or the server's limit of open calls. */
export function overLimitMessage(openHere: number, perConnection: number, perServer: number): string {
  return openHere >= perConnection
    ? `too many concurrent calls on this connection (limit ${perConnection})`
    : `too many concurrent calls on this server (limit ${perServer} across its connections); retry later`;
}

/**
 * A connection the server closes for an error (or at the end of its age
 * grace) keeps reading, and discarding, after its last frame went out: at
 * most CLOSE_LINGER_MS, and only while the peer keeps sending (it stops
 * once nothing came for LINGER_QUIET_MS, or the peer closed). Closing a
 * socket with unread bytes resets it, and a reset can destroy the GOAWAY
 * before the peer reads it (nginx's lingering close, shortened).
 */
export const CLOSE_LINGER_MS = 250;
export const LINGER_QUIET_MS = 20;

/** setTimeout's longest wait: a longer limit could never fire. */
const MAX_MS = 0x7fffffff;

/** The options with their defaults filled in; throws a RangeError naming the first option that is not a usable number. */
export function resolveGuardLimits(opts: GuardOptions): GuardLimits {
  const out = { ...DEFAULT_GUARD_LIMITS };
  for (const key of Object.keys(DEFAULT_GUARD_LIMITS) as (keyof GuardLimits)[]) {
    const v = opts[key];
    if (v === undefined) continue;
    const max = key.endsWith("Ms") ? MAX_MS : Number.MAX_SAFE_INTEGER;
    if (typeof v !== "number" || !Number.isInteger(v) || v < 0 || v > max)
      throw new RangeError(`server option ${key} must be an integer from 0 to ${max}, got ${String(v)} (see docs/RPC.md, "Limits a peer cannot game")`);
    out[key] = v;
  }
  if (out.maxServerConcurrentCalls === 0) out.maxServerConcurrentCalls = Infinity;
  return out;
}
