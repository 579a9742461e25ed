/**
 * probeUring(): can the io_uring driver run here? Loads the shim, asks the
 * kernel (rr_probe) and names what is missing in one line a person can act
 * on. Never throws; creates no ring that outlives the call.
 */
import { DriverUnavailable, errnoName } from "../errors.ts";
import { loadNative } from "../native.ts";
import { ProbeBit } from "./abi.ts";

export interface UringProbe {
  ok: boolean;
  /** RR_PROBE_* bits (0 when the probe could not run). */
  bits: number;
  /** errno from io_uring_setup when the ring could not be created, else 0. */
  errno: number;
  /** Empty when ok; otherwise why the driver cannot run. */
  reason: string;
  features: string[];
}

/** Features the driver cannot work without. */
const required: ReadonlyArray<keyof typeof ProbeBit> = [
  "RING",
  "MULTISHOT_ACCEPT",
  "MULTISHOT_RECV",
  "BUF_RING",
  "ASYNC_CANCEL",
];

const setupHints: Record<string, string> = {
  EPERM: "io_uring is blocked by seccomp (Docker/containerd default profile) or kernel.io_uring_disabled",
  ENOSYS: "this kernel has no io_uring",
  ENOMEM: "not enough locked memory for a ring: raise `ulimit -l`",
};

let cached: UringProbe | null = null;

export function probeUring(): UringProbe {
  if (cached !== null) return { ...cached, features: [...cached.features] };
  cached = runProbe();
  return { ...cached, features: [...cached.features] };
}

function runProbe(): UringProbe {
  let bits: number;
  try {
    bits = loadNative().rr_probe();
  } catch (e) {
    const reason = e instanceof DriverUnavailable ? e.reason : e instanceof Error ? e.message : String(e);
    return { ok: false, bits: 0, errno: 0, reason, features: [] };
  }
  if (bits < 0) {
    const code = errnoName(bits);
    const hint = setupHints[code];
    return { ok: false, bits: 0, errno: -bits, reason: `io_uring_setup failed: ${code}${hint ? ` (${hint})` : ""}`, features: [] };
  }
  const features = (Object.keys(ProbeBit) as Array<keyof typeof ProbeBit>).filter((k) => (bits & ProbeBit[k]) !== 0);
  const missing = required.filter((k) => (bits & ProbeBit[k]) === 0);
  const reason = missing.length === 0 ? "" : `kernel lacks io_uring features: ${missing.join(", ")}`;
  return { ok: missing.length === 0, bits, errno: 0, reason, features };
}
