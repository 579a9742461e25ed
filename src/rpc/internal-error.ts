/**
 * What a client sees of an unexpected handler error, and the id that ties
 * it to the server's log. A handler that throws something other than an
 * RpcError or an IDL error has a bug, or an outage behind it, and its
 * message may name internals (hosts, ports, SQL): the client gets
 * `internal error; see the server log, id=<id>` and the server logs the
 * error under the same id, unless the server opted in (`exposeErrors`,
 * which sends the message, or `debug`, which sends the stack too).
 */
import { getRandomValues } from "node:crypto";

/** A short random id (12 hex digits) naming one failure in the log and in the client's message. */
export function newErrorId(): string {
  const b = getRandomValues(new Uint8Array(6));
  let s = "";
  for (const x of b) s += x.toString(16).padStart(2, "0");
  return s;
}

export function genericInternalMessage(errorId: string): string {
  return `internal error; see the server log, id=${errorId}`;
}

/** The message an INTERNAL status carries for the thrown value `e`. */
export function internalMessage(e: unknown, errorId: string, exposeErrors: boolean, debug: boolean): string {
  if (!exposeErrors && !debug) return genericInternalMessage(errorId);
  if (e instanceof Error) return debug && e.stack ? e.stack : e.message || e.name;
  return String(e);
}
