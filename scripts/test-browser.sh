#!/usr/bin/env bash
# Browser tests of the dashboard: start the service on a fresh SQLite demo store, drive Debian's
# Chromium with Playwright (playwright-core from node_modules; no browser download), save
# screenshots to artifacts/screenshots/. Called by `make test` (scripts/test-all.sh).
set -euo pipefail
cd "$(dirname "$0")/.."
started=$(date +%s)
CHROMIUM=/usr/bin/chromium
[ -x "$CHROMIUM" ] || { echo "test-browser: $CHROMIUM is missing; run scripts/setup.sh (apt-get install chromium)"; exit 1; }
[ -d node_modules/playwright-core ] || { echo "test-browser: node_modules/playwright-core is missing; run npm install"; exit 1; }

work=$(mktemp -d)
server_pid=""
cleanup() {
  # The server runs in its own process group (setsid): `companion run`'s worker forks an RQ
  # scheduler process that would outlive a plain kill of the server's own pid.
  if [ -n "$server_pid" ]; then
    kill -TERM -- "-$server_pid" 2>/dev/null || true
    wait "$server_pid" 2>/dev/null || true
    sleep 0.5
    kill -KILL -- "-$server_pid" 2>/dev/null || true
  fi
  rm -rf "$work"
}
trap cleanup EXIT

port=$(.venv/bin/python -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
unset COMPANION_REDIS_URL
export COMPANION_DATABASE_URL="sqlite:///$work/browser.db"
export COMPANION_SECRET_KEY="browser-test-$(head -c 16 /dev/urandom | od -An -tx1 | tr -d ' \n')"
export COMPANION_SECRET_KEY_PATH="$work/secret"
export COMPANION_PUBLIC_URL="http://127.0.0.1:$port"
export COMPANION_LOG_LEVEL=WARNING
companion=.venv/bin/companion

echo "== seeding a demo store (70 days) into $COMPANION_DATABASE_URL"
$companion demo seed --days 70 --orders-per-day 12 > "$work/seed.log"
tail -4 "$work/seed.log"
site_id=$(awk '/^Site id:/ {print $3}' "$work/seed.log")
api_token=$(awk '/^API token:/ {print $3}' "$work/seed.log")
empty_json=$($companion sites add --name "New Shop" --url https://new-shop.example --json)
empty_id=$(.venv/bin/python -c 'import json,sys; print(json.load(sys.stdin)["id"])' <<<"$empty_json")

echo "== starting the service on port $port"
setsid $companion run --host 127.0.0.1 --port "$port" > "$work/server.log" 2>&1 &
server_pid=$!
for _ in $(seq 1 60); do
  curl -s -o /dev/null "http://127.0.0.1:$port/healthz" && break
  sleep 0.5
done

mkdir -p artifacts/screenshots
export BASE_URL="http://127.0.0.1:$port" SITE_ID="$site_id" API_TOKEN="$api_token" SCREENSHOTS=artifacts/screenshots
export LOGIN_URL=$($companion dashboard-link --site "$site_id")
export EMPTY_LOGIN_URL=$($companion dashboard-link --site "$empty_id")
echo "== Playwright tests (Chromium $($CHROMIUM --version 2>/dev/null | awk '{print $2}'))"
status=0
node tests/browser/dashboard.test.mjs || status=$?
if [ "$status" -ne 0 ]; then echo "-- server log:"; tail -40 "$work/server.log"; fi
echo "== browser tests finished in $(( $(date +%s) - started )) s; screenshots in artifacts/screenshots/"
exit "$status"
