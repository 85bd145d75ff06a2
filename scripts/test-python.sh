#!/usr/bin/env bash
# The Python suite in passes, each a pytest process of its own:
#
#   lint        ruff (rules and formatting) and the import layers of docs/architecture.md
#   sqlite      every test on SQLite (SendGrid's contract through Prism included)
#   postgresql  every database test on PostgreSQL, with the wall clock 400 days ahead
#   mariadb     every database test on MariaDB
#   clock       the tests that touch no database, with the wall clock 400 days ahead
#
# So every test runs once on today's clock and once 400 days ahead (tests/clock_shift.py: a test
# that leans on today's date fails the day it is written, not weeks later), and every database
# test once on each engine. schemathesis over /openapi.json (the `fuzz` mark) is
# scripts/test-fuzz.sh.
#
#   bash scripts/test-python.sh                 # all passes, one after the other
#   bash scripts/test-python.sh mariadb clock   # just these
#
# scripts/test-all.sh (`make test`) runs them in two lanes side by side, so each pass has a Redis
# database of its own (every Redis test empties its database): 14, 12, 11 and 10, schemathesis 13.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=.venv/bin/python
mkdir -p artifacts
# The databases and the Redis server the suites use; override them to run beside another
# checkout's tests.
PG_URL=${COMPANION_TEST_PG_URL:-postgresql://postgres@127.0.0.1:5432/companion_test}
MARIADB_URL=${COMPANION_TEST_MARIADB_URL:-mysql://root@127.0.0.1:3306/companion_test}
REDIS=${COMPANION_TEST_REDIS_SERVER:-redis://127.0.0.1:6379}
SHIFT_DAYS=400

run_pass() {
  local began=$SECONDS
  case "$1" in
    lint)
      echo "== Lint: ruff (rules and formatting), and the import layers (import-linter)"
      $PY -m ruff check companion jobs tests bench wsgi.py
      $PY -m ruff format --check companion jobs tests bench wsgi.py
      .venv/bin/lint-imports --no-cache
      ;;
    sqlite)
      echo "== Python tests on SQLite (all suites, SendGrid contract through Prism included)"
      COMPANION_TEST_REDIS_URL=$REDIS/14 $PY -m pytest -m "not fuzz"
      ;;
    postgresql)
      echo "== Python database tests on PostgreSQL, wall clock $SHIFT_DAYS days ahead"
      COMPANION_TEST_REDIS_URL=$REDIS/12 COMPANION_TEST_CLOCK_SHIFT_DAYS=$SHIFT_DAYS \
        COMPANION_TEST_DATABASE_URL=$PG_URL $PY -m pytest -m "db and not fuzz"
      ;;
    mariadb)
      echo "== Python database tests on MariaDB"
      COMPANION_TEST_REDIS_URL=$REDIS/11 COMPANION_TEST_DATABASE_URL=$MARIADB_URL \
        $PY -m pytest -m "db and not fuzz"
      ;;
    clock)
      echo "== Python tests without a database, wall clock $SHIFT_DAYS days ahead"
      COMPANION_TEST_REDIS_URL=$REDIS/10 COMPANION_TEST_CLOCK_SHIFT_DAYS=$SHIFT_DAYS \
        $PY -m pytest -m "not db and not fuzz"
      ;;
    *)
      echo "test-python.sh: unknown pass $1 (lint, sqlite, postgresql, mariadb, clock)" >&2
      return 2
      ;;
  esac
  echo "== pass $1: $((SECONDS - began)) s"
}

passes=("$@")
[ ${#passes[@]} -gt 0 ] || passes=(lint sqlite postgresql mariadb clock)
for pass in "${passes[@]}"; do
  run_pass "$pass"
done
