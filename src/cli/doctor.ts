/**
 * `ringrpc doctor`: prints what the runtime would find on this machine —
 * kernel, io_uring availability and features, the liburing package, the
 * native library, kernel TLS (kTLS) availability, memlock and fd limits, the ring mode and how fast each
 * ring mode's idle wake-up is here (the runtime's own self-test, run on a
 * throw-away runtime), and which driver would run and why. Changes nothing.
 * Exit 0 when a driver can run, 1 otherwise.
 */
import { existsSync, readFileSync } from "node:fs";
import { availableParallelism, release } from "node:os";
import type { DriverUnavailable } from "../runtime/errors.ts";
import { nativeLibrary } from "../runtime/native.ts";
import { chooseDriver } from "../runtime/select.ts";
import { probeKtls } from "../runtime/uring/ktls.ts";
import { probeUring } from "../runtime/uring/probe.ts";
import { ringModeFromEnv } from "../runtime/uring/ring-mode.ts";
import type { RingMode } from "../runtime/uring/ring.ts";
import { createUringRuntime } from "../runtime/uring/runtime.ts";
import { checkWake } from "../runtime/uring/wake-check.ts";
import { ms } from "../runtime/startup-line.ts";

function readOr(path: string, dflt: string): string {
  try {
    return readFileSync(path, "utf8").trim();
  } catch {
    return dflt;
  }
}

function limit(name: string): string {
  const line = readOr("/proc/self/limits", "").split("\n").find((l) => l.startsWith(name));
  if (!line) return "unknown";
  const parts = line.slice(name.length).trim().split(/\s+/);
  return `soft ${parts[0]} hard ${parts[1]}${parts[2] ? ` ${parts[2]}` : ""}`;
}

function liburingVersion(): string {
  const r = Bun.spawnSync(["dpkg-query", "-W", "-f", "${Version}", "liburing-dev"], { stderr: "ignore" });
  const v = r.exitCode === 0 ? r.stdout.toString().trim() : "";
  const header = existsSync("/usr/include/liburing.h");
  return `${v ? `liburing-dev ${v}` : "liburing-dev not installed (dpkg)"}, header ${header ? "present" : "missing"} (needed only to build the shim from source)`;
}

/** The library the io_uring driver loads and where it came from, or why none loads. */
function nativeLibraryLine(): string {
  try {
    const lib = nativeLibrary();
    return `${lib.path} (${lib.source})`;
  } catch (e) {
    const err = e as Partial<DriverUnavailable> & Error;
    return `none (${err.name === "DriverUnavailable" ? err.reason : err.message})`;
  }
}

/** Runs the wake self-test on a fresh ring of the given mode, without falling back. */
async function wakeLine(mode: RingMode): Promise<string> {
  try {
    const rt = createUringRuntime({ ringMode: mode, arenaBytes: 1 << 20, bufCount: 8, bufSize: 4096 });
    try {
      const c = await checkWake(rt);
      const granted = rt.ringModeInUse === mode ? "" : ` (asked for ${mode}, the kernel gave ${rt.ringModeInUse})`;
      return `wake-up ${mode}: self-test ${c.verdict}${granted}: p50 ${ms(c.p50Us)}, max ${ms(c.maxUs)}, ${c.late}/${c.samples} late`;
    } finally {
      await rt.close();
    }
  } catch (e) {
    return `wake-up ${mode}: could not run (${e instanceof Error ? e.message : String(e)})`;
  }
}

export async function doctorReport(): Promise<{ lines: string[]; ok: boolean }> {
  const lines: string[] = [];
  lines.push(`kernel: ${release()} (${availableParallelism()} cpus)`);
  lines.push(`kernel.io_uring_disabled: ${readOr("/proc/sys/kernel/io_uring_disabled", "absent (kernel older than 6.6)")}`);
  lines.push(`liburing: ${liburingVersion()}`);
  lines.push(`native library: ${nativeLibraryLine()}`);
  const probe = probeUring();
  lines.push(probe.ok ? `io_uring: available (${probe.features.join(", ")})` : `io_uring: unavailable (${probe.reason})`);
  lines.push(`kTLS: ${probeKtls().text}; ringrpc's TLS runs on the epoll driver either way (docs/DEPLOY.md, "TLS")`);
  lines.push(`max locked memory: ${limit("Max locked memory")}`);
  lines.push(`max open files: ${limit("Max open files")}`);
  if (probe.ok) {
    let mode = "coop";
    try {
      mode = ringModeFromEnv();
    } catch (e) {
      mode = `invalid (${(e as Error).message})`;
    }
    lines.push(`ring mode: ${mode} (RINGRPC_RING_MODE=coop|defer; a defer ring whose wake-up self-test is late is replaced by coop)`);
    lines.push(await wakeLine("coop"));
    lines.push(await wakeLine("defer"));
  }
  let ok = true;
  try {
    const choice = chooseDriver();
    lines.push(`driver: ${choice.driver} — ${choice.line}`);
  } catch (err) {
    ok = false;
    lines.push(`driver: none — ${(err as Error).message}`);
  }
  return { lines, ok };
}

export async function runDoctor(): Promise<number> {
  const { lines, ok } = await doctorReport();
  for (const l of lines) console.log(l);
  return ok ? 0 : 1;
}
