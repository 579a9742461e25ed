#!/usr/bin/env bash
# The README's first command: set up, then run the demo.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
exec node_modules/.bin/bun scripts/demo.ts "$@"
