/**
 * peerText (src/codec/peer-text.ts): what it keeps, what it escapes and how
 * it cuts, with every expected string written out by hand.
 */
import { describe, expect, test } from "bun:test";
import { PEER_TEXT_MAX_CHARS, peerText } from "../../src/codec/peer-text.ts";

describe("peerText", () => {
  test("printable text, ASCII or not, comes back unchanged", () => {
    expect(peerText("test.v1.Test/echo")).toBe("test.v1.Test/echo");
    expect(peerText("héllo 日本 😀 a\\b \"q\"")).toBe("héllo 日本 😀 a\\b \"q\"");
    expect(peerText("")).toBe("");
  });

  test("control characters become \\xNN; format, separator, surrogate and private-use characters \\u{N}", () => {
    expect(peerText("a\nb\r\t\x00\x1b[31m\x7f\x85\x9f")).toBe("a\\x0ab\\x0d\\x09\\x00\\x1b[31m\\x7f\\x85\\x9f");
    expect(peerText("x\u202ey\u2066\u200b\u2028\u2029\ufeff\ud800\ue000z")).toBe("x\\u{202e}y\\u{2066}\\u{200b}\\u{2028}\\u{2029}\\u{feff}\\u{d800}\\u{e000}z");
  });

  test("quote: true wraps in double quotes and escapes the quote and the backslash", () => {
    expect(peerText('a"b\\c', { quote: true })).toBe('"a\\x22b\\x5cc"');
    expect(peerText("Bad", { quote: true })).toBe('"Bad"');
  });

  test("text over the limit keeps its first 128 characters and says its whole size in UTF-8 bytes", () => {
    expect(PEER_TEXT_MAX_CHARS).toBe(128);
    expect(peerText("a".repeat(128))).toBe("a".repeat(128));
    expect(peerText("a".repeat(129))).toBe(`${"a".repeat(128)}…(129 bytes)`);
    expect(peerText("é".repeat(200))).toBe(`${"é".repeat(128)}…(400 bytes)`);
    expect(peerText("\n".repeat(300), { maxChars: 2 })).toBe("\\x0a\\x0a…(300 bytes)");
    expect(peerText("k".repeat(10), { quote: true, maxChars: 3 })).toBe('"kkk"…(10 bytes)');
  });

  test("an emoji counts as one character and four bytes; a lone surrogate as three bytes", () => {
    expect(peerText("😀😀😀", { maxChars: 1 })).toBe("😀…(12 bytes)");
    expect(peerText("\ud800\ud800", { maxChars: 1 })).toBe("\\u{d800}…(6 bytes)");
  });

  test("its output is printable, so a second pass changes nothing", () => {
    const once = peerText("a\x1b\u202e\"\\b".repeat(50));
    expect(peerText(once, { maxChars: 10_000 })).toBe(once);
  });
});
