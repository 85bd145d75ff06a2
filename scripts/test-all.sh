#!/usr/bin/env bash
# Every suite, in order; stops at the first that fails. Called by `make test` (and so by CI).
set -euo pipefail
cd "$(dirname "$0")/.."
start=$(date +%s)
bash scripts/test-python.sh
for suite in scripts/test-php.sh scripts/test-php-e2e.sh scripts/test-browser.sh; do
  if [ -f "$suite" ]; then
    echo "== $suite"
    bash "$suite"
  fi
done
echo "== all suites passed in $(( $(date +%s) - start )) s"
