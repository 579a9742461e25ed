/** bench/client-profile/gc-log.ts: heap bytes allocated between markers, read from JSC's GC log. */
import { describe, expect, test } from "bun:test";
import { ALLOC_END, ALLOC_START, allocatedBetweenMarkers } from "../../bench/client-profile/gc-log.ts";

const log = [
  "[GC<0x1>: START M 80000kb => FullCollection, v=0kb ...]",
  "[GC<0x1>: Full sweep: 80000kb => 75000kb, 1.4ms]",
  ALLOC_START,
  "Requesting GC because bytes allocated this cycle: 8389257 exceed bytes allowed",
  "[GC<0x1>: START M 85000kb => EdenCollection, ... => 76000kb, p=0.9ms END]",
  "[GC<0x1>: START M 86000kb => EdenCollection, ... => 75500kb, p=0.9ms END]",
  ALLOC_END,
  "[GC<0x1>: START M 75600kb => FullCollection, v=0kb ...]",
  "[GC<0x1>: Full sweep: 75600kb => 75000kb, 1.4ms]",
].join("\n");

describe("allocatedBetweenMarkers", () => {
  test("adds the growth before each collection, up to the one after the end marker", () => {
    // (85000-75000) + (86000-76000) + (75600-75500) KiB
    expect(allocatedBetweenMarkers(log)).toEqual({ bytes: 20100 * 1024, collections: 2 });
  });

  test("a log without markers or collections is an error, not zero", () => {
    expect(() => allocatedBetweenMarkers("no markers")).toThrow(/markers/);
    expect(() => allocatedBetweenMarkers(`${ALLOC_START}\n${ALLOC_END}\n`)).toThrow(/BUN_JSC_logGC/);
    expect(() => allocatedBetweenMarkers(log.slice(0, log.indexOf(ALLOC_END) + ALLOC_END.length))).toThrow(/after the end marker/);
  });
});
