/**
 * Field paths for messages about a value, in the form DecodeError uses
 * (docs/ENCODING.md, section 8): `entries[2].key`, `attrs["tz"]`, `by_id[7]`.
 * Shared by the dynamic codec and the JSON mapping; owns the spelling only.
 */
import { peerText } from "../../codec/peer-text.ts";

/** `path` extended by a field or union variant name. */
export function fieldPath(path: string, name: string): string {
  return path === "" ? name : `${path}.${name}`;
}

/** `path` extended by a list index. */
export function indexPath(path: string, i: number): string {
  return `${path}[${i}]`;
}

/** `path` extended by a map key: a string key quoted, escaped and cut by peerText (as the generated codecs do), a number as written. */
export function keyPath(path: string, key: unknown): string {
  return typeof key === "string" ? `${path}[${peerText(key, { quote: true })}]` : `${path}[${String(key)}]`;
}
