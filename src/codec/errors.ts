/**
 * DecodeError: the one error type the msgpack reader and generated decoders
 * throw. It carries a field path ("items[3].key") that generated decoders
 * build on the way out by catching and rethrowing through `DecodeError.at`.
 * EncodeLimitError: what MsgWriter throws when a value would carry its
 * cursor past the writer's limit. Owns no encoding or decoding logic.
 */

export class DecodeError extends Error {
  override name = "DecodeError";
  readonly code = "DECODE_ERROR";
  /** Dotted path of the bad field, e.g. "items[3].key". Empty for the root. */
  path: string;
  /** The problem without the path, e.g. "expected string but found int". */
  readonly detail: string;

  constructor(detail: string, path = "") {
    super(path === "" ? detail : `${path}: ${detail}`);
    this.detail = detail;
    this.path = path;
  }

  /**
   * Returns `e` as a DecodeError whose path is prefixed with `segment`
   * (a field name such as "key", or an index such as "[3]"). Errors that are
   * not DecodeErrors (a RangeError from deep recursion, say) are wrapped,
   * and kept as the wrapper's `cause`: the caller still answers with a
   * DecodeError, and a test can still tell a decoder bug from bad input.
   */
  static at(e: unknown, segment: string): DecodeError {
    let err: DecodeError;
    if (e instanceof DecodeError) err = e;
    else {
      err = new DecodeError(e instanceof Error ? e.message : String(e));
      err.cause = e;
    }
    err.path = joinPath(segment, err.path);
    err.message = err.path === "" ? err.detail : `${err.path}: ${err.detail}`;
    return err;
  }
}

/** joinPath("items", "[3].key") = "items[3].key"; joinPath("[3]", "key") = "[3].key". */
export function joinPath(segment: string, rest: string): string {
  if (rest === "") return segment;
  if (segment === "") return rest;
  return rest.charCodeAt(0) === 0x5b /* [ */ ? segment + rest : `${segment}.${rest}`;
}

/** A value would carry a MsgWriter past its limit (a frame over the peer's size limit); nothing past the limit was written. */
export class EncodeLimitError extends RangeError {
  override name = "EncodeLimitError";
  readonly code = "ENCODE_LIMIT";

  constructor(
    /** The writer's limit (an offset). */
    readonly limit: number,
    /** Where the cursor would have had to go. */
    readonly wanted: number,
  ) {
    super(`encoding would need ${wanted} bytes, over the limit of ${limit}`);
  }
}
