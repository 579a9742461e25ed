/**
 * Structural equality of decoded IDL values, as the round-trip property
 * needs it: bigints and numbers by value (NaN equals NaN, 0 and -0 differ),
 * Dates by time, Uint8Arrays byte by byte, Maps entry by entry in order,
 * arrays element by element, and objects by their defined own keys (an
 * absent optional field and one set to undefined are the same; prototypes
 * are ignored, so a null-prototype map equals a plain object). Returns the
 * path of the first difference, or null. Owns equality only.
 */

function definedKeys(o: object): string[] {
  return Object.keys(o)
    .filter((k) => (o as Record<string, unknown>)[k] !== undefined)
    .sort();
}

/** String() that keeps the sign of -0 and marks bigints. */
function show(x: unknown): string {
  if (Object.is(x, -0)) return "-0";
  return typeof x === "bigint" ? `${x}n` : String(x);
}

export function firstDifference(a: unknown, b: unknown, path = ""): string | null {
  const here = path === "" ? "(root)" : path;
  if (typeof a !== typeof b) return `${here}: ${typeof a} vs ${typeof b}`;
  if (typeof a !== "object" || a === null || b === null) return Object.is(a, b) ? null : `${here}: ${show(a)} vs ${show(b)}`;
  if (a instanceof Date || b instanceof Date) {
    if (!(a instanceof Date && b instanceof Date)) return `${here}: Date vs non-Date`;
    return Object.is(a.getTime(), b.getTime()) ? null : `${here}: ${a.getTime()} vs ${b.getTime()} ms`;
  }
  if (a instanceof Uint8Array || b instanceof Uint8Array) {
    if (!(a instanceof Uint8Array && b instanceof Uint8Array)) return `${here}: bytes vs non-bytes`;
    if (a.length !== b.length) return `${here}: ${a.length} vs ${b.length} bytes`;
    for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return `${here}[${i}]: byte ${a[i]} vs ${b[i]}`;
    return null;
  }
  if (a instanceof Map || b instanceof Map) {
    if (!(a instanceof Map && b instanceof Map)) return `${here}: Map vs non-Map`;
    if (a.size !== b.size) return `${here}: ${a.size} vs ${b.size} entries`;
    const ea = [...a.entries()];
    const eb = [...b.entries()];
    for (let i = 0; i < ea.length; i++) {
      const d = firstDifference(ea[i]![0], eb[i]![0], `${path}{key ${i}}`) ?? firstDifference(ea[i]![1], eb[i]![1], `${path}[${String(ea[i]![0])}]`);
      if (d !== null) return d;
    }
    return null;
  }
  if (Array.isArray(a) || Array.isArray(b)) {
    if (!(Array.isArray(a) && Array.isArray(b))) return `${here}: array vs non-array`;
    if (a.length !== b.length) return `${here}: ${a.length} vs ${b.length} elements`;
    for (let i = 0; i < a.length; i++) {
      const d = firstDifference(a[i], b[i], `${path}[${i}]`);
      if (d !== null) return d;
    }
    return null;
  }
  const ka = definedKeys(a);
  const kb = definedKeys(b as object);
  if (ka.join("\u0000") !== kb.join("\u0000")) return `${here}: keys [${ka.join(", ")}] vs [${kb.join(", ")}]`;
  for (const k of ka) {
    const d = firstDifference((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k], path === "" ? k : `${path}.${k}`);
    if (d !== null) return d;
  }
  return null;
}
