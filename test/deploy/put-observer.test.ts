/**
 * PutObserver.executions(), the rolling-restart test's judge of "no put ran
 * twice": a put seen by a watch and also found in the same server's store
 * (its event arrived after the store was asked) is one run, while a put
 * that ran on two servers, twice on one, or is at version 2 is reported.
 */
import { expect, test } from "bun:test";
import { PutObserver } from "./put-observer.ts";

/** An observer with the given watched runs (key -> servers) and store findings (key -> [server, version]). */
function observed(runs: Record<string, number[]>, stored: Record<string, [number, bigint]>): PutObserver {
  const o = new PutObserver();
  const inner = o as unknown as { runs: Map<string, number[]>; stored: Map<string, [number, bigint]> };
  for (const [k, v] of Object.entries(runs)) inner.runs.set(k, v);
  for (const [k, v] of Object.entries(stored)) inner.stored.set(k, v);
  return o;
}

test("a put watched on the server whose store also holds it at version 1 ran once", () => {
  const r = observed({ a: [0], b: [2] }, { a: [0, 1n], c: [1, 1n] }).executions();
  expect(r.twice).toEqual([]);
  expect(r.total).toBe(3);
  expect([...r.keys].sort()).toEqual(["a", "b", "c"]);
});

test("runs on two servers, two watched runs on one, or a version of 2 are each reported", () => {
  const r = observed({ a: [0, 1], b: [2, 2], c: [1], d: [0, 0] }, { c: [0, 1n], e: [1, 2n], d: [0, 1n] }).executions();
  expect(r.twice).toEqual([
    "a ran 2 times, on servers 0, 1",
    "b ran 2 times, on servers 2, 2",
    "c ran 2 times, on servers 1, 0 (at version 1 in server 0's store)",
    "d ran 2 times, on servers 0, 0 (at version 1 in server 0's store)",
    "e ran 2 times, on servers 1, 1 (at version 2 in server 1's store)",
  ]);
  expect(r.total).toBe(10);
});
