/**
 * Method kinds on the wire: the kind a client declares in its REQUEST flags,
 * the REQUEST shape each kind uses, the server's check of a REQUEST against
 * its method's kind, and the text of the one error both sides
 * give a method-kind mismatch (docs/PROTOCOL.md, Edge cases 18: STATUS
 * UNIMPLEMENTED, the call fails, the connection stays). Reads and writes no
 * frames itself.
 */
import type { MethodKind } from "./descriptor.ts";
import { ConnectionError, END_STREAM, GoAwayReason, REQUEST_KIND_MASK, REQUEST_KIND_SHIFT, RequestKind } from "./protocol.ts";

/** Indexed by the 3-bit kind field of REQUEST flags; null = not declared or reserved. */
const DECLARED: readonly (MethodKind | null)[] = [null, "unary", "server_stream", "client_stream", "bidi", null, null, null];

/** The REQUEST flag bits that declare `kind`. */
export function requestKindFlags(kind: MethodKind): number {
  return RequestKind[kind] << REQUEST_KIND_SHIFT;
}

/** The kind a REQUEST's flags declare, or null when they declare none (0 or a reserved value). */
export function declaredKind(flags: number): MethodKind | null {
  return DECLARED[(flags & REQUEST_KIND_MASK) >> REQUEST_KIND_SHIFT]!;
}

/** Client-streaming and bidi calls send their requests as MESSAGE frames (no inline message in REQUEST). */
export function streamsRequests(kind: MethodKind): boolean {
  return kind === "client_stream" || kind === "bidi";
}

/**
 * "method kind mismatch on <path>: client <client>, server <server>; ...":
 * the message of the UNIMPLEMENTED status either side fails the call with.
 * `client` and `server` are a kind, or the kinds the frames seen allow.
 */
export function kindMismatchMessage(path: string, client: string, server: string): string {
  return `method kind mismatch on ${path}: client ${client}, server ${server}; client and server were built from different IDLs`;
}

/**
 * Edge cases 5 and 18: a REQUEST's shape (`inline`: it carries a message)
 * and declared kind against the method's `kind`. Returns the UNIMPLEMENTED
 * message of a kind mismatch, or null when the call may run; throws a
 * ConnectionError for a REQUEST no kind can send.
 */
export function requestKindProblem(id: number, path: string, kind: MethodKind, inline: boolean, flags: number): string | null {
  if (inline && (flags & END_STREAM) === 0) throw new ConnectionError(GoAwayReason.PROTOCOL_ERROR, `REQUEST ${id} carries an inline message without END_STREAM`);
  const declared = declaredKind(flags);
  if (declared !== null && streamsRequests(declared) === inline)
    throw new ConnectionError(GoAwayReason.PROTOCOL_ERROR, `REQUEST ${id} declares kind ${declared} but ${inline ? "carries an" : "has no"} inline message`);
  if (declared !== null) return declared === kind ? null : kindMismatchMessage(path, declared, kind);
  if (inline !== streamsRequests(kind)) return null;
  // An undeclared kind (an older client) is judged by the REQUEST's shape alone.
  return kindMismatchMessage(path, inline ? "unary or server_stream (its REQUEST carries an inline message)" : "client_stream or bidi (its REQUEST has no inline message)", kind);
}
