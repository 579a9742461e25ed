/**
 * Finds where the values of a valid msgpack input start and end, and which
 * of them carry a count or a length (arrays, maps, str, bin): the places
 * where a structure-aware mutation rewrites a header or swaps a whole
 * value (a map key included, so field ids too). A plain walk of the
 * format, written apart from MsgReader so a reader bug cannot hide here; it
 * stops at the first byte it does not understand. Owns the walk only.
 */

export interface ValueSpan {
  /** Offset of the lead byte. */
  at: number;
  /** Offset just past the whole value (its elements included). */
  end: number;
  family: "array" | "map" | "str" | "bin" | "scalar";
  /** Bytes of the header (lead byte included); the whole value for a scalar. */
  headerLen: number;
  /** The declared count (array, map) or byte length (str, bin); 0 for a scalar. */
  count: number;
}

function uint(b: Uint8Array, at: number, size: number): number {
  let v = 0;
  for (let k = 0; k < size; k++) v = v * 256 + b[at + k]!;
  return v;
}

/** Byte size of the fixed-size values by lead byte (ints, floats, nil, bools, timestamps). */
function fixedSize(lead: number): number {
  if (lead <= 0x7f || lead >= 0xe0 || lead === 0xc0 || lead === 0xc2 || lead === 0xc3) return 1;
  switch (lead) {
    case 0xcc: case 0xd0: return 2;
    case 0xcd: case 0xd1: return 3;
    case 0xce: case 0xd2: case 0xca: return 5;
    case 0xcf: case 0xd3: case 0xcb: return 9;
    case 0xd6: return 6;
    case 0xd7: return 10;
    default: return -1;
  }
}

function scalar(out: ValueSpan[], at: number, end: number, limit: number): number {
  if (end > limit) return -1;
  out.push({ at, end, family: "scalar", headerLen: end - at, count: 0 });
  return end;
}

/** Walks one value at `at`, collecting every value's span; returns the offset after it, or -1 when it cannot. */
function walk(b: Uint8Array, at: number, out: ValueSpan[], depth: number): number {
  if (at >= b.length || depth > 100) return -1;
  const lead = b[at]!;
  const size = fixedSize(lead);
  if (size > 0) return scalar(out, at, at + size, b.length);
  if (lead === 0xc7) return at + 2 < b.length ? scalar(out, at, at + 3 + b[at + 1]!, b.length) : -1;
  let family: ValueSpan["family"];
  let headerLen: number;
  let count: number;
  if ((lead & 0xf0) === 0x90) [family, headerLen, count] = ["array", 1, lead & 0x0f];
  else if ((lead & 0xf0) === 0x80) [family, headerLen, count] = ["map", 1, lead & 0x0f];
  else if ((lead & 0xe0) === 0xa0) [family, headerLen, count] = ["str", 1, lead & 0x1f];
  else {
    const wide: Record<number, [ValueSpan["family"], number]> = {
      0xdc: ["array", 2], 0xdd: ["array", 4], 0xde: ["map", 2], 0xdf: ["map", 4], 0xd9: ["str", 1], 0xda: ["str", 2], 0xdb: ["str", 4], 0xc4: ["bin", 1], 0xc5: ["bin", 2], 0xc6: ["bin", 4],
    };
    const w = wide[lead];
    if (w === undefined || at + 1 + w[1] > b.length) return -1;
    [family, headerLen, count] = [w[0], 1 + w[1], uint(b, at + 1, w[1])];
  }
  const span: ValueSpan = { at, end: -1, family, headerLen, count };
  out.push(span);
  let p = at + headerLen;
  if (family === "str" || family === "bin") p = p + count <= b.length ? p + count : -1;
  else {
    const items = family === "map" ? count * 2 : count;
    for (let i = 0; i < items && p >= 0; i++) p = walk(b, p, out, depth + 1);
  }
  span.end = p;
  return p;
}

/** Every value (containers, their elements, map keys) of the values starting at each offset in `starts`, in order; only whole ones. */
export function valueSpans(bytes: Uint8Array, starts: readonly number[]): ValueSpan[] {
  const out: ValueSpan[] = [];
  for (const s of starts) walk(bytes, s, out, 0);
  return out.filter((v) => v.end > v.at);
}
