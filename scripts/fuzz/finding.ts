/**
 * Finding: what an oracle reports when a property breaks. `property` is a
 * short stable name (it groups distinct failures in a long run); `detail`
 * says what was seen. Owns the type and the helper that names a thrown value.
 */

export interface Finding {
  property: string;
  detail: string;
}

/** "TypeError: x is undefined" for an Error, the String() of anything else. */
export function describeThrown(e: unknown): string {
  if (e instanceof Error) return `${e.name}: ${e.message}`;
  return `non-Error thrown: ${String(e)}`;
}

/** The class of a thrown value, for grouping findings: "TypeError", "RangeError", ... */
export function thrownKind(e: unknown): string {
  return e instanceof Error ? e.name : typeof e;
}
