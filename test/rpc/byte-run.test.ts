/**
 * ByteRun, the word-at-a-time compare behind the server's method-path cache
 * and its plain REQUEST fast path: a run of any length matches itself and
 * nothing that differs in one byte, wherever the byte is (the first word,
 * a middle one, the overlapping last word, a run shorter than a word), and
 * never reaches past the reader's end.
 */
import { expect, test } from "bun:test";
import { MsgReader } from "../../src/codec/reader.ts";
import { ByteRun } from "../../src/rpc/byte-run.ts";

/** `n` bytes that differ from their neighbours, at offset 3 of a larger buffer (runs need not be aligned). */
function runAt(n: number, seed: number): { buf: Uint8Array; start: number } {
  const buf = new Uint8Array(n + 16);
  for (let i = 0; i < buf.length; i++) buf[i] = (i * 131 + seed * 17 + 7) & 0xff;
  return { buf, start: 3 };
}

test("a run of every length from 0 to 40 equals itself and nothing that differs in any one byte", () => {
  const checked: number[] = [];
  for (let n = 0; n <= 40; n++) {
    const { buf, start } = runAt(n, n);
    const r = new MsgReader(buf);
    const run = new ByteRun();
    run.set(r, start, start + n);
    expect(run.len).toBe(n);
    expect(run.equals(r, start, start + n)).toBe(true);
    // A copy elsewhere in another buffer matches too: the run was copied, not referenced.
    const other = new Uint8Array(n + 9);
    other.set(buf.subarray(start, start + n), 5);
    expect(run.equals(new MsgReader(other), 5, 5 + n)).toBe(true);
    for (let i = 0; i < n; i++) {
      const changed = other.slice();
      changed[5 + i] = changed[5 + i]! ^ 0x40;
      expect(run.equals(new MsgReader(changed), 5, 5 + n)).toBe(false);
    }
    // One byte longer or shorter is another run.
    expect(run.equals(r, start, start + n + 1)).toBe(false);
    if (n > 0) expect(run.equals(r, start, start + n - 1)).toBe(false);
    checked.push(n);
  }
  expect(checked.length).toBe(41);
});

test("startsAt: the run at an offset, only when it ends within the reader's input", () => {
  const { buf, start } = runAt(23, 1);
  const run = new ByteRun();
  run.set(new MsgReader(buf), start, start + 23);
  expect(run.startsAt(new MsgReader(buf), start)).toBe(true);
  expect(run.startsAt(new MsgReader(buf, 0, start + 23), start)).toBe(true);
  // The bytes are there in the buffer, but past the reader's end (the next frame's, say): no match.
  expect(run.startsAt(new MsgReader(buf, 0, start + 22), start)).toBe(false);
  expect(run.startsAt(new MsgReader(buf), start + 1)).toBe(false);
});

test("nothing matches before the first set(); set() replaces the run", () => {
  const { buf, start } = runAt(12, 2);
  const r = new MsgReader(buf);
  const run = new ByteRun();
  expect(run.equals(r, start, start)).toBe(false);
  expect(run.startsAt(r, start)).toBe(false);
  run.set(r, start, start + 12);
  expect(run.startsAt(r, start)).toBe(true);
  // A longer run after a shorter one (the word store grows), then a short one again.
  const long = runAt(70, 3);
  const lr = new MsgReader(long.buf);
  run.set(lr, long.start, long.start + 70);
  expect(run.equals(lr, long.start, long.start + 70)).toBe(true);
  expect(run.equals(r, start, start + 12)).toBe(false);
  run.set(r, start, start + 2);
  expect(run.equals(r, start, start + 2)).toBe(true);
  expect(run.equals(r, start + 1, start + 3)).toBe(false);
});
