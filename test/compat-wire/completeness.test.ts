/**
 * The wire-truth suite covers the whole rule set: every rule of
 * COMPAT_RULES (idl/compat-rules.ts) is expected by at least one fixture
 * pair in test/compat-wire/pairs/, so a new rule without a pair fails here,
 * and every rule id a pair expects is a known rule. Every pair says what
 * changes and what the wire does with it.
 */
import { expect, test } from "bun:test";
import { COMPAT_RULES, compatRule } from "../../idl/index.ts";
import { loadPairs } from "./pairs.ts";

const pairs = loadPairs();

test("every rule in the rule set has a pair that proves its verdict", () => {
  const covered = new Set(pairs.flatMap((p) => p.expect));
  expect(COMPAT_RULES.map((r) => r.id).filter((id) => !covered.has(id))).toEqual([]);
});

test("every rule id a pair expects is a known rule", () => {
  const unknown = pairs.flatMap((p) => p.expect.filter((id) => compatRule(id) === undefined).map((id) => `${p.name}: ${id}`));
  expect(unknown).toEqual([]);
});

test("every pair says what changes and what the wire does", () => {
  expect(pairs.filter((p) => p.change === "" || p.wire === "").map((p) => p.name)).toEqual([]);
  expect(pairs.length).toBeGreaterThan(40);
});
