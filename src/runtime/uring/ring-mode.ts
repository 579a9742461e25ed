/**
 * Which ring mode a new io_uring runtime asks for: RINGRPC_RING_MODE=coop
 * (the default) or defer. Owns only the parsing of that variable; what the
 * modes mean is in ring.ts and docs/RUNTIME.md.
 */
import { DriverUnavailable } from "../errors.ts";
import type { RingMode } from "./ring.ts";

/** Reads RINGRPC_RING_MODE; throws on a value that is not coop or defer. */
export function ringModeFromEnv(env: Record<string, string | undefined> = process.env): RingMode {
  const v = (env.RINGRPC_RING_MODE ?? "").trim().toLowerCase();
  if (v === "" || v === "coop") return "coop";
  if (v === "defer") return "defer";
  throw new DriverUnavailable("uring", `RINGRPC_RING_MODE must be coop or defer (got "${env.RINGRPC_RING_MODE}")`);
}
