/**
 * docs/ARCHITECTURE.md names files by path so a reader can follow them: each
 * path it mentions must exist, so a move or rename that forgets the map
 * fails here.
 */
import { expect, test } from "bun:test";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { root } from "./import-graph.ts";

const doc = readFileSync(join(root, "docs/ARCHITECTURE.md"), "utf8");
const paths = [...new Set([...doc.matchAll(/\b((?:src|idl|codegen|native|test|bench|docs|examples|scripts)\/[\w./-]*[\w/])/g)].map((m) => m[1]!))];

test("docs/ARCHITECTURE.md names files by path", () => {
  expect(paths.length).toBeGreaterThan(30);
});

test("every path in docs/ARCHITECTURE.md exists", () => {
  expect(paths.filter((p) => !existsSync(join(root, p)))).toEqual([]);
});
