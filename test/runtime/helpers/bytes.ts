/**
 * Byte helpers for driver tests: deterministic payloads and a comparison
 * that names the first differing offset instead of dumping megabytes.
 */

/** n bytes of a pattern that differs per seed and per offset (no period of 256 aligned to chunks). */
export function fillPattern(buf: Uint8Array, seed = 0): Uint8Array {
  let x = (seed * 2654435761 + 1) >>> 0;
  for (let i = 0; i < buf.length; i++) {
    x = (x * 1103515245 + 12345) >>> 0;
    buf[i] = x >>> 24;
  }
  return buf;
}

/** "equal" or a description of the first difference. */
export function compareBytes(actual: Uint8Array, expected: Uint8Array): string {
  if (actual.length !== expected.length) return `length ${actual.length}, expected ${expected.length}`;
  for (let i = 0; i < actual.length; i++) {
    if (actual[i] !== expected[i]) return `first difference at byte ${i}: ${actual[i]} != ${expected[i]}`;
  }
  return "equal";
}

export function ascii(s: string): Uint8Array {
  return new TextEncoder().encode(s);
}

/** True when two views share any byte of the same backing memory. */
export function overlaps(a: Uint8Array, b: Uint8Array): boolean {
  if (a.buffer !== b.buffer) return false;
  const aEnd = a.byteOffset + Math.max(a.byteLength, 1);
  const bEnd = b.byteOffset + Math.max(b.byteLength, 1);
  return a.byteOffset < bEnd && b.byteOffset < aEnd;
}
