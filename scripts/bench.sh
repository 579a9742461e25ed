#!/usr/bin/env bash
# `npm run bench` / `bun run bench`: set up ringrpc (scripts/setup.sh), then run
# the RPC benchmark matrix (src/cli/main.ts bench -> bench/run.ts, which builds
# the load generator, the idle holder and the Tokio baseline itself).
# Options pass through: `bun run bench --all`, `bun run bench --help`.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
exec node_modules/.bin/bun src/cli/main.ts bench "$@"
