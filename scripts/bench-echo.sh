#!/usr/bin/env bash
# Raw echo benchmark wrapper: runs the shared set-up, then bench/echo/run.ts
# with the arguments given (e.g. --quick for a CI smoke run). The Tokio
# contender is built only if bench/tokio/setup.sh has been run once.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
exec node_modules/.bin/bun bench/echo/run.ts "$@"
