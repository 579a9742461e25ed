/**
 * ServerEventLog: what a server tells its operator about the rare events
 * of its connections and calls, as log events and as the counters its
 * metrics report: a handler failure (method, call id, status, error id,
 * the error with its stack, duration), a limit hit, a GOAWAY sent. Limit
 * and GOAWAY lines are throttled per kind (log-throttle.ts); handler
 * failures are not, since each one's id was sent to a client. Counting
 * here is by name in plain records: these events are never on the path of
 * a call that succeeds.
 */
import type { Logger } from "../runtime/log/logger.ts";
import { GoAwayReason, goAwayReasonName } from "./protocol.ts";
import { LogThrottle } from "./log-throttle.ts";
import { statusName } from "./status.ts";

/** The limits whose hits are counted and logged (docs/RPC.md, "Server options" and "Limits a peer cannot game"). */
export const LIMIT_NAMES = [
  "max_frame_bytes", "max_metadata_bytes", "max_concurrent_calls", "max_server_concurrent_calls", "max_connections", "memory_budget",
  // The tokens that open an ENHANCE_YOUR_CALM GOAWAY's message (server-limits.ts CalmToken).
  "frame_timeout", "too_many_pings", "too_many_cancels", "too_many_refused_calls",
] as const;
export type LimitName = (typeof LIMIT_NAMES)[number];

/** The limit behind a GOAWAY, when the GOAWAY is a limit's doing: by its reason, or for ENHANCE_YOUR_CALM by its message's first word. */
function limitOf(reason: number, message: string): LimitName | null {
  if (reason === GoAwayReason.FRAME_TOO_LARGE) return "max_frame_bytes";
  if (reason === GoAwayReason.TOO_MANY_CONNECTIONS) return "max_connections";
  if (reason !== GoAwayReason.ENHANCE_YOUR_CALM) return null;
  const token = /^[a-z_]+/.exec(message)?.[0];
  return (LIMIT_NAMES as readonly string[]).includes(token ?? "") ? (token as LimitName) : null;
}

/** A failed call as its log line names it. */
export interface FailedCall {
  readonly id: number;
  readonly method: { readonly path: string };
  readonly peer: { address: string; port: number } | null;
}

type Peer = { address: string; port: number } | null;

function peerText(peer: Peer): string | undefined {
  return peer === null ? undefined : `${peer.address}:${peer.port}`;
}

export class ServerEventLog {
  /** GOAWAYs sent, by reason name. */
  readonly goAways: Record<string, number> = {};
  /** Frames (or connections) refused by a limit, by limit (every limit named from the start, so its series exists at 0). */
  readonly rejected = Object.fromEntries(LIMIT_NAMES.map((n) => [n, 0])) as Record<LimitName, number>;
  private readonly throttle: LogThrottle;

  constructor(
    readonly logger: Logger,
    throttleMs = 10_000,
  ) {
    this.throttle = new LogThrottle(throttleMs);
  }

  /** A handler failed with a server-side status; `errorId` is set when the client got the generic message. */
  callFailed(call: FailedCall, status: number, error: unknown, errorId: string | null, durationMs: number): void {
    // A thrown non-Error has no stack to keep: it is logged as what it is.
    const err = error instanceof Error ? error : { type: typeof error, message: String(error) };
    this.logger.error(
      {
        event: "handler_failed", method: call.method.path, callId: call.id, status: statusName(status),
        ...(errorId === null ? {} : { errorId }), durationMs, peer: peerText(call.peer), err,
      },
      `handler ${call.method.path} failed: ${statusName(status)}: ${err.message}${errorId === null ? "" : ` (id=${errorId})`}`,
    );
  }

  /** A call or connection was refused by `limit`. */
  limitHit(limit: LimitName, message: string, peer: Peer): void {
    this.rejected[limit]++;
    const left = this.throttle.take(`limit:${limit}`);
    if (left === null) return;
    this.logger.warn(
      { event: "limit_hit", limit, peer: peerText(peer), ...(left > 0 ? { suppressed: left } : {}) },
      `limit ${limit} hit: ${message}${left > 0 ? ` (${left} more since the last line)` : ""}`,
    );
  }

  /** The server sent GOAWAY `reason` on a connection. A graceful one (NO_ERROR) is counted, not logged: shutdown() logs one line for all. */
  goAwaySent(reason: number, message: string, peer: Peer): void {
    const name = goAwayReasonName(reason);
    this.goAways[name] = (this.goAways[name] ?? 0) + 1;
    const limit = limitOf(reason, message);
    if (limit !== null) this.rejected[limit]++;
    if (reason === GoAwayReason.NO_ERROR) return;
    const left = this.throttle.take(`goaway:${name}:${limit ?? ""}`);
    if (left === null) return;
    this.logger.warn(
      { event: "goaway", reason: name, ...(limit === null ? {} : { limit }), detail: message, peer: peerText(peer), ...(left > 0 ? { suppressed: left } : {}) },
      `GOAWAY ${name} sent${peer === null ? "" : ` to ${peerText(peer)}`}: ${message}${left > 0 ? ` (${left} more since the last line)` : ""}`,
    );
  }

  /** Graceful shutdown began: GOAWAY to `connections` connections. */
  shutdown(connections: number, graceMs: number): void {
    this.logger.info(
      { event: "shutdown", connections, graceMs },
      `shutting down: GOAWAY to ${connections} connection${connections === 1 ? "" : "s"}, grace ${graceMs} ms`,
    );
  }
}
