/**
 * docs/IDL.md's compatibility rule table is the rule set of
 * idl/compat-rules.ts, rendered by scripts/compat-rules-doc.ts: a rule
 * added, renamed or reworded without regenerating the doc fails here.
 */
import { expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { COMPAT_RULES } from "../../idl/index.ts";
import { BEGIN, DOC_PATH, END, renderRulesTable, withRulesTable } from "../../scripts/compat-rules-doc.ts";

const doc = readFileSync(DOC_PATH, "utf8");

test("docs/IDL.md holds the current rule table (run bun scripts/compat-rules-doc.ts)", () => {
  expect(withRulesTable(doc)).toBe(doc);
});

test("the table has one row per rule, each with its category and wire reason", () => {
  const table = doc.slice(doc.indexOf(BEGIN) + BEGIN.length, doc.indexOf(END)).trim().split("\n");
  expect(table.slice(2).map((row) => row.split(" | ")[0]!.replace(/^\| `|`$/g, ""))).toEqual(COMPAT_RULES.map((r) => r.id));
  const cell = (t: string): string => t.replaceAll("|", "\\|");
  for (const r of COMPAT_RULES) expect(table).toContain(`| \`${r.id}\` | ${r.category} | ${cell(r.summary)} | ${cell(r.wire)} | ${cell(r.fix)} |`);
  expect(renderRulesTable().split("\n").length).toBe(COMPAT_RULES.length + 2);
});

test("a doc without the markers is an error, not a silent pass", () => {
  expect(() => withRulesTable("# no table here\n")).toThrow("markers");
});
