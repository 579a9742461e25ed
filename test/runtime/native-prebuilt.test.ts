/**
 * The prebuilt native shim (native/prebuilt/<platform>/libringrpc.so, built
 * by `make -C native` and shipped in the package) needs only libc: liburing
 * is linked in. Checked three ways: its ELF needs no liburing (the source
 * build does, the control); the loader picks it first and a process that
 * runs a ring op through it has no liburing mapped; and where liburing.so
 * cannot load at all (a mount namespace with /dev/null over it) it still
 * runs the ring op while the source build fails with one line.
 */
import { expect, test } from "bun:test";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { probeUring } from "../../src/runtime/uring/probe.ts";
import { skipTitle } from "../helpers/skip.ts";

const root = new URL("../..", import.meta.url).pathname;
const prebuilt = join(root, "native", "prebuilt", `${process.platform}-${process.arch}`, "libringrpc.so");
const sourceBuild = join(root, "native", "build", "libringrpc.so");

const noPrebuilt = existsSync(prebuilt) ? null : `${prebuilt} not built (make -C native builds it when liburing.a is installed: apt-get install liburing-dev)`;
const noReadelf = Bun.which("readelf") === null ? "readelf is not installed (apt-get install binutils)" : null;
const probe = probeUring();
const noUring = probe.ok ? null : `io_uring unavailable here: ${probe.reason}`;

/** The libraries an ELF file names as NEEDED. */
function needed(file: string): string[] {
  const out = Bun.spawnSync(["readelf", "-d", file]).stdout.toString();
  return [...out.matchAll(/\(NEEDED\)\s+Shared library: \[([^\]]+)\]/g)].map((m) => m[1]!);
}

/** Where the dynamic loader finds liburing for the source build, e.g. /lib/x86_64-linux-gnu/liburing.so.2. */
function liburingPath(): string | null {
  const out = Bun.spawnSync(["ldd", sourceBuild]).stdout.toString();
  return out.match(/liburing\S*\s+=>\s+(\S+)/)?.[1] ?? null;
}

/** Can this process make a private mount namespace (root, no seccomp in the way)? */
function mountNamespaceProblem(): string | null {
  if (Bun.which("unshare") === null) return "unshare is not installed (util-linux)";
  const r = Bun.spawnSync(["unshare", "-m", "--propagation", "private", "true"], { stderr: "pipe" });
  return r.exitCode === 0 ? null : `no private mount namespace here (${r.stderr.toString().trim() || `unshare exited ${r.exitCode}`})`;
}

/** A child that loads the shim the loader picks (or RINGRPC_NATIVE_LIB), runs one ring timeout, and reports. */
const CHILD = `
  const { nativeLibrary } = await import(${JSON.stringify(join(root, "src/runtime/native.ts"))});
  const { createUringRuntime } = await import(${JSON.stringify(join(root, "src/runtime/uring/runtime.ts"))});
  let from;
  try { from = nativeLibrary(); } catch (e) { console.log(JSON.stringify({ error: e.message })); process.exit(0); }
  const rt = createUringRuntime({ arenaBytes: 1 << 20, bufCount: 8, bufSize: 4096 });
  const t0 = performance.now();
  await rt.sleep(5);
  const sleptMs = performance.now() - t0;
  const submitted = rt.stats().submitted;
  await rt.close();
  const liburingMapped = (await Bun.file("/proc/self/maps").text()).includes("liburing");
  console.log(JSON.stringify({ source: from.source, path: from.path, sleptMs, submitted, liburingMapped }));
`;

interface ChildReport {
  error?: string;
  source?: string;
  path?: string;
  sleptMs?: number;
  submitted?: number;
  liburingMapped?: boolean;
}

function runChild(prefix: string[], env: Record<string, string | undefined>): ChildReport {
  const r = Bun.spawnSync([...prefix, process.execPath, "-e", CHILD], { env, stdout: "pipe", stderr: "pipe", timeout: 20_000 });
  const text = r.stdout.toString().trim();
  if (r.exitCode !== 0 || text === "") throw new Error(`child exited ${r.exitCode}: ${text} ${r.stderr.toString()}`);
  return JSON.parse(text) as ChildReport;
}

const envWithout = (name: string): Record<string, string | undefined> => ({ ...process.env, [name]: undefined });

test.skipIf(noPrebuilt !== null || noReadelf !== null)(
  skipTitle("the prebuilt shim needs only libc, while the source build needs liburing (the control)", noPrebuilt ?? noReadelf),
  () => {
    const own = needed(prebuilt);
    expect(own.filter((lib) => !/^(libc\.so\.6|ld-linux[\w-]*\.so\.\d)$/.test(lib))).toEqual([]);
    expect(own).toContain("libc.so.6");
    expect(needed(sourceBuild).some((lib) => lib.startsWith("liburing"))).toBe(true);
    const ldd = Bun.spawnSync(["ldd", prebuilt]).stdout.toString();
    expect(ldd).not.toContain("liburing");
  },
);

test.skipIf(noPrebuilt !== null || noUring !== null)(
  skipTitle("the loader picks the prebuilt shim first and a ring op through it maps no liburing (the source build does)", noPrebuilt ?? noUring),
  () => {
    const got = runChild([], envWithout("RINGRPC_NATIVE_LIB"));
    expect(got.error).toBeUndefined();
    expect(got).toMatchObject({ source: "prebuilt", path: prebuilt, liburingMapped: false });
    expect(got.submitted!).toBeGreaterThan(0);
    expect(got.sleptMs!).toBeGreaterThanOrEqual(4);
    // The control: the same ring op through the source build maps liburing.so into the process.
    expect(runChild([], { ...process.env, RINGRPC_NATIVE_LIB: sourceBuild })).toMatchObject({ source: "RINGRPC_NATIVE_LIB", liburingMapped: true });
  },
);

const noNamespace = noPrebuilt ?? noUring ?? (liburingPath() === null ? "the source build does not resolve liburing (nothing to hide)" : mountNamespaceProblem());

test.skipIf(noNamespace !== null)(
  skipTitle("where liburing.so cannot load, the prebuilt shim still runs a ring op and the source build fails in one line", noNamespace),
  () => {
    // /dev/null over liburing.so in a private mount namespace: the dynamic loader finds it and cannot load it.
    const hide = ["unshare", "-m", "--propagation", "private", "sh", "-c", 'mount --bind /dev/null "$1" && shift && exec "$@"', "sh", liburingPath()!];
    const withPrebuilt = runChild(hide, { ...process.env, RINGRPC_NATIVE_LIB: prebuilt });
    expect(withPrebuilt).toMatchObject({ source: "RINGRPC_NATIVE_LIB", path: prebuilt, liburingMapped: false });
    expect(withPrebuilt.sleptMs!).toBeGreaterThanOrEqual(4);
    const withSourceBuild = runChild(hide, { ...process.env, RINGRPC_NATIVE_LIB: sourceBuild });
    expect(withSourceBuild.error).toStartWith(`uring driver unavailable: cannot load RINGRPC_NATIVE_LIB=${sourceBuild}: `);
    expect(withSourceBuild.error).toContain("liburing");
    expect(withSourceBuild.error).toEndWith("; point RINGRPC_NATIVE_LIB at a libringrpc.so built for this machine, or unset it");
    expect(withSourceBuild.error).not.toContain("\n");
  },
);
