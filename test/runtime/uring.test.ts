/**
 * Runs the shared driver suite against the io_uring driver, plus the one
 * promise only this driver makes about stats; skipped, with the probe's
 * reason in the suite names, where io_uring cannot run.
 */
import { describe, expect, test } from "bun:test";
import { createUringRuntime } from "../../src/runtime/uring/runtime.ts";
import { probeUring } from "../../src/runtime/uring/probe.ts";
import { skipTitle } from "../helpers/skip.ts";
import { runDriverSuite } from "./driver-suite.ts";

const probe = probeUring();
const reason = probe.ok ? null : probe.reason;

runDriverSuite("uring", () => createUringRuntime(), { skip: reason ?? false });

describe(skipTitle("uring driver specifics", reason), () => {
  test.skipIf(!probe.ok)("reports its name and counts its io_uring_enter calls", async () => {
    const rt = createUringRuntime();
    try {
      expect(rt.driver).toBe("uring");
      const s0 = rt.stats();
      expect(s0.enters).toBeGreaterThanOrEqual(0);
      await rt.sleep(1); // a ring timeout: at least one enter to submit and reap it
      expect(rt.stats().enters).toBeGreaterThan(s0.enters);
    } finally {
      await rt.close();
    }
  });
});
