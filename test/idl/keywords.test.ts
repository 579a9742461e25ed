/**
 * idl/keywords.ts is the one list of the language's words: every word the
 * parser compares a token with is in it (so the editor grammar's test, which
 * reads the list, sees a new keyword), and docs/IDL.md names the same
 * keywords in the same order.
 */
import { expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { KEYWORDS } from "../../idl/keywords.ts";

const root = new URL("../..", import.meta.url).pathname;

/** Words the parser tests tokens against: `isWord("x")` and `.text === "x"`. */
function parserWords(source: string): string[] {
  const words = new Set<string>();
  for (const m of source.matchAll(/isWord\("([A-Za-z_]+)"|\.text\s*[!=]==\s*"([A-Za-z_]+)"/g)) words.add((m[1] ?? m[2])!);
  return [...words].sort();
}

test("every word the parser matches is in KEYWORDS", () => {
  const words = parserWords(readFileSync(`${root}idl/parser.ts`, "utf8"));
  // The scan must see the parser's keyword tests at all (17 words seen today), or it proves nothing.
  expect(words.length).toBeGreaterThan(10);
  expect(words.filter((w) => !(KEYWORDS as readonly string[]).includes(w))).toEqual([]);
});

test("the scan finds a keyword the list lacks", () => {
  expect(parserWords(`if (isWord("oneway")) advance(); if (t.text === "struct") x();`)).toEqual(["oneway", "struct"]);
});

test("docs/IDL.md lists the same keywords in the same order", () => {
  const doc = readFileSync(`${root}docs/IDL.md`, "utf8");
  const sentence = /Keywords are \*contextual\*:([\s\S]*?) are\s+keywords only/.exec(doc);
  expect(sentence).not.toBeNull();
  const listed = [...sentence![1]!.matchAll(/`([a-z]+)`/g)].map((m) => m[1]);
  expect(listed).toEqual([...KEYWORDS]);
});
