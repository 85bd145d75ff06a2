#!/usr/bin/env bash
# The Python suite: everything on SQLite, then everything on SQLite again with the wall clock 400
# days ahead (a test that leans on today's date fails the day it is written, not weeks later), then
# every database test again on PostgreSQL and MariaDB.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=.venv/bin/python
mkdir -p artifacts
# The databases and Redis db the suites use; override to run beside another checkout's tests.
PG_URL=${COMPANION_TEST_PG_URL:-postgresql://postgres@127.0.0.1:5432/companion_test}
MARIADB_URL=${COMPANION_TEST_MARIADB_URL:-mysql://root@127.0.0.1:3306/companion_test}
export COMPANION_TEST_REDIS_URL=${COMPANION_TEST_REDIS_URL:-redis://127.0.0.1:6379/14}

echo "== Lint: ruff (rules and formatting), and the import layers of docs/architecture.md (import-linter)"
$PY -m ruff check companion jobs tests bench wsgi.py
$PY -m ruff format --check companion jobs tests bench wsgi.py
.venv/bin/lint-imports --no-cache

echo "== Python tests on SQLite (all suites, SendGrid contract through Prism included)"
# schemathesis over /openapi.json (the `fuzz` mark) is scripts/test-fuzz.sh: scripts/test-all.sh
# runs it beside every other suite.
$PY -m pytest -m "not fuzz"
echo "== Python tests on SQLite with the wall clock 400 days ahead (tests/clock_shift.py)"
COMPANION_TEST_CLOCK_SHIFT_DAYS=400 $PY -m pytest -m "not fuzz"
echo "== Python database tests on PostgreSQL"
COMPANION_TEST_DATABASE_URL=$PG_URL $PY -m pytest -m "db and not fuzz"
echo "== Python database tests on MariaDB"
COMPANION_TEST_DATABASE_URL=$MARIADB_URL $PY -m pytest -m "db and not fuzz"
