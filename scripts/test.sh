#!/usr/bin/env bash
# The whole ringrpc test suite (README's second command; .ci/run runs it):
# set-up, type check, the native shim's C tests, generated-code freshness,
# then every bun:test file. Ends with one "N passed, N failed" line.
set -uo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh || exit 1
BUN=node_modules/.bin/bun
failed_steps=()
# The Tokio baseline's offline crates (Debian librust-*-dev) for the bench
# tests; without cargo or apt those tests skip with the reason instead.
if command -v cargo >/dev/null && [ ! -d /usr/share/cargo/registry ]; then
  bash bench/tokio/setup.sh || echo "test: Tokio baseline not set up (see above): its bench tests will skip"
fi
step() { local name=$1; shift; echo "== $name"; "$@" || failed_steps+=("$name"); }

step "typecheck (tsc --noEmit)" node_modules/.bin/tsc --noEmit -p .
step "native shim C tests" make -s -C native test
step "tests can fail (scripts/check-tests.ts)" $BUN scripts/check-tests.ts
# Each entry: <ridl>:<out>[:<runtime>]; the built-in services' and the interop suite's code import the runtime by a relative path.
for entry in examples/kv/kv.ridl:examples/kv/gen examples/chat/chat.ridl:examples/chat/gen bench/bench.ridl:bench/gen \
  src/services/reflection.ridl:src/services/gen:../.. src/services/health.ridl:src/services/gen:../.. \
  test/interop/test.ridl:test/interop/gen:../../../src; do
  IFS=: read -r ridl out runtime <<<"$entry"
  step "generated code is fresh (ringrpc gen --check $ridl)" $BUN src/cli/main.ts gen --check "$ridl" --out "$out" --runtime "${runtime:-ringrpc}"
done

echo "== bun test"
log=$(mktemp)
$BUN test "$@" 2>&1 | tee "$log"
bun_rc=${PIPESTATUS[0]}
pass=$(grep -Eo '^ *[0-9]+ pass' "$log" | tail -1 | grep -Eo '[0-9]+' || echo 0)
fail=$(grep -Eo '^ *[0-9]+ fail' "$log" | tail -1 | grep -Eo '[0-9]+' || echo 0)
skip=$(grep -Eo '^ *[0-9]+ skip' "$log" | tail -1 | grep -Eo '[0-9]+' || echo 0)
rm -f "$log"
[ "$bun_rc" = 0 ] || failed_steps+=("bun test (exit $bun_rc)")
if [ ${#failed_steps[@]} -gt 0 ]; then
  printf 'failed step: %s\n' "${failed_steps[@]}"
  [ "$fail" = 0 ] && fail=${#failed_steps[@]}
fi
echo "$pass passed, $fail failed, $skip skipped"
[ ${#failed_steps[@]} -eq 0 ]
