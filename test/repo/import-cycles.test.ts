/**
 * No import cycles anywhere in the repository's TypeScript (type-only
 * imports included: a cycle of types is still two files that cannot be read
 * one without the other). A new cycle fails here with its files listed.
 */
import { expect, test } from "bun:test";
import { cycles, importGraph } from "./import-graph.ts";

test("the import graph has no cycles", () => {
  const graph = importGraph();
  expect(graph.size).toBeGreaterThan(200);
  expect(cycles(graph).map((c) => c.join(" <-> "))).toEqual([]);
});

test("the cycle search finds a cycle, a self-import and nothing in a chain", () => {
  const g = new Map<string, string[]>([
    ["a.ts", ["b.ts"]],
    ["b.ts", ["c.ts"]],
    ["c.ts", ["a.ts"]],
    ["d.ts", ["d.ts"]],
    ["e.ts", ["f.ts"]],
    ["f.ts", []],
  ]);
  expect(cycles(g)).toEqual([["a.ts", "b.ts", "c.ts"], ["d.ts"]]);
});
