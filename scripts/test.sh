#!/usr/bin/env bash
# The whole test suite, from a fresh Debian machine: installs what is missing, type-checks, checks
# the layer rules, runs every tap test (each file starts its own nats-server and PostgreSQL on free
# ports), and ends with one line `N passed, N failed` computed from tap's own result. Exit status is
# tap's.
set -uo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
bash scripts/setup.sh || exit 1

echo "test: type-checking" >&2
npx tsc --noEmit || { echo "0 passed, 1 failed"; exit 1; }

# Every import runs downward (.dependency-cruiser.cjs; docs/architecture.md "Layout").
echo "test: checking the layer rules" >&2
npm run -s depcheck || { echo "0 passed, 1 failed"; exit 1; }

log=$(mktemp)
trap 'rm -f "$log"' EXIT
npx tap -R tap "$@" 2>&1 | tee "$log"
status=${PIPESTATUS[0]}

# tap closes with `# { total: N, pass: N, fail: N, ... }` (fields absent when zero).
summary=$(grep -E '^# \{ total: [0-9]+' "$log" | tail -n 1)
pass=$(sed -nE 's/.*pass: ([0-9]+).*/\1/p' <<<"$summary")
fail=$(sed -nE 's/.*fail: ([0-9]+).*/\1/p' <<<"$summary")
echo "${pass:-0} passed, ${fail:-0} failed"
if [ -z "$summary" ] && [ "$status" -eq 0 ]; then status=1; fi
exit "$status"
