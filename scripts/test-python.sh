#!/usr/bin/env bash
# The Python suite: everything on SQLite, then every database test again on PostgreSQL and MariaDB.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=.venv/bin/python
mkdir -p artifacts

echo "== Python tests on SQLite (all suites, SendGrid contract through Prism included)"
$PY -m pytest
echo "== Python database tests on PostgreSQL"
COMPANION_TEST_DATABASE_URL=postgresql://postgres@127.0.0.1:5432/companion_test $PY -m pytest -m db
echo "== Python database tests on MariaDB"
COMPANION_TEST_DATABASE_URL=mysql://root@127.0.0.1:3306/companion_test $PY -m pytest -m db
