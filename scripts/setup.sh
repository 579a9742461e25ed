#!/usr/bin/env bash
# ringrpc bootstrap: the one set-up path shared by the demo, the tests and the
# bench. It installs node dependencies (Bun itself comes pinned from the npm
# registry), installs liburing-dev with apt-get when its header is missing,
# installs haproxy, dnsmasq-base and prometheus (for promtool) the same way
# (for the proxy test, the DNS discovery tests and the metrics check), builds
# native/ into a cached shared library and bench/loadgen (the C load
# generator the latency tests use). A second run only checks.
set -euo pipefail
cd "$(dirname "$0")/.."

die() { echo "ringrpc setup: $*" >&2; exit 1; }

# 1. Node dependencies, reinstalled only when package.json changed.
stamp=node_modules/.ringrpc-deps
if [ ! -x node_modules/.bin/bun ] || [ ! -f "$stamp" ] || [ package.json -nt "$stamp" ]; then
  command -v npm >/dev/null || die "npm not found: install Node.js 20 and npm, then re-run"
  echo "ringrpc setup: installing node dependencies (npm install)" >&2
  npm install --no-audit --no-fund --loglevel=error >&2 || die "npm install failed: check that the npm registry is reachable"
  [ -x node_modules/.bin/bun ] || die "node_modules/.bin/bun missing after npm install: the bun package did not install"
  touch "$stamp"
fi

# 2. liburing headers and library.
if [ ! -f /usr/include/liburing.h ]; then
  if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null; then
    die "liburing.h not found: install liburing-dev (apt-get install liburing-dev) as root, then re-run"
  fi
  echo "ringrpc setup: installing liburing-dev (apt-get)" >&2
  { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq liburing-dev; } >/tmp/ringrpc-apt.log 2>&1 \
    || die "apt-get install liburing-dev failed (see /tmp/ringrpc-apt.log): install it by hand, then re-run"
fi

# 3. Daemons and tools that some tests drive for real; without one, its tests
#    skip and say why. Installed with apt-get when missing (root only).
#    optional_apt COMMAND PACKAGE WHAT-FOR
optional_apt() {
  command -v "$1" >/dev/null || [ -x "/usr/sbin/$1" ] && return 0
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    echo "ringrpc setup: installing $2 (apt-get), for $3" >&2
    { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$2"; } >"/tmp/ringrpc-apt-$2.log" 2>&1 \
      || echo "ringrpc setup: apt-get install $2 failed (see /tmp/ringrpc-apt-$2.log): $3 will skip" >&2
  else
    echo "ringrpc setup: $1 not found and cannot apt-get $2 (not root or no apt-get): $3 will skip" >&2
  fi
}
optional_apt haproxy haproxy "test/deploy/haproxy.test.ts (ringrpc behind a real proxy)"
# dnsmasq-base: the binary without a system service; the DNS server the
# discovery tests start on loopback (test/helpers/dns-server.ts).
optional_apt dnsmasq dnsmasq-base "the DNS discovery tests"
# prometheus: for its promtool, which checks a metrics scrape (test/examples/metrics-scrape.test.ts).
optional_apt promtool prometheus "the promtool check of a metrics scrape"

# 5. The native shim; make rebuilds only what changed.
command -v gcc >/dev/null || die "gcc not found: apt-get install gcc, then re-run"
command -v make >/dev/null || die "make not found: apt-get install make, then re-run"
make -s -C native >&2 || die "building native/ failed: see the compiler output above"

# 6. The C load generator the latency tests and the benchmark drive servers with.
make -s -C bench/loadgen >&2 || die "building bench/loadgen failed: see the compiler output above"
