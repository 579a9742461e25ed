/**
 * Wire constants of the ringrpc protocol (docs/PROTOCOL.md): frame types,
 * flags, GOAWAY reasons and the default limits. Owns numbers only.
 */

export const PROTOCOL_VERSION = 1;

export const FrameType = {
  HELLO: 1,
  REQUEST: 2,
  MESSAGE: 3,
  HALF_CLOSE: 4,
  RESPONSE: 5,
  HEADERS: 6,
  STATUS: 7,
  CANCEL: 8,
  WINDOW: 9,
  PING: 10,
  PONG: 11,
  GOAWAY: 12,
} as const;

/** Bit 0 of REQUEST/MESSAGE flags: the sender sends no more messages. */
export const END_STREAM = 1;

/**
 * Bits 1-3 of REQUEST flags: the method kind the client calls the method as
 * (docs/PROTOCOL.md, REQUEST, and Edge cases 18). 0 declares nothing (older
 * clients); 5-7 are reserved and read as 0.
 */
export const REQUEST_KIND_SHIFT = 1;
export const REQUEST_KIND_MASK = 0b1110;
export const RequestKind = { unary: 1, server_stream: 2, client_stream: 3, bidi: 4 } as const;

export const GoAwayReason = {
  NO_ERROR: 0,
  PROTOCOL_ERROR: 1,
  FRAME_TOO_LARGE: 2,
  UNSUPPORTED_VERSION: 3,
  HANDSHAKE_TIMEOUT: 4,
  IDLE_TIMEOUT: 5,
  TOO_MANY_CONNECTIONS: 6,
  MALFORMED_FRAME: 7,
  UNKNOWN_FRAME_TYPE: 8,
  FLOW_CONTROL_ERROR: 9,
  /** The peer generates excessive load or holds resources (docs/PROTOCOL.md section 7, "Abuse limits"); the message starts with a token naming the limit. */
  ENHANCE_YOUR_CALM: 10,
} as const;
export type GoAwayReasonCode = (typeof GoAwayReason)[keyof typeof GoAwayReason];

const reasonNames = Object.fromEntries(Object.entries(GoAwayReason).map(([k, v]) => [v, k])) as Record<number, string>;
export function goAwayReasonName(reason: number): string {
  return reasonNames[reason] ?? `REASON_${reason}`;
}

/** The limits a side advertises in its HELLO (what it accepts from the peer). */
export interface PeerLimits {
  maxFrameBytes: number;
  maxConcurrentCalls: number;
  initialWindow: number;
  maxMetadataBytes: number;
}

export const DEFAULT_LIMITS: PeerLimits = {
  maxFrameBytes: 4 * 1024 * 1024,
  maxConcurrentCalls: 1000,
  initialWindow: 64,
  maxMetadataBytes: 8 * 1024,
};

/** Smallest values a HELLO may advertise; below them a peer could never make progress. */
export const MIN_LIMITS: PeerLimits = {
  maxFrameBytes: 1024,
  maxConcurrentCalls: 1,
  initialWindow: 1,
  maxMetadataBytes: 0,
};

/** Returns the first HELLO limit below its minimum, as a message, or null when all are fine. */
export function checkHelloLimits(l: PeerLimits): string | null {
  for (const k of Object.keys(MIN_LIMITS) as (keyof PeerLimits)[]) {
    if (!(l[k] >= MIN_LIMITS[k])) return `HELLO ${k} ${l[k]} is below the minimum ${MIN_LIMITS[k]}`;
  }
  return null;
}

/**
 * Connection-level frames (HELLO, PING, PONG, GOAWAY) carry id 0 and call
 * frames a non-zero id (docs/PROTOCOL.md, Edge cases 13). Returns the
 * violation as a message, or null; unknown types are left to the caller.
 */
export function frameIdProblem(type: number, id: number): string | null {
  if (type < FrameType.HELLO || type > FrameType.GOAWAY) return null;
  if (type === FrameType.HELLO || type >= FrameType.PING) return id === 0 ? null : `frame type ${type} carries call id ${id}: connection-level frames carry id 0`;
  return id !== 0 ? null : `frame type ${type} carries call id 0: call frames carry a non-zero id`;
}

/** A protocol violation that ends the whole connection with a GOAWAY. */
export class ConnectionError extends Error {
  override name = "ConnectionError";
  readonly code: string;
  constructor(readonly reason: GoAwayReasonCode, message: string) {
    super(message);
    this.code = goAwayReasonName(reason);
  }
}

/** setTimeout's longest wait; a longer deadline needs no local timer. */
export const MAX_TIMER_MS = 0x7fffffff;
