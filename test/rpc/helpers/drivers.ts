/**
 * The runtimes RPC tests run on: epoll always, uring when probeUring() says
 * it can run here and its driver module loads. When uring is left out,
 * `uringSkipReason` says why (tests report it through test.skip).
 * RINGRPC_RPC_TEST_DRIVERS=epoll restricts the run to epoll.
 */
import { createEpollRuntime } from "../../../src/runtime/epoll/runtime.ts";
import type { Runtime } from "../../../src/runtime/types.ts";
import { probeUring } from "../../../src/runtime/uring/probe.ts";

export interface DriverCase {
  name: string;
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
