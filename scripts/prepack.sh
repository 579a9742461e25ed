#!/usr/bin/env bash
# The package's prepack step (npm pack, bun pm pack, npm publish): builds the
# self-contained native shim the package ships,
# native/prebuilt/linux-x64/libringrpc.so (liburing linked in statically, so
# a user needs neither gcc nor liburing), checks it, and refuses to pack
# without it.
set -euo pipefail
cd "$(dirname "$0")/.."

die() { echo "ringrpc prepack: $*" >&2; exit 1; }

command -v gcc >/dev/null || die "gcc not found: apt-get install gcc, then re-run"
command -v make >/dev/null || die "make not found: apt-get install make, then re-run"
[ -f /usr/include/liburing.h ] || die "liburing.h not found: run bash scripts/setup.sh (it installs liburing-dev), then re-run"
make -s -C native prebuilt >&2 || die "building native/prebuilt failed: see the output above"
lib=native/prebuilt/linux-x64/libringrpc.so
[ -f "$lib" ] || die "$lib missing: the package ships the linux-x64 shim, so pack on linux-x64 (this machine: $(uname -sm))"
