/** bench/cpu-split/run.ts: perf's samples by object, summed into JIT code, other user code and kernel. */
import { expect, test } from "bun:test";
import { splitByObject } from "../../bench/cpu-split/run.ts";

const report = [
  "# Samples: 12K of event 'cpu-clock'",
  "#",
  "# Overhead  Shared Object",
  "# ........  ....................",
  "#",
  "    41.50%  [kernel.kallsyms]",
  "    30.25%  [JIT] tid 5326",
  "    20.00%  bun.exe",
  "     6.25%  libc.so.6",
  "     2.00%  libringrpc.so",
  "",
].join("\n");

test("JIT, kernel and every other object go to their part; header lines count nothing", () => {
  expect(splitByObject(report)).toEqual({ jit: 30.25, user: 28.25, kernel: 41.5 });
});

test("a report with no sample lines splits into zeros", () => {
  expect(splitByObject("# nothing sampled\n")).toEqual({ jit: 0, user: 0, kernel: 0 });
});
