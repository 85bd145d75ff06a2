#!/usr/bin/env bash
# What the plugin adds to each kind of shopper request on a real WooCommerce shop: the team's
# real-shop kit "real-woocommerce" (kept with the steering notes, outside this repository:
# WordPress 6.5.3, WooCommerce 8.9.1, HPOS, php -S), started with its env.sh settings exported
# (SHOP_DIR, STATE_DIR, SHOP_DB, SHOP_PORT, ...). KIT names the kit's folder.
#
# N rounds (default 20); each round makes every request kind twice, plugin on then off (the
# kit's mu-plugin bench-toggle.php: header X-No-SC: 1 runs the request without the plugin), so
# both modes see the same machine load. The server side (bench-toggle.php, header X-Bench) logs
# per request: the request's time, the time spent in shutdown priorities 0-2 (the plugin's
# end-of-request work runs at 1) and the number of database queries. Prints per kind the median
# and p90 of the end-of-request work, of the paired difference in request time (on - off) and
# the added queries (on - off).
#
#   KIT=/path/to/real-woocommerce bash bench/bench_real_shop_overhead.sh [N]
#
# Kinds: product (product page), beacon (the tracker's product-view beacon with the token of a
# product page fetched just before it, outside the count; off, the route does not exist and
# WordPress answers 404), addtocart (?add-to-cart= on a new session), store (Store
# API checkout: cart, add-item, checkout), classic (shortcode checkout over wc-ajax), account (a
# signed-in customer's product page; the customer "cust" / "custpass" is created when missing).
set -euo pipefail
: "${KIT:?set KIT to the folder of the real-shop kit real-woocommerce}"
. "$KIT/env.sh"
N=${1:-20}
B=$SHOP_URL
KINDS=${KINDS:-product beacon addtocart store classic account}
mkdir -p "$LOG_DIR" "$RUN_DIR"
SERVER=$LOG_DIR/bench-server.tsv
START=$(wc -l < "$SERVER" 2>/dev/null || echo 0)
W=$(mktemp -d "$RUN_DIR/bench.XXXXXX")
trap 'rm -rf "$W"' EXIT
ids() { shop_php "$KIT/scripts/products.php" | awk -v s="$1" '$2 == s {print $1}'; }
MUG=$(ids MUG-BLUE); TOWEL=$(ids TOWEL)
(cd "$SHOP_DIR" && php -r 'require "wp-load.php"; if ( ! username_exists( "cust" ) ) { wc_create_new_customer( "cust@example.com", "cust", "custpass" ); }')
curl -s -c "$W/cust" -b "$W/cust" -o /dev/null "$B/wp-login.php"
curl -s -c "$W/cust" -b "$W/cust" -o /dev/null "$B/wp-login.php" --data 'log=cust&pwd=custpass&testcookie=1&wp-submit=Log+In'
PRODUCT=$(curl -s -o /dev/null -w '%{redirect_url}' "$B/?p=$MUG"); PRODUCT=${PRODUCT:-$B/?p=$MUG}

one() { # kind mode round
	local kind=$1 mode=$2 i=$3 H="X-Bench-Mode: on" J="$W/j" D="$W/d" nonce
	[ "$mode" = off ] && H="X-No-SC: 1"
	rm -f "$J"
	case $kind in
	product) curl -s -o /dev/null -H "$H" -H "X-Bench: product" "$PRODUCT" ;;
	beacon) # What tracker.js sends from the product page: the page's token (signed product data) with it.
		[ "$mode" = on ] && TOKEN=$(curl -s "$PRODUCT" | grep -o '"token":"[^"]*"' | head -n 1 | sed 's/"token":"//; s/"$//' || true)
		curl -s -o /dev/null -H "$H" -H "X-Bench: beacon" -H 'Content-Type: text/plain' \
			"$B/wp-json/sales-companion/v1/collect" -d "{\"type\":\"product\",\"product_id\":$MUG,\"token\":\"${TOKEN:-}\",\"session_id\":\"bench$i\"}" ;;
	addtocart) curl -s -c "$J" -b "$J" -o /dev/null -H "$H" -H "X-Bench: addtocart" "$B/?add-to-cart=$TOWEL" ;;
	account) curl -s -b "$W/cust" -o /dev/null -H "$H" -H "X-Bench: account" "$PRODUCT" ;;
	store)
		curl -s -c "$J" -b "$J" -D "$D" -o /dev/null -H "$H" "$B/wp-json/wc/store/v1/cart"
		nonce=$(grep -i '^nonce:' "$D" | tr -d '\r' | awk '{print $2}')
		curl -s -c "$J" -b "$J" -D "$D" -o /dev/null -H "$H" -H "Nonce: $nonce" -H 'Content-Type: application/json' \
			"$B/wp-json/wc/store/v1/cart/add-item" -d "{\"id\": $MUG, \"quantity\": 1}"
		nonce=$(grep -i '^nonce:' "$D" | tr -d '\r' | awk '{print $2}')
		local A='{"first_name":"Bench","last_name":"Mark","address_1":"1 Bench Rd","city":"Springfield","state":"CA","postcode":"94000","country":"US","email":"bench'$i$mode'@example.com"}'
		curl -s -c "$J" -b "$J" -o /dev/null -H "$H" -H "X-Bench: store" -H "Nonce: $nonce" -H "Content-Type: application/json" \
			"$B/wp-json/wc/store/v1/checkout" -d "{\"billing_address\":$A,\"shipping_address\":$A,\"payment_method\":\"cod\"}" ;;
	classic)
		curl -s -c "$J" -b "$J" -o /dev/null -H "$H" "$B/?add-to-cart=$MUG"
		local cn P
		cn=$(curl -s -c "$J" -b "$J" -H "$H" "$B/classic-checkout/" | grep -o 'name="woocommerce-process-checkout-nonce" value="[^"]*"' | sed 's/.*value="//;s/"//' || true)
		P="billing_first_name=Bench&billing_last_name=Classic&billing_country=US&billing_address_1=1+Main&billing_city=Springfield&billing_state=CA&billing_postcode=94000&billing_phone=555&billing_email=benchc$i$mode%40example.com&payment_method=cod&shipping_method[0]=free_shipping:1&woocommerce-process-checkout-nonce=$cn&_wp_http_referer=/classic-checkout/"
		curl -s -c "$J" -b "$J" -o /dev/null -H "$H" -H "X-Bench: classic" "$B/?wc-ajax=checkout" --data "$P" ;;
	esac
}

echo "load before: $(cut -d' ' -f1-3 /proc/loadavg)"
for i in $(seq 1 "$N"); do
	for kind in $KINDS; do
		one "$kind" on "$i"
		one "$kind" off "$i"
	done
done
echo "load after:  $(cut -d' ' -f1-3 /proc/loadavg)"
tail -n +"$((START + 1))" "$SERVER" > "$W/server.tsv"
python3 - "$W/server.tsv" $KINDS <<'PY'
import collections, statistics, sys
rows = collections.defaultdict(lambda: {"on": [], "off": []})
for line in open(sys.argv[1]):
    label, mode, req, shut, queries = line.split("\t")
    rows[label][mode].append((float(req), float(shut), int(queries)))
def p90(xs):
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(round(0.9 * (len(xs) - 1))))]
print(f"{'kind':10} {'n':>3}  {'end-of-request ms':>19}  {'request ms on - off':>21}  {'queries on - off':>18}")
print(f"{'':10} {'':>3}  {'median':>9} {'p90':>9}  {'median':>10} {'p90':>10}  {'median':>8} {'max':>9}")
for kind in sys.argv[2:]:
    on, off = rows[kind]["on"], rows[kind]["off"]
    n = min(len(on), len(off))
    if n < 2:
        print(f"{kind:10} too few samples"); continue
    work = [s for _, s, _ in on[:n]]
    dreq = [a[0] - b[0] for a, b in zip(on[:n], off[:n])]
    dq = [a[2] - b[2] for a, b in zip(on[:n], off[:n])]
    print(f"{kind:10} {n:>3}  {statistics.median(work):9.2f} {p90(work):9.2f}  {statistics.median(dreq):+10.2f} {p90(dreq):+10.2f}  {statistics.median(dq):+8.1f} {max(dq):+9d}")
PY
