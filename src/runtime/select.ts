/**
 * Driver selection: decides between the io_uring driver and the epoll
 * fallback (RINGRPC_DRIVER=uring|epoll|auto, or an explicit option), and
 * produces the one startup line that says which driver runs and, for the
 * fallback, why. Forcing uring where it cannot run is an error, never a
 * silent fallback.
 */
import { DriverUnavailable } from "./errors.ts";
import type { DriverName, Runtime } from "./types.ts";
import { startupLine } from "./startup-line.ts";
import { uringTlsReason } from "./uring/ktls.ts";
import { probeUring } from "./uring/probe.ts";

export type DriverRequest = DriverName | "auto";

export interface DriverChoice {
  driver: DriverName;
  /** Why this driver: probe features for uring, the failure for a fallback. */
  reason: string;
  /** The one line to print at startup. */
  line: string;
}

/** Reads RINGRPC_DRIVER; throws on a value that is not uring, epoll or auto. */
export function driverFromEnv(env: Record<string, string | undefined> = process.env): DriverRequest {
  const v = (env.RINGRPC_DRIVER ?? "auto").trim().toLowerCase();
  if (v === "" || v === "auto") return "auto";
  if (v === "uring" || v === "epoll") return v;
  throw new DriverUnavailable(v, `RINGRPC_DRIVER must be uring, epoll or auto (got "${env.RINGRPC_DRIVER}")`);
}

/** What the runtime must carry besides plain TCP. */
export interface DriverNeeds {
  /** Listeners or connections with TLS: only the epoll driver has it (docs/DEPLOY.md, "TLS"). */
  tls?: boolean;
}

/**
 * Picks the driver. An explicit request wins over the environment.
 * Throws DriverUnavailable when uring is requested but cannot run here, or
 * cannot carry what `needs` asks for (TLS); without a request, TLS picks
 * epoll and the line says why.
 */
export function chooseDriver(request?: DriverRequest, needs: DriverNeeds = {}): DriverChoice {
  const wanted = request && request !== "auto" ? request : driverFromEnv();
  const tls = needs.tls === true ? " with TLS" : "";
  if (wanted === "epoll") {
    const why = request === "epoll" ? "requested" : "RINGRPC_DRIVER=epoll";
    return { driver: "epoll", reason: why, line: `driver=epoll (${why})${tls}` };
  }
  if (needs.tls === true) {
    const why = uringTlsReason();
    if (wanted === "uring") {
      const how = request === "uring" ? "driver \"uring\" was requested" : "RINGRPC_DRIVER=uring";
      throw new DriverUnavailable("uring", `TLS was asked for and ${how}, but ${why}: leave the driver to ringrpc (it picks epoll for TLS), or end TLS in a proxy in front of an io_uring server (docs/DEPLOY.md, "TLS")`);
    }
    return { driver: "epoll", reason: why, line: `driver=epoll with TLS (${why}; docs/DEPLOY.md "TLS")` };
  }
  const probe = probeUring();
  if (probe.ok) {
    return { driver: "uring", reason: probe.features.join(" "), line: `driver=uring (io_uring: ${probe.features.join(" ")})` };
  }
  if (wanted === "uring") throw new DriverUnavailable("uring", probe.reason);
  return { driver: "epoll", reason: probe.reason, line: `io_uring unavailable (${probe.reason}); using epoll` };
}

/** Creates the runtime of an already chosen driver on the calling thread. */
export async function createRuntimeFor(driver: DriverName): Promise<Runtime> {
  if (driver === "uring") {
    const { startUringRuntime } = await import("./uring/runtime.ts");
    return startUringRuntime();
  }
  const { createEpollRuntime } = await import("./epoll/runtime.ts");
  return createEpollRuntime();
}

/**
 * Chooses a driver and creates its runtime on the calling thread. The
 * choice's line then also says, for io_uring, the ring and wake modes and
 * what the wake-up self-test measured.
 */
export async function createRuntime(opts: { driver?: DriverRequest } = {}): Promise<{ runtime: Runtime; choice: DriverChoice }> {
  const choice = chooseDriver(opts.driver);
  const runtime = await createRuntimeFor(choice.driver);
  return { runtime, choice: { ...choice, line: startupLine(choice, [runtime.stats().wake]) } };
}
