#!/usr/bin/env bash
# Starts Stoplight Prism as a stand-in for SendGrid, serving SendGrid's own OpenAPI document,
# and waits until it answers. Prints the base URL and the pid to stop it with (`kill PID`).
#
#   scripts/prism.sh [PORT]        (default 4010; log in ${TMPDIR:-/tmp}/prism-PORT.log)
#   COMPANION_SENDGRID_HOST=http://127.0.0.1:4010 then points the service at it.
set -euo pipefail

port="${1:-4010}"
root="$(cd "$(dirname "$0")/.." && pwd)"
spec="$root/specs/sendgrid/oas_v3.json"
log="${TMPDIR:-/tmp}/prism-$port.log"

[ -f "$spec" ] || { echo "SendGrid's OpenAPI document is missing: $spec" >&2; exit 1; }
if [ ! -x "$root/node_modules/.bin/prism" ]; then
    (cd "$root" && npm install --no-audit --no-fund)
fi

"$root/node_modules/.bin/prism" mock -p "$port" -h 127.0.0.1 "$spec" >"$log" 2>&1 &
pid=$!

for _ in $(seq 1 120); do
    if ! kill -0 "$pid" 2>/dev/null; then
        echo "Prism exited; see $log" >&2
        tail -n 20 "$log" >&2
        exit 1
    fi
    code="$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$port/v3/mail/send" || true)"
    if [ "$code" != "000" ]; then
        echo "PRISM_URL=http://127.0.0.1:$port"
        echo "PRISM_PID=$pid"
        exit 0
    fi
    sleep 0.5
done
echo "Prism did not answer within 60 s; see $log" >&2
kill "$pid"
exit 1
