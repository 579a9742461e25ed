/**
 * The values an open enum or union holds when a peer sent something this
 * schema does not declare (docs/ENCODING.md, sections 3 and 4): an enum
 * number kept as a number (`UnknownEnum`), a union variant kept as its id and
 * its msgpack bytes (`UnknownVariant`), which an encoder writes back
 * unchanged. Owns the two types and the check of an unknown variant a user
 * hands to an encoder; the generated codecs do the reading and writing.
 */
import { MsgReader } from "./reader.ts";

declare const unknownEnumBrand: unique symbol;

/**
 * An enum number this schema does not name. A branded `number`: a generated
 * enum type is `0 | 1 | UnknownEnum`, so a `switch` over it is exhaustive
 * only with a branch for the rest, and a plain number literal is not
 * accepted where the enum is expected. The value itself is the number the
 * peer sent.
 */
export type UnknownEnum = number & { readonly [unknownEnumBrand]: true };

/** The `kind` of an unknown variant: `$` keeps it apart from every IDL variant name. */
export const UNKNOWN_VARIANT_KIND = "$unknown";

/**
 * A union variant this schema does not declare: its wire id and its value
 * as msgpack bytes (one complete value). Encoding it writes `{id: raw}`, the
 * bytes unchanged.
 */
export interface UnknownVariant {
  readonly kind: typeof UNKNOWN_VARIANT_KIND;
  readonly id: number;
  readonly raw: Uint8Array;
}

const MAX_VARIANT_ID = 2 ** 29 - 1;

/**
 * What is wrong with an unknown variant `v` (an object whose kind is
 * "$unknown"), as a validator's issue, or null: the id must be a variant id
 * (1 to 2^29-1) and `raw` exactly one well-formed msgpack value, so a writer
 * never sends bytes its peer would have to reject. The generated validator
 * also refuses an id the union declares.
 */
export function unknownVariantIssue(v: object): { path: string; message: string } | null {
  const { id, raw } = v as { id?: unknown; raw?: unknown };
  if (typeof id !== "number" || !Number.isInteger(id) || id < 1 || id > MAX_VARIANT_ID) {
    return { path: "id", message: `expected a variant id (an integer in [1, ${MAX_VARIANT_ID}]), got ${typeof id === "number" ? id : typeof id}` };
  }
  if (!(raw instanceof Uint8Array)) return { path: "raw", message: `expected one msgpack value (a Uint8Array), got ${raw === null ? "null" : typeof raw}` };
  const r = new MsgReader(raw);
  try {
    r.skip();
  } catch (e) {
    return { path: "raw", message: `expected one msgpack value: ${(e as Error).message}` };
  }
  if (!r.atEnd()) return { path: "raw", message: `expected one msgpack value, got ${raw.length - r.pos} bytes after it` };
  return null;
}
