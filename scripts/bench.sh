#!/usr/bin/env bash
# `npm run bench` / `bun run bench`: set up, then run the benchmark matrix.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
exec node_modules/.bin/bun src/cli/main.ts bench "$@"
