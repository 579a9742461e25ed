/**
 * Shrinks a failing input while it keeps failing the same way: removes
 * halves, quarters, ... down to single bytes (delta debugging, bounded by a
 * budget of attempts), then lowers each remaining byte to 0 where it can.
 * Owns shrinking only: "fails the same way" is the caller's predicate.
 */

/** Attempts before the shrinker stops with what it has. */
const BUDGET = 3000;

export function minimise(input: Uint8Array, stillFails: (candidate: Uint8Array) => boolean): Uint8Array {
  let best = input;
  let attempts = 0;
  const tryCandidate = (c: Uint8Array): boolean => {
    if (attempts >= BUDGET) return false;
    attempts++;
    if (!stillFails(c)) return false;
    best = c;
    return true;
  };
  for (let size = best.length >> 1; size >= 1 && attempts < BUDGET; size = size >> 1) {
    let at = 0;
    while (at < best.length && attempts < BUDGET) {
      const candidate = new Uint8Array(best.length - Math.min(size, best.length - at));
      candidate.set(best.subarray(0, at));
      candidate.set(best.subarray(at + size), at);
      // On success the same offset now holds new bytes: try it again before moving on.
      if (!tryCandidate(candidate)) at += size;
    }
  }
  for (let i = 0; i < best.length && attempts < BUDGET; i++) {
    if (best[i] === 0) continue;
    const candidate = best.slice();
    candidate[i] = 0;
    tryCandidate(candidate);
  }
  return best;
}
