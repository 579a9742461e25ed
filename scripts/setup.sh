#!/usr/bin/env bash
# ringrpc bootstrap: the one set-up path shared by the demo, the tests and the
# bench. It installs node dependencies (Bun itself comes pinned from the npm
# registry), installs liburing-dev with apt-get when its header is missing,
# installs haproxy and dnsmasq-base the same way (for the proxy test and the
# DNS discovery tests), builds native/ into a cached shared library and
# bench/loadgen (the C load generator the latency tests use). A second run
# only checks.
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

# 3. HAProxy, for the test that runs ringrpc behind a real proxy (test/deploy/);
#    without it that test skips and says why.
if ! command -v haproxy >/dev/null; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    echo "ringrpc setup: installing haproxy (apt-get), for test/deploy/haproxy.test.ts" >&2
    { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq haproxy; } >/tmp/ringrpc-apt-haproxy.log 2>&1 \
      || echo "ringrpc setup: apt-get install haproxy failed (see /tmp/ringrpc-apt-haproxy.log): the HAProxy test will skip" >&2
  else
    echo "ringrpc setup: haproxy not found and cannot apt-get it (not root or no apt-get): the HAProxy test will skip" >&2
  fi
fi

# 4. dnsmasq (Debian's dnsmasq-base: the binary, no system service): the DNS
#    server the discovery tests start on loopback (test/helpers/dns-server.ts);
#    without it those tests skip and say why.
if ! command -v dnsmasq >/dev/null && [ ! -x /usr/sbin/dnsmasq ]; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    echo "ringrpc setup: installing dnsmasq-base (apt-get), for the DNS discovery tests" >&2
    { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq dnsmasq-base; } >/tmp/ringrpc-apt-dnsmasq.log 2>&1 \
      || echo "ringrpc setup: apt-get install dnsmasq-base failed (see /tmp/ringrpc-apt-dnsmasq.log): the DNS discovery tests will skip" >&2
  else
    echo "ringrpc setup: dnsmasq not found and cannot apt-get it (not root or no apt-get): the DNS discovery tests will skip" >&2
  fi
fi

# 5. The native shim; make rebuilds only what changed.
command -v gcc >/dev/null || die "gcc not found: apt-get install gcc, then re-run"
command -v make >/dev/null || die "make not found: apt-get install make, then re-run"
make -s -C native >&2 || die "building native/ failed: see the compiler output above"

# 6. The C load generator the latency tests and the benchmark drive servers with.
make -s -C bench/loadgen >&2 || die "building bench/loadgen failed: see the compiler output above"
