#!/usr/bin/env bash
# Every suite; stops at the first that fails. Called by `make test` (and so by CI).
# schemathesis (scripts/test-fuzz.sh, about 10 minutes of one core) runs in the background from
# the start, beside the others, and is waited for at the end.
set -euo pipefail
cd "$(dirname "$0")/.."
start=$(date +%s)
mkdir -p artifacts
bash scripts/test-fuzz.sh >artifacts/fuzz.log 2>&1 &
fuzz=$!
trap 'pkill -P "$fuzz" 2>/dev/null; kill "$fuzz" 2>/dev/null || true' EXIT
echo "== scripts/test-fuzz.sh started in the background (artifacts/fuzz.log)"
bash scripts/test-python.sh
for suite in scripts/test-php.sh scripts/test-php-e2e.sh scripts/test-browser.sh; do
  if [ -f "$suite" ]; then
    echo "== $suite"
    bash "$suite"
  fi
done
echo "== scripts/test-fuzz.sh (started at the beginning): $(( $(date +%s) - start )) s in, waiting for it"
if ! wait "$fuzz"; then
  cat artifacts/fuzz.log
  echo "scripts/test-fuzz.sh failed: artifacts/fuzz.log above" >&2
  exit 1
fi
trap - EXIT
tail -n 4 artifacts/fuzz.log
echo "== all suites passed in $(( $(date +%s) - start )) s"
