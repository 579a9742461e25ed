/**
 * The mutation engine: turns one valid input into a hostile one with a few
 * stacked edits. Blind ones: bit flips, interesting bytes and msgpack
 * markers, inserted headers that claim huge or off-by-one counts,
 * truncation, extension, insertion, deletion, duplication, splicing with a
 * second input, edits of frame length prefixes. Structure-aware ones, on
 * the values msgpack-heads.ts finds: a real header rewritten to claim one
 * more (or far more) than remains, a whole value (a field id, an enum, a
 * nested struct) swapped for an edge value, an extra struct entry. Also the
 * cut points of a streaming feed. Deterministic for a given Rand. Owns byte
 * edits only; it knows msgpack but not schemas.
 */
import { valueSpans } from "./msgpack-heads.ts";
import type { Rand } from "./prng.ts";

/** Single bytes that sit on a msgpack type boundary or mean something special. */
const INTERESTING_BYTES = [
  0x00, 0x01, 0x7f, 0x80, 0x8f, 0x90, 0x9f, 0xa0, 0xbf, 0xc0, 0xc1, 0xc2, 0xc3, 0xc4, 0xc5, 0xc6, 0xc7, 0xca, 0xcb, 0xcc,
  0xcd, 0xce, 0xcf, 0xd0, 0xd3, 0xd4, 0xd6, 0xd7, 0xd9, 0xda, 0xdb, 0xdc, 0xdd, 0xde, 0xdf, 0xe0, 0xff,
];

/** Whole msgpack values at the edge of what a reader accepts (ints past 2^53, odd timestamps, foreign extensions). */
const INTERESTING_VALUES: readonly number[][] = [
  [0xcf, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff],
  [0xcf, 0x80, 0, 0, 0, 0, 0, 0, 0],
  [0xcf, 0, 0x20, 0, 0, 0, 0, 0, 0],
  [0xd3, 0x80, 0, 0, 0, 0, 0, 0, 0],
  [0xd3, 0x7f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff],
  [0xd3, 0xff, 0xdf, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff],
  [0xce, 0xff, 0xff, 0xff, 0xff],
  [0xce, 0x80, 0, 0, 0],
  [0xd2, 0x80, 0, 0, 0],
  [0xd1, 0x80, 0],
  [0xcb, 0x7f, 0xf8, 0, 0, 0, 0, 0, 1],
  [0xcb, 0x80, 0, 0, 0, 0, 0, 0, 0],
  [0xca, 0x7f, 0x80, 0, 0],
  [0xd6, 0xff, 0xff, 0xff, 0xff, 0xff],
  [0xd7, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff],
  [0xd7, 0xff, 0xee, 0x6b, 0x27, 0xfc, 0, 0, 0, 0],
  [0xc7, 0x0c, 0xff, 0, 0, 0, 0, 0x7f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff],
  [0xc7, 0x0c, 0xff, 0x3b, 0x9a, 0xca, 0, 0, 0, 0, 0, 0, 0, 0, 0],
  [0xc7, 0x04, 0xff, 0, 0, 0, 0],
  [0xd6, 0x00, 0, 0, 0, 0],
  [0xd4, 0x01, 0x00],
  [0xc8, 0, 1, 0xff, 0],
  [0xc1],
  [0xa3, 0xed, 0xa0, 0x80],
  [0xa2, 0xc3, 0x28],
  [0xa9, 0x5f, 0x5f, 0x70, 0x72, 0x6f, 0x74, 0x6f, 0x5f, 0x5f],
];

/** Integers at the edges of enums, i32, u32 and safe-integer ranges, as whole msgpack values. */
const EDGE_INTS: readonly number[][] = [
  [0x00], [0x01], [0x02], [0x03], [0x04], [0x7f], [0xff], [0xe0], [0xfb], [0xcc, 0x80], [0xcc, 0xff], [0xcd, 0xff, 0xff],
  [0xce, 0x7f, 0xff, 0xff, 0xff], [0xce, 0x80, 0, 0, 0], [0xce, 0xff, 0xff, 0xff, 0xff], [0xcf, 0, 0, 0, 1, 0, 0, 0, 0],
  [0xd0, 0x80], [0xd2, 0x80, 0, 0, 0], [0xd3, 0xff, 0xff, 0xff, 0xff, 0x7f, 0xff, 0xff, 0xff], [0xd3, 0, 0, 0, 0, 0, 0, 0, 5],
  [0xcb, 0x3f, 0xf8, 0, 0, 0, 0, 0, 0], [0xca, 0x3f, 0xc0, 0, 0],
];

/** Headers whose count/length field is `size` bytes wide. */
const SIZED_HEADERS: readonly [marker: number, size: number][] = [
  [0xdc, 2], [0xdd, 4], [0xde, 2], [0xdf, 4], [0xd9, 1], [0xda, 2], [0xdb, 4], [0xc4, 1], [0xc5, 2], [0xc6, 4],
];

export interface MutationInput {
  /** Where the inputs' u32 length prefixes start (frame streams), or empty. */
  lengthFields: readonly number[];
  /** A second valid input, for splicing. */
  other: Uint8Array;
  /** The frame size limit, for length-prefix edits at its boundary. */
  limit: number;
}

export interface Mutation {
  bytes: Uint8Array;
  /** What was done, in order, e.g. "flip@12", "huge(dd=4294967295)@3". */
  ops: string[];
}

function concat(...parts: Uint8Array[]): Uint8Array {
  let n = 0;
  for (const p of parts) n += p.length;
  const out = new Uint8Array(n);
  let off = 0;
  for (const p of parts) {
    out.set(p, off);
    off += p.length;
  }
  return out;
}

function writeUint(into: Uint8Array, at: number, size: number, v: number): void {
  for (let k = size - 1; k >= 0; k--) {
    into[at + k] = v & 0xff;
    v = Math.floor(v / 256);
  }
}

/** A count for a header at `at`: the widest, the exact room left, one past it, or random. */
function boundaryCount(rand: Rand, size: number, room: number, marker: number): number {
  const max = size === 1 ? 0xff : size === 2 ? 0xffff : 0xffffffff;
  const isMap = marker === 0xde || marker === 0xdf;
  const exact = Math.max(0, isMap ? Math.floor(room / 2) : room);
  const choices = [max, exact, exact + 1, exact + 2, Math.max(0, exact - 1), rand.int(0, max)];
  return Math.min(max, rand.pick(choices));
}

/** A small random msgpack value, sometimes one a reader must refuse (c1, foreign extension) or one nested past 64 levels. */
function randomValue(rand: Rand, depth = 0): number[] {
  switch (rand.below(depth > 2 ? 7 : 10)) {
    case 0: return [0xc0];
    case 1: return [rand.pick([0xc2, 0xc3])];
    case 2: return [rand.below(0x80)];
    case 3: return [...rand.pick(INTERESTING_VALUES)];
    case 4: {
      const n = rand.pick([0, 1, 3, 31, 32]);
      return [...(n < 32 ? [0xa0 | n] : [0xd9, n]), ...Array.from({ length: n }, () => 0x61 + rand.below(26))];
    }
    case 5: {
      const n = rand.pick([0, 1, 4]);
      return [0xc4, n, ...rand.bytes(n)];
    }
    case 6: {
      const k = rand.pick([63, 64, 65, 200]);
      return [...new Array<number>(k).fill(0x91), 0xc0];
    }
    case 7: {
      const n = rand.int(0, 3);
      return [0x90 | n, ...Array.from({ length: n }, () => randomValue(rand, depth + 1)).flat()];
    }
    case 8: {
      const n = rand.int(0, 2);
      return [0x80 | n, ...Array.from({ length: n }, () => [...randomValue(rand, depth + 1), ...randomValue(rand, depth + 1)]).flat()];
    }
    default:
      return [0xd6, 0xff, ...rand.bytes(4)];
  }
}

/** Where the msgpack values of the input start: each frame body, or the whole input. */
function starts(m: MutationInput): number[] {
  return m.lengthFields.length > 0 ? m.lengthFields.map((x) => x + 4) : [0];
}

/** One edit; returns the new bytes and its name. `shifted` says whether earlier edits moved bytes around. */
function mutateOnce(rand: Rand, b: Uint8Array, m: MutationInput, shifted: boolean): [Uint8Array, string, boolean] {
  const n = b.length;
  const at = rand.below(n + 1);
  const op = rand.below(19);
  switch (op) {
    case 0: {
      if (n === 0) break;
      const i = rand.below(n);
      const bit = rand.below(8);
      const out = b.slice();
      out[i]! ^= 1 << bit;
      return [out, `flip(bit ${bit})@${i}`, shifted];
    }
    case 1: {
      if (n === 0) break;
      const i = rand.below(n);
      const v = rand.pick(INTERESTING_BYTES);
      const out = b.slice();
      out[i] = v;
      return [out, `byte(0x${v.toString(16)})@${i}`, shifted];
    }
    case 2: {
      if (n === 0) break;
      const i = rand.below(n);
      const d = rand.pick([-1, 1, -16, 16, rand.int(-35, 35)]);
      const out = b.slice();
      out[i] = (out[i]! + d) & 0xff;
      return [out, `add(${d})@${i}`, shifted];
    }
    case 3: {
      const [marker, size] = rand.pick(SIZED_HEADERS);
      const insert = rand.chance(0.5);
      const room = (insert ? n : n - Math.min(n, 1 + size)) - at;
      const count = boundaryCount(rand, size, room, marker);
      const head = new Uint8Array(1 + size);
      head[0] = marker;
      writeUint(head, 1, size, count);
      const out = insert ? concat(b.subarray(0, at), head, b.subarray(at)) : concat(b.subarray(0, at), head, b.subarray(Math.min(n, at + 1 + size)));
      return [out, `huge(${marker.toString(16)}=${count})@${at}${insert ? "+" : ""}`, true];
    }
    case 4: {
      const v = Uint8Array.from(rand.pick(INTERESTING_VALUES));
      const insert = rand.chance(0.5);
      const out = insert ? concat(b.subarray(0, at), v, b.subarray(at)) : concat(b.subarray(0, at), v, b.subarray(Math.min(n, at + v.length)));
      return [out, `value(${Buffer.from(v).toString("hex")})@${at}${insert ? "+" : ""}`, true];
    }
    case 5:
      return [b.slice(0, at), `truncate@${at}`, true];
    case 6: {
      const extra = rand.chance(0.5) || n === 0 ? rand.bytes(rand.int(1, 16)) : b.slice(rand.below(n), n);
      return [concat(b, extra), `extend(${extra.length})`, true];
    }
    case 7: {
      const ins = rand.bytes(rand.int(1, 8));
      return [concat(b.subarray(0, at), ins, b.subarray(at)), `insert(${ins.length})@${at}`, true];
    }
    case 8: {
      const len = rand.int(1, 16);
      return [concat(b.subarray(0, at), b.subarray(Math.min(n, at + len))), `delete(${len})@${at}`, true];
    }
    case 9: {
      const len = rand.int(1, 32);
      const end = Math.min(n, at + len);
      return [concat(b.subarray(0, end), b.subarray(at, end), b.subarray(end)), `duplicate(${end - at})@${at}`, true];
    }
    case 10: {
      const o = m.other;
      const j = rand.below(o.length + 1);
      return [concat(b.subarray(0, at), o.subarray(j)), `splice@${at}+other@${j}`, true];
    }
    case 11:
    case 12: {
      if (m.lengthFields.length === 0 || n < 4) break;
      // After a shift the recorded prefix offsets are stale: edit four bytes anywhere instead.
      const i = shifted ? rand.below(n - 3) : rand.pick(m.lengthFields);
      if (i + 4 > n) break;
      const cur = ((b[i]! << 24) | (b[i + 1]! << 16) | (b[i + 2]! << 8) | b[i + 3]!) >>> 0;
      const v = rand.pick([0, 1, cur - 1, cur + 1, cur + rand.int(2, 64), m.limit, m.limit + 1, 0x7fffffff, 0x80000000, 0xffffffff, rand.int(0, 0xffffffff)]) >>> 0;
      const out = b.slice();
      writeUint(out, i, 4, v);
      return [out, `length(${cur}->${v})@${i}`, shifted];
    }
    case 13: {
      // A struct is a map at the top: add one entry (a known id with a value of any type, or an unknown id) at its end.
      if (n === 0 || (b[0]! & 0xf0) !== 0x80 || b[0] === 0x8f) break;
      const id = rand.pick([0, 1, 2, 3, 4, 5, 6, 7, 99, 0x7f, -1, 0x1fffffff]);
      const idBytes = id < 0 ? [0xff] : id < 0x80 ? [id] : [0xce, (id >>> 24) & 0xff, (id >>> 16) & 0xff, (id >>> 8) & 0xff, id & 0xff];
      const value = randomValue(rand);
      const out = concat(b, Uint8Array.from(idBytes), Uint8Array.from(value));
      out[0] = b[0]! + 1;
      return [out, `field(${id}=${Buffer.from(value.slice(0, 12)).toString("hex")}${value.length > 12 ? "..." : ""})`, true];
    }
    case 15:
    case 16: {
      // Rewrite a real header of the valid input (only before any shift: afterwards its offsets are stale).
      if (shifted) break;
      const heads = valueSpans(b, starts(m)).filter((v) => v.family !== "scalar");
      if (heads.length === 0) break;
      const h = rand.pick(heads);
      const markers: Record<string, [number, number][]> = {
        array: [[0xdc, 2], [0xdd, 4]],
        map: [[0xde, 2], [0xdf, 4]],
        str: [[0xd9, 1], [0xda, 2], [0xdb, 4]],
        bin: [[0xc4, 1], [0xc5, 2], [0xc6, 4]],
      };
      const [marker, size] = rand.pick(markers[h.family]!);
      const room = n - (h.at + 1 + size);
      const max = size === 1 ? 0xff : size === 2 ? 0xffff : 0xffffffff;
      const fits = h.family === "map" ? Math.floor(room / 2) : room;
      const count = Math.min(max, rand.pick([fits + 1, fits, fits + 2, h.count + 1, Math.max(0, h.count - 1), max, rand.int(0, max)]));
      const head = new Uint8Array(1 + size);
      head[0] = marker;
      writeUint(head, 1, size, count);
      const out = concat(b.subarray(0, h.at), head, b.subarray(h.at + h.headerLen));
      return [out, `resize(${h.family} ${h.count}->${marker.toString(16)}=${count})@${h.at}`, out.length !== n];
    }
    case 17:
    case 18: {
      // Swap one whole value of the valid input (a field id, an enum, a nested struct...) for an edge value.
      if (shifted) break;
      const spans = valueSpans(b, starts(m));
      if (spans.length === 0) break;
      const v = rand.pick(spans);
      const repl = Uint8Array.from(rand.chance(0.6) ? rand.pick(EDGE_INTS) : randomValue(rand));
      const out = concat(b.subarray(0, v.at), repl, b.subarray(v.end));
      return [out, `swap(${v.family} ${v.end - v.at}b->${Buffer.from(repl.slice(0, 12)).toString("hex")})@${v.at}`, out.length !== n];
    }
    case 14: {
      const v = Uint8Array.from(randomValue(rand));
      return [concat(b.subarray(0, at), v, b.subarray(Math.min(n, at + 1))), `replace(${v.length} bytes)@${at}`, true];
    }
  }
  return [concat(b, rand.bytes(1)), "extend(1)", true];
}

/** Applies 1-4 stacked edits (mostly one or two) to `input`; never changes `input` itself. */
export function mutate(rand: Rand, input: Uint8Array, m: MutationInput): Mutation {
  const rounds = rand.pick([1, 1, 1, 2, 2, 3, 4]);
  let bytes = input;
  let shifted = false;
  const ops: string[] = [];
  for (let k = 0; k < rounds; k++) {
    const [next, name, moved] = mutateOnce(rand, bytes, m, shifted);
    bytes = next;
    shifted = moved;
    ops.push(name);
  }
  return { bytes: bytes === input ? input.slice() : bytes, ops };
}

/** Cut points for feeding `n` bytes to a streaming decoder: none, one-byte chunks, or a few random ones. */
export function splitPoints(rand: Rand, n: number): number[] {
  const style = rand.below(6);
  if (n <= 1 || style === 0) return [];
  if (style === 1 && n <= 512) return Array.from({ length: n - 1 }, (_, i) => i + 1);
  const k = rand.int(1, Math.min(8, n - 1));
  const cuts = new Set<number>();
  for (let i = 0; i < k; i++) cuts.add(rand.int(1, n - 1));
  return [...cuts].sort((a, b) => a - b);
}
