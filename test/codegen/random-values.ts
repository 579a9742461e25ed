/**
 * Seeded, bounded random values for any IDL type of a model: the generator
 * behind the codegen round-trip property tests. Biased toward format
 * boundaries (fixint/uint8/16/32 edges, empty and long strings, far dates).
 * Open enums and unions sometimes get what a newer peer would send: a number
 * that is not a member, a `{ kind: "$unknown", id, raw }` variant.
 * Not a test file itself.
 */
import type { EnumDecl, Model, StructDecl, TypeRef, UnionDecl } from "../../idl/model.ts";
import { MsgWriter } from "../../src/codec/index.ts";

/** mulberry32: small, fast, deterministic. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const INT_EDGES = [0, 1, -1, 31, 32, -32, -33, 127, 128, -128, -129, 255, 256, 32767, -32768, 65535, 65536, 2147483647, -2147483648];
const CHARS = ["a", "Z", "0", " ", "é", "€", "👍", "中", "\n", '"', "\\", "\u0000"];

export class RandomValues {
  constructor(
    private readonly model: Model,
    private readonly rand: () => number,
    private readonly maxDepth = 4,
  ) {}

  private int(lo: number, hi: number): number {
    return lo + Math.floor(this.rand() * (hi - lo + 1));
  }

  private pick<T>(xs: readonly T[]): T {
    return xs[Math.floor(this.rand() * xs.length)]!;
  }

  private chance(p: number): boolean {
    return this.rand() < p;
  }

  private bigintIn(lo: bigint, hi: bigint): bigint {
    if (this.chance(0.3)) return this.pick([lo, hi, 0n, lo + 1n, hi - 1n, 2n ** 53n, -(2n ** 53n)].filter((v) => v >= lo && v <= hi));
    const span = hi - lo + 1n;
    const r = (BigInt(Math.floor(this.rand() * 2 ** 32)) << 32n) | BigInt(Math.floor(this.rand() * 2 ** 32));
    const wide = (r << 32n) | BigInt(Math.floor(this.rand() * 2 ** 32));
    return lo + (wide % span);
  }

  private string(): string {
    const len = this.pick([0, 1, 5, 31, 32, 40, 300]);
    let s = "";
    for (let i = 0; i < len; i++) s += this.chance(0.7) ? String.fromCharCode(this.int(0x20, 0x7e)) : this.pick(CHARS);
    return s;
  }

  value(t: TypeRef, depth = 0): unknown {
    switch (t.kind) {
      case "scalar":
        switch (t.name) {
          case "bool": return this.chance(0.5);
          case "i32": return this.chance(0.4) ? this.pick(INT_EDGES) : this.int(-2147483648, 2147483647);
          case "u32": return this.chance(0.4) ? this.pick(INT_EDGES.filter((v) => v >= 0).concat([4294967295])) : this.int(0, 4294967295);
          case "i64": return this.bigintIn(-(2n ** 63n), 2n ** 63n - 1n);
          case "u64": return this.bigintIn(0n, 2n ** 64n - 1n);
          case "f64": return this.chance(0.2) ? this.pick([0, -0, 1.5, -1e300, Number.POSITIVE_INFINITY, Number.NaN, 2 ** 53]) : (this.rand() - 0.5) * 10 ** this.int(-5, 20);
          case "string": return this.string();
          case "bytes": return Uint8Array.from({ length: this.pick([0, 1, 16, 255, 256, 1000]) }, () => this.int(0, 255));
          case "timestamp": return new Date(this.chance(0.3) ? this.pick([0, -1, 1000, 1001, 2 ** 32 * 1000, 2 ** 34 * 1000, -8.64e15, 8.64e15]) : this.int(-1e13, 1e13));
        }
        break;
      case "list": {
        const n = depth >= this.maxDepth ? 0 : this.int(0, 4);
        return Array.from({ length: n }, () => this.value(t.elem, depth + 1));
      }
      case "map": {
        const n = depth >= this.maxDepth ? 0 : this.int(0, 3);
        if (t.key.kind === "scalar" && t.key.name === "string") {
          const o: Record<string, unknown> = {};
          for (let i = 0; i < n; i++) o[`${this.string()}#${i}`] = this.value(t.value, depth + 1);
          return o;
        }
        const m = new Map<unknown, unknown>();
        for (let i = 0; i < n; i++) m.set(this.value(t.key, depth + 1), this.value(t.value, depth + 1));
        return m;
      }
      case "ref": {
        const d = this.model.byName.get(t.qualifiedName)!;
        switch (d.kind) {
          case "enum":
            if (!d.closed && (d.values.length === 0 || this.chance(0.15))) return this.unknownNumber(d);
            return this.pick(d.values).value;
          case "union": {
            if (!d.closed && (d.variants.length === 0 || this.chance(0.15))) return this.unknownVariant(d);
            const v = this.pick(d.variants);
            return { kind: v.name, value: this.value(v.type, depth + 1) };
          }
          case "struct":
          case "error": return this.struct(d, depth + 1);
          default: throw new Error(`not a type: ${d.qualifiedName}`);
        }
      }
    }
    throw new Error("unreachable");
  }

  /** An i32 that is not a member of the enum. */
  unknownNumber(d: EnumDecl): number {
    for (;;) {
      const n = this.chance(0.5) ? this.pick(INT_EDGES) : this.int(-2147483648, 2147483647);
      if (!d.values.some((v) => v.value === n)) return n;
    }
  }

  /** A variant id the union does not declare, with one msgpack value of some shape as its bytes. */
  unknownVariant(d: UnionDecl): { kind: "$unknown"; id: number; raw: Uint8Array } {
    let id: number;
    do id = this.chance(0.5) ? this.int(1, 200) : this.int(1, 2 ** 29 - 1);
    while (d.variants.some((v) => v.id === id));
    const w = new MsgWriter(64);
    switch (this.int(0, 3)) {
      case 0: w.int(this.pick(INT_EDGES)); break;
      case 1: w.str(this.string()); break;
      case 2:
        w.mapHeader(2);
        w.int(1);
        w.f64(this.rand());
        w.int(2);
        w.arrayHeader(1);
        w.bin(new Uint8Array(this.int(0, 40)));
        break;
      default: w.timestamp(new Date(this.int(0, 1e12)));
    }
    return { kind: "$unknown", id, raw: w.bytes().slice() };
  }

  struct(d: Pick<StructDecl, "fields">, depth = 0): Record<string, unknown> {
    const o: Record<string, unknown> = {};
    for (const f of d.fields) {
      if (f.optional && (depth >= this.maxDepth || this.chance(0.4))) continue;
      o[f.name] = this.value(f.type, depth);
    }
    return o;
  }
}
