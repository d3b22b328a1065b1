#!/usr/bin/env bash
# The main job, from a fresh Debian machine: installs what is missing, then runs the all-in-one
# cluster (nats-server child, private PostgreSQL, 5 fake hosts) and boots two sample servers.
# Ctrl-C stops everything. Extra arguments go to `novact up` (e.g. --hosts 50 --demo 10).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
bash scripts/setup.sh
args=("$@")
[ ${#args[@]} -gt 0 ] || args=(--hosts 5 --demo 2)
exec node --import tsx cli/main.ts up "${args[@]}"
