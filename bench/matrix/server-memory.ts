/**
 * A server's memory from /proc/<pid>/status: VmRSS (resident now) and VmHWM
 * (the resident peak). Covers every thread of the process (ringrpc's Workers
 * are threads). Kernel socket buffers are not part of either.
 */
import { readFileSync } from "node:fs";

export interface ServerMemory {
  readonly rssKiB: number;
  readonly hwmKiB: number;
}

function field(status: string, name: string): number {
  const m = new RegExp(`^${name}:\\s+(\\d+) kB`, "m").exec(status);
  return m ? Number(m[1]) : Number.NaN;
}

/** null when the process is gone. */
export function serverMemory(pid: number): ServerMemory | null {
  try {
    const status = readFileSync(`/proc/${pid}/status`, "utf8");
    return { rssKiB: field(status, "VmRSS"), hwmKiB: field(status, "VmHWM") };
  } catch {
    return null;
  }
}
