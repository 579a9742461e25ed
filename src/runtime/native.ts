/**
 * Loads the native shim (libringrpc.so) with bun:ffi, once per thread, and
 * owns its symbol table. Which file is tried, in which order, and what the
 * one-line failure says is native-locate.ts's job; this module opens the
 * first candidate that loads. The types mirror native/include/ringrpc.h:
 * i32 and ptr only, so no call returns a BigInt. Callers on hot paths use the
 * `.native` form of a symbol. Throws DriverUnavailable when no library loads;
 * knows nothing about rings or sockets beyond that.
 */
import { dlopen, FFIType } from "bun:ffi";
import { fileURLToPath } from "node:url";
import { DriverUnavailable } from "./errors.ts";
import { loadFailedLine, missingLine, type NativeCandidate, type NativeSearch, presentCandidates } from "./native-locate.ts";

const { i32, u32, ptr, f64 } = FFIType;

const symbols = {
  rr_ring_create: { args: [u32, u32, u32, u32, u32, u32, u32, i32], returns: i32 },
  rr_bufring_grow: { args: [i32, u32], returns: i32 },
  rr_ring_mem: { args: [i32, i32], returns: ptr },
  rr_ring_setup_flags: { args: [i32], returns: i32 },
  rr_ring_eventfd: { args: [i32], returns: i32 },
  rr_ring_eventfd_enable: { args: [i32, i32], returns: i32 },
  rr_ring_destroy: { args: [i32], returns: i32 },
  rr_step: { args: [i32, i32, i32], returns: i32 },
  rr_ring_stat: { args: [i32, i32], returns: i32 },
  rr_probe: { args: [], returns: i32 },
  rr_ktls_probe: { args: [], returns: i32 },
  rr_socket_tcp: { args: [i32], returns: i32 },
  rr_socket_bind: { args: [i32, ptr, i32, i32], returns: i32 },
  rr_socket_listen: { args: [i32, ptr, i32, i32, i32], returns: i32 },
  rr_socket_local_port: { args: [i32], returns: i32 },
  rr_sockaddr: { args: [ptr, i32, ptr, i32], returns: i32 },
  rr_socket_peer: { args: [i32, ptr, i32], returns: i32 },
  rr_socket_nodelay: { args: [i32, i32], returns: i32 },
  rr_socketpair: { args: [ptr], returns: i32 },
  rr_close: { args: [i32], returns: i32 },
  rr_pin_cpu: { args: [i32], returns: i32 },
  rr_gettid: { args: [], returns: i32 },
  rr_clock_ms: { args: [], returns: f64 },
  rr_send_clock_after: { args: [i32, i32], returns: i32 },
} as const;

export type NativeSymbols = ReturnType<typeof dlopen<typeof symbols>>["symbols"];

const platform = `${process.platform}-${process.arch}`;

// Only a compiled binary on linux-x64 evaluates native-embedded.ts (and needs its file).
const embedded: string | null =
  Bun.isStandaloneExecutable && platform === "linux-x64" ? (await import("./native-embedded.ts")).embeddedLibraryPath : null;

/** This process's search: its environment, platform, package and binary. */
export function nativeSearch(): NativeSearch {
  return {
    override: process.env.RINGRPC_NATIVE_LIB,
    platform,
    packageRoot: fileURLToPath(new URL("../..", import.meta.url)).replace(/\/$/, ""),
    standalone: Bun.isStandaloneExecutable,
    execPath: process.execPath,
    embedded,
  };
}

let loaded: { symbols: NativeSymbols; from: NativeCandidate } | null = null;

/** The shim's symbols; loads the library on first use. */
export function loadNative(): NativeSymbols {
  return openNative().symbols;
}

/** Which library this thread loaded (loading it first if needed). */
export function nativeLibrary(): NativeCandidate {
  return openNative().from;
}

function openNative(): { symbols: NativeSymbols; from: NativeCandidate } {
  if (loaded !== null) return loaded;
  const search = nativeSearch();
  const candidates = presentCandidates(search);
  if (candidates.length === 0) throw new DriverUnavailable("uring", missingLine(search));
  let firstFailure: { from: NativeCandidate; why: string } | null = null;
  for (const from of candidates) {
    try {
      loaded = { symbols: dlopen(from.path, symbols).symbols, from };
      return loaded;
    } catch (e) {
      firstFailure ??= { from, why: e instanceof Error ? e.message : String(e) };
    }
  }
  throw new DriverUnavailable("uring", loadFailedLine(search, firstFailure!.from, firstFailure!.why));
}

/** A NUL-terminated copy of s, to pass as a `const char *` for one synchronous call. */
export function cString(s: string): Buffer {
  return Buffer.from(`${s}\0`, "utf8");
}
