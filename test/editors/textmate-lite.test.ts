/**
 * The small TextMate tokenizer the grammar tests run on: earliest match wins,
 * ties go to the first rule, captures split a match, begin/end rules stay
 * open across lines, and a missing include is an error rather than silence.
 */
import { expect, test } from "bun:test";
import { GrammarError, tokenize, type Grammar } from "./textmate-lite.ts";

const grammar: Grammar = {
  scopeName: "source.t",
  patterns: [{ include: "#comment" }, { include: "#words" }],
  repository: {
    comment: { name: "comment.block.t", begin: "/\\*", end: "\\*/" },
    words: {
      patterns: [
        { name: "keyword.first.t", match: "\\bab\\b" },
        { name: "keyword.second.t", match: "\\b(a)(b)?\\b", captures: { "1": { name: "x.t" }, "2": { name: "y.t" } } },
        { name: "keyword.late.t", match: "\\bzz\\b" },
      ],
    },
  },
};

const show = (text: string, g: Grammar = grammar) => tokenize(g, text).map((t) => `${t.line}:${t.text}=${t.scopes.join(" ") || "-"}`);

test("the earliest match wins and a tie goes to the rule listed first", () => {
  expect(show("zz ab")).toEqual(["1:zz=keyword.late.t", "1: =-", "1:ab=keyword.first.t"]);
});

test("captures split a match into scoped pieces", () => {
  expect(show("a")).toEqual(["1:a=keyword.second.t x.t"]);
});

test("a begin/end rule stays open across lines and its inner text takes its scope", () => {
  expect(show("zz /* ab\nab */ ab")).toEqual([
    "1:zz=keyword.late.t", "1: =-", "1:/*=comment.block.t", "1: ab=comment.block.t",
    "2:ab =comment.block.t", "2:*/=comment.block.t", "2: =-", "2:ab=keyword.first.t",
  ]);
});

test("an include of a missing repository entry is an error", () => {
  expect(() => tokenize({ scopeName: "source.t", patterns: [{ include: "#nope" }] }, "x")).toThrow(GrammarError);
});
