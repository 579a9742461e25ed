/**
 * Where the native shim is looked for (src/runtime/native-locate.ts): the
 * order for a package, a compiled binary and RINGRPC_NATIVE_LIB, and the one
 * line that says what to do when nothing is there or nothing loads, in a
 * checkout (setup.sh) and in an installed package (make -C .../native).
 */
import { afterAll, expect, test } from "bun:test";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { loadFailedLine, missingLine, nativeCandidates, type NativeSearch, presentCandidates } from "../../src/runtime/native-locate.ts";

const scratch = mkdtempSync(join(tmpdir(), "ringrpc-locate-"));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

/** A package folder: with scripts/setup.sh it is a checkout, without it an installed package. */
function packageDir(name: string, opts: { checkout: boolean; prebuilt?: boolean; build?: boolean }): string {
  const dir = join(scratch, name);
  mkdirSync(join(dir, "native"), { recursive: true });
  if (opts.checkout) {
    mkdirSync(join(dir, "scripts"));
    writeFileSync(join(dir, "scripts", "setup.sh"), "");
  }
  if (opts.prebuilt) {
    mkdirSync(join(dir, "native", "prebuilt", "linux-arm64"), { recursive: true });
    writeFileSync(join(dir, "native", "prebuilt", "linux-arm64", "libringrpc.so"), "");
  }
  if (opts.build) {
    mkdirSync(join(dir, "native", "build"), { recursive: true });
    writeFileSync(join(dir, "native", "build", "libringrpc.so"), "");
  }
  return dir;
}

function search(over: Partial<NativeSearch>): NativeSearch {
  return { override: undefined, platform: "linux-arm64", packageRoot: "/pkg", standalone: false, execPath: "/usr/bin/bun", embedded: null, ...over };
}

test("a package tries its prebuilt shim for this platform first, then the source build", () => {
  expect(nativeCandidates(search({}))).toEqual([
    { path: "/pkg/native/prebuilt/linux-arm64/libringrpc.so", source: "prebuilt" },
    { path: "/pkg/native/build/libringrpc.so", source: "source build" },
  ]);
});

test("RINGRPC_NATIVE_LIB is the only candidate when set, in a package and in a binary", () => {
  for (const standalone of [false, true]) {
    expect(nativeCandidates(search({ override: "/opt/libringrpc.so", standalone, embedded: "/$bunfs/root/x.so" }))).toEqual([
      { path: "/opt/libringrpc.so", source: "RINGRPC_NATIVE_LIB" },
    ]);
  }
});

test("a compiled binary tries a library beside it, then its embedded copy, and never the package's folders", () => {
  const s = search({ standalone: true, execPath: "/srv/app/hello-server", embedded: "/$bunfs/root/libringrpc-a1b2.so" });
  expect(nativeCandidates(s)).toEqual([
    { path: "/srv/app/libringrpc.so", source: "beside the binary" },
    { path: "/$bunfs/root/libringrpc-a1b2.so", source: "embedded in the binary" },
  ]);
  expect(presentCandidates(s)).toEqual([{ path: "/$bunfs/root/libringrpc-a1b2.so", source: "embedded in the binary" }]);
});

test("only the candidates on disk are tried: a package with just a source build tries just that", () => {
  const dir = packageDir("build-only", { checkout: false, build: true });
  expect(presentCandidates(search({ packageRoot: dir }))).toEqual([{ path: join(dir, "native/build/libringrpc.so"), source: "source build" }]);
  const both = packageDir("both", { checkout: false, prebuilt: true, build: true });
  expect(presentCandidates(search({ packageRoot: both })).map((c) => c.source)).toEqual(["prebuilt", "source build"]);
});

test("nothing built in a checkout: one line naming both paths and setup.sh by its full path", () => {
  const dir = packageDir("checkout", { checkout: true });
  expect(missingLine(search({ packageRoot: dir }))).toBe(
    `no native shim for linux-arm64 in ${dir}: neither native/prebuilt/linux-arm64/libringrpc.so nor native/build/libringrpc.so exists; run \`bash ${dir}/scripts/setup.sh\``,
  );
});

test("nothing for this platform in an installed package: one line naming what to install and the make command", () => {
  const dir = packageDir("installed", { checkout: false });
  expect(missingLine(search({ packageRoot: dir }))).toBe(
    `no native shim for linux-arm64 in ${dir}: neither native/prebuilt/linux-arm64/libringrpc.so nor native/build/libringrpc.so exists; install gcc, make and liburing-dev, then run \`make -C ${dir}/native\``,
  );
});

test("a missing RINGRPC_NATIVE_LIB and a binary without a shim each say what to do", () => {
  expect(missingLine(search({ override: "/nope/libringrpc.so" }))).toBe(
    "RINGRPC_NATIVE_LIB=/nope/libringrpc.so does not exist; point RINGRPC_NATIVE_LIB at a libringrpc.so built for this machine, or unset it",
  );
  expect(missingLine(search({ standalone: true, execPath: "/srv/app/hello-server" }))).toBe(
    "no native shim for linux-arm64 in this binary; put a libringrpc.so built for linux-arm64 beside the binary (/srv/app/libringrpc.so) or set RINGRPC_NATIVE_LIB",
  );
});

test("a shim that exists but does not load: its path, the loader's reason and the fix, in one line", () => {
  const dir = packageDir("old-glibc", { checkout: false, prebuilt: true });
  const failed = { path: join(dir, "native/prebuilt/linux-arm64/libringrpc.so"), source: "prebuilt" as const };
  const line = loadFailedLine(search({ packageRoot: dir }), failed, "version `GLIBC_2.34' not found");
  expect(line).toBe(
    `cannot load the prebuilt shim ${failed.path}: version \`GLIBC_2.34' not found; install gcc, make and liburing-dev, then run \`make -C ${dir}/native\``,
  );
  expect(line).not.toContain("\n");
});
