/**
 * MsgWriter.limit: a value that would carry the cursor past the limit throws
 * EncodeLimitError before the buffer grows for it (a frame far over its size
 * limit is refused without being copied), and values that fit are never
 * refused, not even a long string whose worst-case UTF-8 size would pass it.
 */
import { describe, expect, test } from "bun:test";
import { EncodeLimitError } from "../../src/codec/errors.ts";
import { MsgWriter } from "../../src/codec/writer.ts";

describe("MsgWriter limit", () => {
  test("a 64 MiB bin under a 1 MiB limit throws before the buffer grows", () => {
    const w = new MsgWriter(4096);
    w.limit = 1 << 20;
    const big = new Uint8Array(64 << 20);
    let err: unknown = null;
    try {
      w.bin(big);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(EncodeLimitError);
    expect((err as EncodeLimitError).wanted).toBe(5 + (64 << 20));
    expect(w.buf.length).toBeLessThan(1 << 20);
    expect(w.pos).toBe(0);
  });

  test("an ASCII string of 600 KiB fits a 1 MiB limit (its 3x UTF-8 bound would not)", () => {
    const w = new MsgWriter(4096);
    w.limit = 1 << 20;
    const s = "a".repeat(600 << 10);
    w.str(s);
    expect(w.pos).toBe(5 + s.length);
    expect(w.buf.subarray(5, 10)).toEqual(new Uint8Array([97, 97, 97, 97, 97]));
  });

  test("a non-ASCII string just over the limit is refused, one just under is written", () => {
    const under = "é".repeat(1000); // 2000 bytes of UTF-8
    const w = new MsgWriter(64);
    w.limit = 2003;
    w.str(under);
    expect(w.pos).toBe(3 + 2000);
    const w2 = new MsgWriter(64);
    w2.limit = 2002;
    expect(() => w2.str(under)).toThrow(EncodeLimitError);
  });

  test("without a limit the writer grows as before", () => {
    const w = new MsgWriter(16);
    w.bin(new Uint8Array(100_000));
    expect(w.pos).toBe(5 + 100_000);
    expect(w.limit).toBe(Infinity);
  });
});
