/**
 * Where the native shim is: the libraries to try, in order, and the one line
 * that says what to do when none of them loads. Owns the search order and its
 * wording only; native.ts opens the libraries.
 *
 * The order (docs/NATIVE.md, "Where the library is found"):
 * 1. RINGRPC_NATIVE_LIB, when set: that file and nothing else.
 * 2. In a binary from `bun build --compile`: a libringrpc.so beside the
 *    binary, then the copy embedded in it (linux-x64).
 * 3. Otherwise, in the package: the prebuilt self-contained library for this
 *    platform (native/prebuilt/<platform>/, liburing linked in, only libc
 *    needed), then the source build (native/build/, `make -C native`).
 */
import { existsSync } from "node:fs";
import { dirname, join } from "node:path";

export type NativeSource = "RINGRPC_NATIVE_LIB" | "beside the binary" | "embedded in the binary" | "prebuilt" | "source build";

export interface NativeCandidate {
  path: string;
  source: NativeSource;
}

/** What the search depends on; native.ts passes the process's own values, tests pass others. */
export interface NativeSearch {
  /** RINGRPC_NATIVE_LIB (undefined or "" when unset). */
  override: string | undefined;
  /** `${process.platform}-${process.arch}`, as native/Makefile names its prebuilt folder. */
  platform: string;
  /** The package root (the folder of package.json). */
  packageRoot: string;
  /** True inside a binary built by `bun build --compile`. */
  standalone: boolean;
  /** process.execPath: the compiled binary itself when standalone. */
  execPath: string;
  /** The path of the embedded copy, when the binary has one for this platform. */
  embedded: string | null;
}

/** Every library to try, best first. */
export function nativeCandidates(s: NativeSearch): NativeCandidate[] {
  if (s.override) return [{ path: s.override, source: "RINGRPC_NATIVE_LIB" }];
  if (s.standalone) {
    const out: NativeCandidate[] = [{ path: join(dirname(s.execPath), "libringrpc.so"), source: "beside the binary" }];
    if (s.embedded !== null) out.push({ path: s.embedded, source: "embedded in the binary" });
    return out;
  }
  return [
    { path: join(s.packageRoot, "native", "prebuilt", s.platform, "libringrpc.so"), source: "prebuilt" },
    { path: join(s.packageRoot, "native", "build", "libringrpc.so"), source: "source build" },
  ];
}

/** The candidates that exist on disk (an embedded copy always does). */
export function presentCandidates(s: NativeSearch): NativeCandidate[] {
  return nativeCandidates(s).filter((c) => c.source === "embedded in the binary" || existsSync(c.path));
}

/** What to do to get a library that loads here: one clause. */
export function nativeRemedy(s: NativeSearch): string {
  if (s.override) return "point RINGRPC_NATIVE_LIB at a libringrpc.so built for this machine, or unset it";
  if (s.standalone) {
    return `put a libringrpc.so built for ${s.platform} beside the binary (${join(dirname(s.execPath), "libringrpc.so")}) or set RINGRPC_NATIVE_LIB`;
  }
  if (existsSync(join(s.packageRoot, "scripts", "setup.sh"))) return `run \`bash ${join(s.packageRoot, "scripts", "setup.sh")}\``;
  return `install gcc, make and liburing-dev, then run \`make -C ${join(s.packageRoot, "native")}\``;
}

/** The reason, for one line, when no candidate exists at all. */
export function missingLine(s: NativeSearch): string {
  if (s.override) return `RINGRPC_NATIVE_LIB=${s.override} does not exist; ${nativeRemedy(s)}`;
  if (s.standalone) return `no native shim for ${s.platform} in this binary; ${nativeRemedy(s)}`;
  const wanted = nativeCandidates(s).map((c) => c.path.slice(s.packageRoot.length + 1));
  return `no native shim for ${s.platform} in ${s.packageRoot}: neither ${wanted.join(" nor ")} exists; ${nativeRemedy(s)}`;
}

const LABELS: Record<NativeSource, string> = {
  RINGRPC_NATIVE_LIB: "RINGRPC_NATIVE_LIB=",
  "beside the binary": "the shim beside the binary, ",
  "embedded in the binary": "the shim embedded in the binary, ",
  prebuilt: "the prebuilt shim ",
  "source build": "the shim built from source, ",
};

/** The reason, for one line, when the best library exists but does not load. */
export function loadFailedLine(s: NativeSearch, failed: NativeCandidate, why: string): string {
  return `cannot load ${LABELS[failed.source]}${failed.path}: ${why}; ${nativeRemedy(s)}`;
}
