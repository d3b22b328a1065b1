#!/usr/bin/env bash
# OpenStack's conformance suite (Tempest) against a cluster of its own: installs Debian's tempest
# when missing, starts an all-in-one cluster on free ports (state and data in a temp dir),
# provisions Tempest's pre-provisioned accounts, images and configuration through the REST API
# (scripts/conformance/provision.ts), runs the compute/image/identity subset with --concurrency 1,
# writes per-test results into conformance-results/, and ends with `N passed, N failed, N skipped`.
#
#   bash scripts/conformance.sh [--check] [--regex R]
#
# --check: exit 1 only when a test fails that scripts/conformance-expected-failures.txt does not list
# (CI: regressions fail, known gaps do not). Without it the exit status is 1 when any test failed.
set -uo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
root=$(pwd)
say() { echo "conformance: $*" >&2; }

REGEX='tempest\.api\.compute\.(test_versions|flavors|keypairs|limits|images|server_groups|servers\.(test_servers|test_list_servers|test_list_server_filters|test_create_server|test_server_actions|test_server_group|test_server_metadata))|tempest\.api\.image\.v2\.test_images|tempest\.api\.identity\.v3\.test_tokens'
HOSTS=3
check=""
while [ $# -gt 0 ]; do
  case "$1" in
    --check) check=yes ;;
    --regex) REGEX="$2"; shift ;;
    *) say "unknown argument $1"; exit 2 ;;
  esac
  shift
done

as_root() {
  if [ "$(id -u)" -eq 0 ]; then "$@"
  elif command -v sudo >/dev/null 2>&1; then sudo "$@"
  else say "need root or sudo to run: $*"; exit 1
  fi
}
if ! command -v tempest >/dev/null 2>&1 || ! command -v subunit2csv >/dev/null 2>&1; then
  say "installing tempest"
  as_root env DEBIAN_FRONTEND=noninteractive apt-get update -qq
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends tempest python3-stestr python3-subunit >&2 || exit 1
fi
bash scripts/setup.sh || exit 1

tmp=$(mktemp -d -t novact-conformance-XXXXXX)
ws="$tmp/workspace"
results="$root/conformance-results"
mkdir -p "$ws" "$results"
cluster_pid=""
stop_cluster() {
  if [ -n "$cluster_pid" ] && kill -0 "$cluster_pid" 2>/dev/null; then
    kill -TERM "$cluster_pid" 2>/dev/null
    wait "$cluster_pid" 2>/dev/null
  fi
  rm -rf "$tmp"
}
trap stop_cluster EXIT
trap 'exit 130' INT TERM

# --- the cluster: its own state file, embedded NATS and PostgreSQL, API on a free port ----------
export NOVACT_STATE_FILE="$tmp/state/cluster.json" NOVACT_LOG=warn
export NOVACT_ADMIN_PASSWORD="conformance-$(head -c 12 /dev/urandom | od -An -tx1 | tr -d ' \n')"
mkdir -m 700 -p "$tmp/state"
node --import tsx cli/main.ts up --json --hosts "$HOSTS" --api-port 0 >"$tmp/up.json" 2>"$results/cluster.log" &
cluster_pid=$!
api_url=""
for _ in $(seq 1 240); do
  api_url=$(head -n 1 "$tmp/up.json" 2>/dev/null | sed -nE 's/.*"apiUrl":"([^"]+)".*/\1/p')
  [ -n "$api_url" ] && break
  kill -0 "$cluster_pid" 2>/dev/null || { say "the cluster exited:"; cat "$results/cluster.log" >&2; exit 1; }
  sleep 0.5
done
[ -n "$api_url" ] || { say "the cluster did not come up in 120 s"; exit 1; }
say "cluster up at $api_url"

node --import tsx scripts/conformance/provision.ts "$api_url" "$NOVACT_ADMIN_PASSWORD" "$ws" "$HOSTS" || exit 1
cp "$ws/etc/tempest.conf" "$results/tempest.conf"

# --- the run --------------------------------------------------------------------------------------
started=$(date +%s)
say "running tempest (concurrency 1); log in $results/tempest.log"
( cd "$ws" && tempest run --config-file "$ws/etc/tempest.conf" --concurrency 1 --regex "$REGEX" ) >"$results/run.txt" 2>&1
say "tempest took $(( $(date +%s) - started )) s"
cp -f "$ws/tempest.log" "$results/tempest.log" 2>/dev/null
( cd "$ws" && stestr last --subunit ) >"$results/results.subunit" 2>/dev/null
subunit2csv <"$results/results.subunit" >"$results/results.csv" 2>/dev/null
( cd "$ws" && stestr last --all-attachments ) >"$results/details.txt" 2>&1
/usr/bin/python3 scripts/conformance/failure-reasons.py "$results/results.subunit" >"$results/failures.txt" 2>&1

# results.csv: test,status,start_time,stop_time (quoted: ids carry [id-…,tags]); status is success,
# failure or skip. A class that fails in setUpClass is one failure, as Tempest reports it.
python3 - "$results" <<'PY' || exit 1
import csv, re, sys
d = sys.argv[1]
by = {'success': set(), 'failure': set(), 'skip': set()}
for row in csv.DictReader(open(f'{d}/results.csv')):
    by.setdefault(row['status'], set()).add(re.sub(r'\[.*$', '', row['test']))
for status, name in (('failure', 'failed'), ('skip', 'skipped'), ('success', 'passed')):
    with open(f'{d}/{name}.txt', 'w') as f:
        f.writelines(f'{t}\n' for t in sorted(by[status]))
PY
passed=$(wc -l <"$results/passed.txt")
failed=$(wc -l <"$results/failed.txt")
skipped=$(wc -l <"$results/skipped.txt")
status=0
if [ -n "$check" ]; then
  expected="$root/scripts/conformance-expected-failures.txt"
  grep -vE "^\s*(#|$)" "$expected" | LC_ALL=C sort -u >"$tmp/expected.txt"
  LC_ALL=C comm -23 "$results/failed.txt" "$tmp/expected.txt" >"$results/new-failures.txt"
  if [ -s "$results/new-failures.txt" ]; then
    say "failures not in scripts/conformance-expected-failures.txt:"; cat "$results/new-failures.txt" >&2; status=1
  fi
  fixed=$(LC_ALL=C comm -13 "$results/failed.txt" "$tmp/expected.txt" | wc -l)
  [ "$fixed" -gt 0 ] && say "$fixed expected failures now pass (or did not run): prune the list"
elif [ "$failed" -gt 0 ]; then
  status=1
fi
[ "$(( passed + failed + skipped ))" -gt 0 ] || { say "no results: see $results/run.txt"; status=1; }
echo "$passed passed, $failed failed, $skipped skipped"
exit "$status"
