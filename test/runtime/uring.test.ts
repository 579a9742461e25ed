/**
 * Runs the shared driver suite against the io_uring driver; skipped, with
 * the probe's reason in the suite name, where io_uring cannot run.
 */
import { createUringRuntime } from "../../src/runtime/uring/runtime.ts";
import { probeUring } from "../../src/runtime/uring/probe.ts";
import { runDriverSuite } from "./driver-suite.ts";

const probe = probeUring();

runDriverSuite("uring", () => createUringRuntime(), { skip: probe.ok ? false : probe.reason });
