#!/usr/bin/env bash
# Offline Rust toolchain for the Tokio baselines: installs Debian's packaged
# crate sources (librust-*-dev, into /usr/share/cargo/registry) that
# .cargo/config.toml points cargo at, then builds the binaries with --offline.
# The crates registry is unreachable from these machines; nothing here uses it.
set -euo pipefail
cd "$(dirname "$0")"

die() { echo "bench/tokio setup: $*" >&2; exit 1; }

# tokio and bytes for the servers (echo, rpc_server); serde and rmp-serde for
# the msgpack_check toolchain probe.
packages=(librust-tokio-dev librust-bytes-dev librust-serde-dev librust-serde-derive-dev librust-rmp-dev librust-rmp-serde-dev)

command -v cargo >/dev/null || die "cargo not found: install a Rust toolchain (rustup or apt-get install cargo), then re-run"

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if [ "${#missing[@]}" -gt 0 ]; then
  if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null; then
    die "missing Debian packages ${missing[*]}: run as root with apt-get available, or install them by hand"
  fi
  echo "bench/tokio setup: apt-get install ${missing[*]}" >&2
  { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}"; } >/tmp/ringrpc-tokio-apt.log 2>&1 \
    || die "apt-get install failed (see /tmp/ringrpc-tokio-apt.log)"
fi
[ -d /usr/share/cargo/registry ] || die "/usr/share/cargo/registry missing after install: the librust-*-dev packages did not install crate sources"

cargo build --release --offline >&2 || die "cargo build --release --offline failed: see the output above (a crate version missing from /usr/share/cargo/registry shows as 'no matching package')"
./target/release/msgpack_check >&2 || die "msgpack_check failed: serde/rmp-serde from Debian do not round-trip"
cargo test --release --offline --lib >&2 || die "the rpc_server protocol unit tests failed: see the output above"
echo "bench/tokio setup: built $(pwd)/target/release/echo and $(pwd)/target/release/rpc_server" >&2
