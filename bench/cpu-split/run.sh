#!/usr/bin/env bash
# Where a request's CPU time goes in one server, per request: JIT code, other
# user code (the bun binary, libc, the shim) and the kernel. Starts the server
# pinned to CPU 0, bench/loadgen on CPU 1 (16 connections, echo 64 B, closed
# loop), samples the server with `perf record -e cpu-clock` for 3 s, and
# prints the rate under perf and the ns per request of each part (perf's own
# overhead lowers the rate by ~10%). Used in bench/RESULTS.md 0.20. Needs perf.
# Usage: bench/cpu-split/run.sh <ringrpc-uring|uring-floor|tokio-ct> [depth] [port]
set -euo pipefail
cd "$(dirname "$0")/../.."
name=${1:?usage: bench/cpu-split/run.sh <ringrpc-uring|uring-floor|tokio-ct> [depth] [port]}
depth=${2:-32}
port=${3:-21990}
bun=node_modules/.bin/bun
case $name in
  ringrpc-uring) server=("$bun" bench/server/server.ts --port "$port" --workers 1 --driver uring) ;;
  uring-floor) server=("$bun" bench/floor/server.ts --port "$port") ;;
  tokio-ct) server=(bench/tokio/target/release/rpc_server --port "$port" --current-thread) ;;
  *) echo "cpu-split: unknown server \"$name\" (ringrpc-uring, uring-floor or tokio-ct)" >&2; exit 2 ;;
esac
command -v perf >/dev/null || { echo "cpu-split: perf is not installed (apt-get install linux-perf)" >&2; exit 2; }
work=$(mktemp -d)
taskset -c 0 "${server[@]}" >"$work/server.log" 2>&1 &
spid=$!
trap 'kill $spid 2>/dev/null || true; rm -rf "$work"' EXIT
sleep 1.5
bench/loadgen/build/loadgen --port "$port" --conns 16 --depth "$depth" --duration 5 --warmup 1 --cpu 1 --mode rpc --method echo >"$work/loadgen.json" &
lg=$!
sleep 2
perf record -e cpu-clock -p "$spid" -o "$work/perf.data" -- sleep 3 >/dev/null 2>&1
wait $lg
rps=$(grep -o '"rps":[0-9.]*' "$work/loadgen.json" | cut -d: -f2)
perf report -i "$work/perf.data" --no-children --sort dso 2>/dev/null | grep -v '^#' | grep '%' |
  awk -v name="$name" -v rps="$rps" '{ gsub("%", "", $1); if ($2 ~ /JIT/) j += $1; else if ($2 ~ /kernel/) k += $1; else u += $1 }
    END { printf "%s: %d req/s under perf; ns per request: JIT %.0f, other user %.0f, kernel %.0f, total %.0f\n", name, rps, j * 1e7 / rps, u * 1e7 / rps, k * 1e7 / rps, (j + u + k) * 1e7 / rps }'
