/**
 * The docs test's markdown reader: which blocks it takes, the markers, names
 * and line numbers it reads, and the marker mistakes it refuses (a typo in a
 * marker must not turn into a silently unchecked block).
 */
import { expect, test } from "bun:test";
import { extractSnippets, SnippetMarkerError } from "./snippet-extractor.ts";

const doc = [
  "# Title",                                   // 1
  "```sh",                                     // 2
  "npm test",                                  // 3
  "```",                                       // 4
  "1. A step:",                                // 5
  "   <!-- snippet: run prints \"a b\" \"c\" -->", // 6
  "   ```ts",                                  // 7
  "   // client.ts",                           // 8
  "   const x: number = 1;",                   // 9
  "   ```",                                    // 10
  "<!-- snippet: fragment: uses rt from above -->", // 11
  "",                                          // 12
  "```typescript",                             // 13
  "rt.close();",                               // 14
  "```",                                       // 15
  "```ridl",                                   // 16
  "// kv.ridl",                                // 17
  "package kv.v1;",                            // 18
  "```",                                       // 19
  "<!-- snippet: server -->",                  // 20
  "```ts",                                     // 21
  "serve();",                                  // 22
  "```",                                       // 23
].join("\n");

test("takes ts, typescript and ridl blocks with their markers, names and first code line", () => {
  const s = extractSnippets("X.md", doc);
  expect(s.map((b) => [b.line, b.lang, b.mode, b.name, b.reason, b.prints])).toEqual([
    [8, "ts", "run", "client.ts", null, ["a b", "c"]],
    [14, "ts", "fragment", null, "uses rt from above", []],
    [17, "ridl", "check", "kv.ridl", null, []],
    [22, "ts", "server", null, null, []],
  ]);
  expect(s[0]!.code).toBe("// client.ts\nconst x: number = 1;\n");
});

test("refuses an unknown marker, a fragment without a reason and a marker before an unchecked block", () => {
  const bad = (md: string) => {
    try {
      extractSnippets("X.md", md);
      return "accepted";
    } catch (e) {
      return e instanceof SnippetMarkerError ? e.message : `other error: ${String(e)}`;
    }
  };
  expect(bad("<!-- snippet: skip -->\n```ts\nx\n```")).toContain('X.md:1: unknown snippet marker "skip"');
  expect(bad("<!-- snippet: fragment: -->\n```ts\nx\n```")).toContain("unknown snippet marker");
  expect(bad("<!-- snippet: run -->\n```sh\nx\n```")).toBe("X.md:1: snippet marker before a ```sh block, which is not checked");
  expect(bad("<!-- snippet: run -->\ntext\n```ts\nx\n```")).toBe("X.md:1: snippet marker not followed by a code block");
  expect(bad("```ts\nx\n")).toBe("X.md:1: code block never closed");
});
