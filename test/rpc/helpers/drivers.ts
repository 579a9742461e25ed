/**
 * The runtimes RPC tests run on: epoll always, uring when probeUring() says
 * it can run here and its driver module loads. When uring is left out,
 * `uringSkipReason` says why, and describeDrivers() still registers the
 * uring suite as skipped with that reason in its title, so a dropped driver
 * shows up in the skip count instead of vanishing.
 * RINGRPC_RPC_TEST_DRIVERS=epoll restricts the run to epoll.
 */
import { describe } from "bun:test";
import { createEpollRuntime } from "../../../src/runtime/epoll/runtime.ts";
import type { DriverName, Runtime } from "../../../src/runtime/types.ts";
import { probeUring } from "../../../src/runtime/uring/probe.ts";
import { skipTitle } from "../../helpers/skip.ts";

export interface DriverCase {
  name: DriverName;
  make: () => Runtime | Promise<Runtime>;
}

async function uringCase(): Promise<DriverCase | string> {
  if (process.env.RINGRPC_RPC_TEST_DRIVERS === "epoll") return "RINGRPC_RPC_TEST_DRIVERS=epoll";
  const probe = probeUring();
  if (!probe.ok) return `io_uring unavailable: ${probe.reason}`;
  try {
    const mod = (await import("../../../src/runtime/uring/runtime.ts")) as { createUringRuntime?: () => Runtime | Promise<Runtime> };
    if (typeof mod.createUringRuntime !== "function") return "src/runtime/uring/runtime.ts has no createUringRuntime";
    return { name: "uring", make: mod.createUringRuntime };
  } catch (e) {
    return `uring driver failed to load: ${e instanceof Error ? e.message : String(e)}`;
  }
}

export const drivers: DriverCase[] = [{ name: "epoll", make: createEpollRuntime }];
const uring = await uringCase();
export const uringSkipReason: string | null = typeof uring === "string" ? uring : null;
if (typeof uring !== "string") drivers.push(uring);

const unavailableUring: DriverCase = {
  name: "uring",
  make: () => {
    throw new Error(`uring is skipped here: ${uringSkipReason}`);
  },
};

/**
 * `describe(\`${title} (${driver})\`, () => body(driver))` for every driver
 * that runs here, and a skipped describe, reason in its title, for uring
 * when it cannot run (its tests are registered, and reported, as skipped).
 */
export function describeDrivers(title: string, body: (d: DriverCase) => void): void {
  for (const d of drivers) describe(`${title} (${d.name})`, () => body(d));
  if (uringSkipReason !== null) describe.skip(skipTitle(`${title} (uring)`, uringSkipReason), () => body(unavailableUring));
}

/** Every (client driver, server driver) pair that runs here, uring with uring included. */
export function driverPairs(): [DriverCase, DriverName][] {
  return drivers.flatMap((c) => drivers.map((s) => [c, s.name] as [DriverCase, DriverName]));
}

/**
 * describe() for each (client, server-in-a-Worker) driver pair, and a
 * skipped describe with the reason for the pairs that need uring when it
 * cannot run.
 */
export function describeWorkerPairs(title: string, body: (client: DriverCase, server: DriverName) => void): void {
  for (const [c, s] of driverPairs()) describe(`${title} (client ${c.name}, server ${s} in a Worker)`, () => body(c, s));
  if (uringSkipReason !== null) {
    describe.skip(skipTitle(`${title} (pairs with uring in a Worker)`, uringSkipReason), () => body(unavailableUring, "uring"));
  }
}
