#!/usr/bin/env bash
# Every suite; fails at the first that fails. Called by `make test` (and so by CI).
#
# Most suites keep one core busy, so they run in two lanes side by side (the machine `make test`
# is budgeted for has two cores, and 20 minutes). Seconds on a quiet two-core machine, both lanes
# running (4 Dec 2026):
#   lane 1 (here):       lint, Python on SQLite (280), on PostgreSQL (~200), PHPUnit, WordPress
#                        e2e, browser (~60 together)
#   lane 2 (background): schemathesis (scripts/test-fuzz.sh, ~265), the Python tests without a
#                        database with the wall clock 400 days ahead (25), Python on MariaDB (~300)
# (scripts/test-python.sh says which pass runs what; each has its own Redis database.)
# Lane 2 writes artifacts/lane2.log; it is printed when it fails, and its tail at the end. Lane 1
# looks between its suites whether lane 2 has failed, and stops then.
set -euo pipefail
cd "$(dirname "$0")/.."
start=$(date +%s)
mkdir -p artifacts
rm -f artifacts/lane2.rc

(
  set +e
  bash scripts/test-fuzz.sh && bash scripts/test-python.sh clock mariadb
  echo $? >artifacts/lane2.rc
) >artifacts/lane2.log 2>&1 &
lane2=$!
kill_tree() { # a process and everything it started
  local child
  for child in $(pgrep -P "$1"); do kill_tree "$child"; done
  kill "$1" 2>/dev/null || true
}
trap 'kill_tree "$lane2"' EXIT
echo "== lane 2 started in the background: schemathesis, Python without a database (clock shifted), Python on MariaDB (artifacts/lane2.log)"

lane2_failed() {
  if [ -f artifacts/lane2.rc ] && [ "$(cat artifacts/lane2.rc)" != 0 ]; then
    cat artifacts/lane2.log
    echo "lane 2 failed: artifacts/lane2.log above" >&2
    return 0
  fi
  return 1
}

for step in "test-python.sh lint sqlite" "test-python.sh postgresql" test-php.sh test-php-e2e.sh \
  test-browser.sh; do
  lane2_failed && exit 1
  script=${step%% *}
  if [ -f "scripts/$script" ]; then
    echo "== scripts/$step ($(($(date +%s) - start)) s in)"
    # shellcheck disable=SC2086 # the step's words are its arguments
    bash scripts/$step
  fi
done

echo "== lane 1 done in $(($(date +%s) - start)) s; waiting for lane 2"
wait "$lane2" || true
if [ "$(cat artifacts/lane2.rc 2>/dev/null)" != 0 ]; then
  cat artifacts/lane2.log
  echo "lane 2 failed: artifacts/lane2.log above" >&2
  exit 1
fi
trap - EXIT
grep -E '^== |passed|operations|cases' artifacts/lane2.log | tail -n 12
echo "== all suites passed in $(($(date +%s) - start)) s"
