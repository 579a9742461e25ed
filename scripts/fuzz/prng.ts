/**
 * The fuzzer's randomness: a small seeded generator (mulberry32, the one the
 * codegen property tests use) behind a helper class, and the derivation of
 * one independent stream per case from (seed, case index), so any single
 * case can be replayed without running the ones before it. Owns randomness
 * only; nothing here knows about inputs.
 */
import { seededRandom } from "../../test/codegen/random-values.ts";

/** A 32-bit seed for case `index` of run `seed` (a splitmix-style mix, so neighbouring cases differ in every bit). */
export function caseSeed(seed: number, index: number): number {
  let h = Math.imul((seed >>> 0) ^ 0x9e3779b9, 0x85ebca6b) ^ Math.imul(index >>> 0, 0xc2b2ae35);
  h ^= h >>> 16;
  h = Math.imul(h, 0x7feb352d);
  h ^= h >>> 15;
  h = Math.imul(h, 0x846ca68b);
  h ^= h >>> 16;
  return h >>> 0;
}

export class Rand {
  /** The underlying [0, 1) source, for code that takes a plain function (RandomValues). */
  readonly next: () => number;

  constructor(seed: number) {
    this.next = seededRandom(seed);
  }

  /** An integer in [lo, hi], both included. */
  int(lo: number, hi: number): number {
    return lo + Math.floor(this.next() * (hi - lo + 1));
  }

  /** An index in [0, n). */
  below(n: number): number {
    return Math.floor(this.next() * n);
  }

  chance(p: number): boolean {
    return this.next() < p;
  }

  pick<T>(xs: readonly T[]): T {
    return xs[this.below(xs.length)]!;
  }

  bytes(n: number): Uint8Array {
    const out = new Uint8Array(n);
    for (let i = 0; i < n; i++) out[i] = this.below(256);
    return out;
  }
}
