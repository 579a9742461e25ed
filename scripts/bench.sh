#!/usr/bin/env bash
# `npm run bench` / `bun run bench`: set up ringrpc (scripts/setup.sh), then run
# the RPC benchmark matrix (src/cli/main.ts bench -> bench/run.ts, which builds
# the load generator, the idle holder and the Tokio baseline itself).
# Options pass through: `npm run bench -- --quick`, `bun run bench --all`.
# `npm run bench --quick` (no `--`) reaches bench/run.ts as npm_config_quick=true,
# which it reads back (bench/matrix/npm-flags.ts; bench/README.md, "Options through npm").
# Exit code 3: a contender is STALLED (depth-1 p50 > 10x the best; bench/README.md).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
exec node_modules/.bin/bun src/cli/main.ts bench "$@"
