/**
 * How the operating commands end a failed call: one line on stderr with the
 * status name, number and message (a typed IDL error adds a line with its
 * code and fields as JSON), and the status number as the exit code. A value
 * that does not fit the IDL is INVALID_ARGUMENT, what the server would say;
 * an unexpected exception is INTERNAL. Usage errors (exit 2) are the
 * commands' own.
 */
import { isRpcErrorLike, Status, statusName } from "../rpc/status.ts";
import { EncodeValueError, TypedErrorValue } from "./dynamic/dynamic-codec.ts";
import type { JsonMapping } from "./dynamic/json-mapping.ts";
import { JsonValueError } from "./dynamic/json-mapping.ts";

/** What a command writes its error lines to. */
export type ErrorSink = (line: string) => void;

/** Prints `e` as `<command>: NAME (n): message` (plus the typed error's fields) and returns the exit code. */
export function reportFailure(e: unknown, command: string, json: JsonMapping | null, write: ErrorSink): number {
  if (e instanceof JsonValueError || e instanceof EncodeValueError) {
    write(`${command}: INVALID_ARGUMENT (${Status.INVALID_ARGUMENT}): ${e.message}`);
    return Status.INVALID_ARGUMENT;
  }
  if (!isRpcErrorLike(e)) {
    write(`${command}: INTERNAL (${Status.INTERNAL}): ${e instanceof Error ? e.message : String(e)}`);
    return Status.INTERNAL;
  }
  const status = e.status >= 1 && e.status <= 16 ? e.status : Status.UNKNOWN;
  write(`${command}: ${statusName(status)} (${status}): ${e.message}`);
  if (e instanceof TypedErrorValue) {
    const decl = json?.model.byName.get(e.code);
    const fields = decl !== undefined && decl.kind === "error" ? json!.structToJson(decl, e.fields) : {};
    write(`${command}: ${e.code} ${JSON.stringify(fields)}`);
  } else if (e.code !== statusName(status)) {
    write(`${command}: ${e.code}`);
  }
  return status;
}
