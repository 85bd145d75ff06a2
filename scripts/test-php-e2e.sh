#!/usr/bin/env bash
# End to end: real WordPress with the plugin -> running Python service -> customer profile.
# Run as root from the repository root: bash scripts/test-php-e2e.sh
set -euo pipefail

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$REPO"
COMPANION="$REPO/.venv/bin/companion"
PY="$REPO/.venv/bin/python"
WORK="$(mktemp -d)"
SERVICE_PID=""
cleanup() {
	if [ -n "$SERVICE_PID" ]; then kill "$SERVICE_PID" 2>/dev/null || true; wait "$SERVICE_PID" 2>/dev/null || true; fi
	if [ "${KEEP_E2E:-}" = 1 ]; then echo "kept $WORK" >&2; else rm -rf "$WORK"; fi
}
trap cleanup EXIT

bash scripts/wp-setup.sh sce2e sc_wp_e2e http://shop.test

export COMPANION_DATABASE_URL="sqlite:///$WORK/companion.db"
export COMPANION_SECRET_KEY="e2e-secret-key-0123456789"
unset COMPANION_REDIS_URL || true
SITE_JSON="$(cd "$WORK" && "$COMPANION" sites add --name "E2E Shop" --url http://shop.test --currency EUR --json | tail -1)"
field() { "$PY" -c 'import json,sys; print(json.loads(sys.argv[1])[sys.argv[2]])' "$SITE_JSON" "$1"; }
SITE_ID="$(field id)"; SECRET="$(field secret)"; TOKEN="$(field api_token)"
PORT="$("$PY" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')"
(cd "$WORK" && exec "$COMPANION" run --host 127.0.0.1 --port "$PORT" >"$WORK/service.log" 2>&1) &
SERVICE_PID=$!
for _ in $(seq 1 100); do
	curl -fs "http://127.0.0.1:$PORT/openapi.json" >/dev/null 2>&1 && break
	kill -0 "$SERVICE_PID" 2>/dev/null || { cat "$WORK/service.log" >&2; exit 1; }
	sleep 0.2
done

EMAIL="erin.e2e@example.com"
SUMMARY="$(WORDPRESS_CONFIG=sce2e SC_SERVICE_URL="http://127.0.0.1:$PORT" SC_SITE_ID="$SITE_ID" SC_SECRET="$SECRET" \
	SC_TOKEN="$TOKEN" SC_EMAIL="$EMAIL" php -d display_errors=stderr "$REPO/wp-plugin/tests/bin/e2e.php" 2> >(grep -v "PHP Deprecated" >&2) | tail -1)"
echo "WordPress side: $SUMMARY"

"$PY" - "$SUMMARY" "http://127.0.0.1:$PORT" "$SITE_ID" "$TOKEN" "$EMAIL" <<'PYEOF'
import json, sys, time, urllib.request
from decimal import Decimal

summary, base, site, token, email = json.loads(sys.argv[1]), *sys.argv[2:]
problems = []
def check(ok, what):
    print(("ok   " if ok else "FAIL ") + what)
    if not ok:
        problems.append(what)

check(summary["connection"]["ok"], "Test connection: " + summary["connection"]["message"])
check(summary["flows"]["ok"], "Push flow settings: " + summary["flows"]["message"])
req = urllib.request.Request(f"{base}/v1/sites/{site}/flows", headers={"Authorization": f"Bearer {token}"})
with urllib.request.urlopen(req, timeout=5) as resp:
    pushed = json.load(resp)
flows = {flow["key"]: flow for flow in pushed["flows"]}
check((pushed["settings"]["from_name"], pushed["settings"]["from_email"]) == ("Erin at E2E Shop", "hello@shop.test"),
      f"the sender is the service's from_name/from_email ({pushed['settings']['from_name']}, {pushed['settings']['from_email']})")
check(pushed["settings"].get("postal_address") == "1 Harbour Street, Bristol, BS1 4QA, GB",
      f"WooCommerce's store address is the mails' postal address ({pushed['settings'].get('postal_address')})")
check(flows["vip"]["enabled"] is False and flows["post_purchase"]["enabled"] is True, "VIP off, the others on")
check([s["delay_hours"] for s in flows["abandoned_cart"]["steps"]] == [3, 24, 72], "abandoned cart: first email after 3 hours, later steps kept")
check(flows["renewal_reminder"]["steps"][0]["delay_hours"] == -72, "renewal reminder: first email 72 hours before expiry")
check(not summary["refused"]["ok"] and "flows.win_back.steps.0.subject_b" in summary["refused"]["message"]
      and "frist_name" in summary["refused"]["message"], "a subject B that cannot render is refused, naming the field: " + summary["refused"]["message"])
check(flows["win_back"]["steps"][0]["subject_b"] == "{{ contact.first_name }}, your 10% is waiting"
      and flows["win_back"]["steps"][1]["subject_b"] is None, "win-back's first email tests a subject B")
check(summary["backlog"]["status"] == 200 and summary["backlog"]["body"]["waiting"] == 0, "the plugin reads the backlog (nobody waits on a new store)")
tests = summary["ab_tests"]["body"]["tests"]
check([(t["flow"], t["step"], t["ab_test"]) for t in tests] == [("win_back", 1, None)], f"the Reports page lists the test, no mail yet ({tests})")
check(summary["queued"] > 0 and summary["delivered"] == summary["queued"], f"all {summary['queued']} recorded events delivered")
check(summary["outbox"] == {"pending": 0, "failed": 0}, f"outbox empty, nothing failed {summary['failures']}")

def dec(value):
    try:
        return Decimal(str(value))
    except Exception:
        return None

def profile():
    return profile_of(email)

def profile_of(address):
    req = urllib.request.Request(f"{base}/v1/sites/{site}/contacts/{address}", headers={"Authorization": f"Bearer {token}"})
    try:
        with urllib.request.urlopen(req, timeout=5) as resp:
            return json.load(resp)
    except urllib.error.HTTPError:
        return None

data = None
for _ in range(75):
    data = profile()
    if data and data.get("orders_count") == 1 and (dec(data.get("refunded")) or 0) > 0:
        break
    time.sleep(0.2)
check(data is not None, "the service has a profile for the guest's email")
data = data or {}
check(data.get("first_name") == "Erin", "first name from the order")
check(data.get("orders_count") == 1, "one counted order")
check(dec(data.get("total_spent")) == Decimal("25.00"), f"total spent 25.00 (got {data.get('total_spent')})")
check(dec(data.get("refunded")) == Decimal("5.00"), f"refunded 5.00 (got {data.get('refunded')})")
check(dec(data.get("net_spent")) == Decimal("20.00"), f"net spent 20.00 (got {data.get('net_spent')})")
orders = data.get("orders") or []
check(len(orders) == 1 and orders[0].get("status") == "completed", f"the order is completed ({[o.get('status') for o in orders]})")
check(len(data.get("carts") or []) >= 1, "the guest's cart is on the profile")

def spent(address):
    for _ in range(50):
        other = profile_of(address)
        if other and other.get("orders_count") == 1:
            return dec(other.get("total_spent"))
        time.sleep(0.2)
    return None

check(spent("edd.e2e@example.com") == Decimal("49.00"), "EDD: the sale is on its customer's profile (49.00)")
check(spent("fc.e2e@example.com") == Decimal("123.45"), "FluentCart: 12345 cents arrive as 123.45")

# The catalogue (product.updated): the service's product table, read from its SQLite file.
import os, sqlite3
db = os.environ["COMPANION_DATABASE_URL"].removeprefix("sqlite:///")
thermos = summary["thermos"]
row = None
for _ in range(50):
    with sqlite3.connect(db) as conn:
        row = conn.execute(
            "SELECT name, sku, price, url, stock_quantity, status FROM product WHERE external_id = ?",
            (thermos["id"],),
        ).fetchone()
    if row and row[4] == 0:
        break
    time.sleep(0.2)
check(row is not None and row[:4] == ("Trail Thermos 500ml", "THERMOS-500", row[2], thermos["url"]) and Decimal(row[2]) / 10000 == Decimal("24.90"),  # MoneyField: ten-thousandths
      f"WooCommerce: the new product is in the service's catalogue with its name, sku, price, url ({row})")
check(row is not None and (row[4], row[5]) == (0, "outofstock"), f"an order took the last one: stock 0, outofstock ({row})")
sys.exit(1 if problems else 0)
PYEOF
