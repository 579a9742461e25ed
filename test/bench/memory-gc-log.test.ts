/** bench/memory/run.ts: heap allocated and heap left by each collection in a window of JSC's GC log. */
import { expect, test } from "bun:test";
import { allocatedInWindow, liveAfterCollections } from "../../bench/memory/run.ts";

const before = "[GC<0x1>: START M 9000kb => EdenCollection, ... => 4000kb, p=1ms END]\n";
const window = [
  "[GC<0x1>: START M 11000kb => EdenCollection, ... => 4500kb, p=1ms END]",
  "[GC<0x1>: START M 12000kb => EdenCollection, ... => 5000kb, p=1ms END]",
  "[GC<0x1>: START M 12500kb => EdenCollection, ... => 4800kb, p=1ms END]",
].join("\n");
const log = before + window;

test("allocated: the heap each collection in the window starts with, minus what the one before left", () => {
  // (11000-4000) + (12000-4500) + (12500-5000) KiB
  expect(allocatedInWindow(log, before.length, log.length)).toEqual({ bytes: 22000 * 1024, collections: 3 });
});

test("left: the median of what the window's collections left, not counting the one before it", () => {
  expect(liveAfterCollections(log, before.length, log.length)).toBe(4800);
  expect(liveAfterCollections(log, 0, before.length)).toBe(4000);
});

test("a window with no collection leaves NaN, not zero", () => {
  expect(liveAfterCollections(log, 0, 10)).toBeNaN();
});
