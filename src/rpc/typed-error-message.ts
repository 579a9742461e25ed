/**
 * typedErrorMessage: the default message of a generated IDL error class, so
 * `new ItemNotFound({ sku: "abc" })` reads `ItemNotFound: sku="abc"` in a log
 * instead of only its code. The first line of the error's IDL doc comment,
 * when it has one, follows in parentheses. Field values are shown short and
 * bounded (describeValue; bigints without their `n`); absent optional fields
 * are left out. Owns the wording only; the classes are generated
 * (codegen/emit-errors.ts).
 */
import { describeValue } from "../codec/describe-value.ts";

/**
 * `KeyNotFound: key="user:42" (The key does not exist.)`; `name` is the
 * error's IDL name, `doc` the first line of its doc comment ("" for none),
 * `fields` its field names and values in IDL order.
 */
export function typedErrorMessage(name: string, doc: string, fields: readonly (readonly [string, unknown])[]): string {
  let shown = "";
  for (const [field, value] of fields) {
    if (value === undefined) continue;
    shown += `${shown === "" ? "" : ", "}${field}=${typeof value === "bigint" ? String(value) : describeValue(value)}`;
  }
  if (shown === "") return doc === "" ? name : `${name}: ${doc}`;
  return doc === "" ? `${name}: ${shown}` : `${name}: ${shown} (${doc})`;
}
