/**
 * DecodeError: the one error type the msgpack reader and generated decoders
 * throw. It carries a field path ("items[3].key") that generated decoders
 * build on the way out by catching and rethrowing through `DecodeError.at`.
 * EncodeError: a value that cannot be encoded as its IDL type, in the
 * user's terms: which message, which field path, what was expected and what
 * was there (`GetReply.entry.key: expected string, got undefined`).
 * MsgWriter's primitives throw it without a path; a generated encoder's one
 * catch per message rebuilds the path with `EncodeError.locate`.
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

/** What a generated validator reports: the path of the first bad field and what is wrong there. */
export interface EncodeProblem {
  path: string;
  message: string;
}

/**
 * A value does not fit its IDL type (a string field holding 7, a u32 of -5,
 * a required field left undefined). `message` is
 * `<Message>.<path>: <detail>`, the message named by the last part of its
 * qualified name; `typeName`, `path` and `detail` are there for programs.
 */
export class EncodeError extends Error {
  override name = "EncodeError";
  readonly code = "ENCODE_ERROR";
  /** Qualified IDL name of the message being encoded ("kv.v1.GetReply"), "" when a bare primitive failed. */
  readonly typeName: string;
  /** Path of the bad field inside that message ("entry.key", "items[3].qty"), "" for the message itself. */
  readonly path: string;
  /** What was expected and what was there: "expected u32 (an integer in [0, 2^32-1]), got -5". */
  readonly detail: string;

  constructor(detail: string, typeName = "", path = "", cause?: unknown) {
    const where = typeName === "" ? path : joinPath(typeName.slice(typeName.lastIndexOf(".") + 1), path);
    super(where === "" ? detail : `${where}: ${detail}`, cause === undefined ? undefined : { cause });
    this.typeName = typeName;
    this.path = path;
    this.detail = detail;
  }

  /**
   * What a generated encoder of `typeName` throws after encoding `value`
   * failed with `e`. The path is rebuilt here, off the hot path: `check` (the
   * message's generated validator) walks the value again and names the first
   * bad field. A limit error passes through untouched (the frame layer turns
   * it into RESOURCE_EXHAUSTED); a failure the validator cannot see (a getter
   * that throws) is reported against the message with the original text.
   */
  static locate(e: unknown, typeName: string, value: unknown, check: (v: unknown) => EncodeProblem | null): unknown {
    if (e instanceof EncodeLimitError) return e;
    let problem: EncodeProblem | null = null;
    try {
      problem = check(value);
    } catch {
      // The value throws when read (a getter, a revoked Proxy): report the encoder's own error below.
    }
    if (problem !== null) return new EncodeError(problem.message, typeName, problem.path);
    if (e instanceof EncodeError && e.typeName === typeName) return e;
    return new EncodeError(e instanceof Error ? e.message : String(e), typeName, "", e);
  }
}
