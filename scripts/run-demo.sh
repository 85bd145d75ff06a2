#!/usr/bin/env bash
# `make run`: the embedded default (SQLite + in-process queue, one process) with a demo store.
set -euo pipefail
cd "$(dirname "$0")/.."
export COMPANION_DATABASE_URL="${COMPANION_DATABASE_URL:-sqlite:///companion.db}"
HOST="${HOST:-127.0.0.1}"
PORT="${PORT:-8000}"
export COMPANION_PUBLIC_URL="${COMPANION_PUBLIC_URL:-http://$HOST:$PORT}"
if .venv/bin/companion --help | grep -q "demo"; then
  .venv/bin/companion demo ensure --port "$PORT" --host "$HOST" || true
fi
exec .venv/bin/companion run --host "$HOST" --port "$PORT"
