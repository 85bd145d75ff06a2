#!/usr/bin/env bash
# schemathesis over /openapi.json: every operation, coverage and fuzzing phases, FUZZ_EXAMPLES
# examples each (300 by default), every check on (tests/service/test_openapi_fuzz.py), on SQLite.
# Then how many cases each operation got; it fails if an operation that takes input got fewer than
# FUZZ_EXAMPLES (a hook or a setting that starves the fuzzing shows here).
# scripts/test-all.sh runs it in the background beside the other suites, which mostly keep one of
# two cores busy; it has its own Redis db, since every Redis test empties its db.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=.venv/bin/python
mkdir -p artifacts
FUZZ_EXAMPLES=${COMPANION_TEST_FUZZ_EXAMPLES:-300}
calls=artifacts/fuzz-calls.jsonl
rm -f "$calls"
echo "== schemathesis over /openapi.json, $FUZZ_EXAMPLES examples per operation"
COMPANION_TEST_REDIS_URL=${COMPANION_TEST_FUZZ_REDIS_URL:-redis://127.0.0.1:6379/13} \
  COMPANION_TEST_FUZZ_EXAMPLES=$FUZZ_EXAMPLES COMPANION_TEST_FUZZ_CALLS=$calls \
  $PY -m pytest -q -p no:cacheprovider -m fuzz tests/service/test_openapi_fuzz.py
$PY -m tests.service.fuzz_calls "$calls" --examples "$FUZZ_EXAMPLES"
