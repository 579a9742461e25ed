/**
 * Loads the native shim (native/build/libringrpc.so) with bun:ffi, once per
 * thread, and owns its symbol table. The types mirror native/include/ringrpc.h:
 * i32 and ptr only, so no call returns a BigInt. Callers on hot paths use the
 * `.native` form of a symbol. Throws DriverUnavailable when the library is
 * missing or does not load; knows nothing about rings or sockets beyond that.
 */
import { dlopen, FFIType } from "bun:ffi";
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { DriverUnavailable } from "./errors.ts";

const { i32, u32, ptr, f64 } = FFIType;

const symbols = {
  rr_ring_create: { args: [u32, u32, u32, u32, u32, u32, i32], returns: i32 },
  rr_ring_mem: { args: [i32, i32], returns: ptr },
  rr_ring_setup_flags: { args: [i32], returns: i32 },
  rr_ring_eventfd: { args: [i32], returns: i32 },
  rr_ring_eventfd_enable: { args: [i32, i32], returns: i32 },
  rr_ring_destroy: { args: [i32], returns: i32 },
  rr_step: { args: [i32, i32, i32], returns: i32 },
  rr_ring_stat: { args: [i32, i32], returns: i32 },
  rr_probe: { args: [], returns: i32 },
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

/** Where the shim is built by `make -C native`; RINGRPC_NATIVE_LIB overrides it. */
export const nativeLibraryPath: string =
  process.env.RINGRPC_NATIVE_LIB ?? fileURLToPath(new URL("../../native/build/libringrpc.so", import.meta.url));

let loaded: NativeSymbols | null = null;

/** The shim's symbols; loads the library on first use. */
export function loadNative(): NativeSymbols {
  if (loaded !== null) return loaded;
  if (!existsSync(nativeLibraryPath)) {
    throw new DriverUnavailable("uring", `native library not built: run \`bash scripts/setup.sh\` (missing ${nativeLibraryPath})`);
  }
  try {
    loaded = dlopen(nativeLibraryPath, symbols).symbols;
  } catch (e) {
    const why = e instanceof Error ? e.message : String(e);
    throw new DriverUnavailable("uring", `cannot load ${nativeLibraryPath}: ${why}: rebuild it with \`bash scripts/setup.sh\``);
  }
  return loaded;
}

/** A NUL-terminated copy of s, to pass as a `const char *` for one synchronous call. */
export function cString(s: string): Buffer {
  return Buffer.from(`${s}\0`, "utf8");
}
