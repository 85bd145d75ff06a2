#!/usr/bin/env bash
# What the plugin adds to a shopper's request that fires events, in real WordPress.
#
# A page request that adds a product to the cart (WooCommerce's woocommerce_add_to_cart,
# through the test double of WC_Cart loaded as a must-use plugin), served by `php -S`,
# measured with the plugin active and inactive, interleaved. Two figures:
#   * server time: from must-use plugins loading to the end of WordPress's shutdown hook
#     (includes loading and booting our plugin, the hooks and the outbox INSERT at shutdown);
#   * wall time seen by curl.
# OPcache is on by default, as on any production PHP; OPCACHE=0 measures without it.
# Usage (root, repo root): [OPCACHE=0] bash bench/bench_plugin_overhead.sh [REQUESTS_PER_MODE=300]
set -euo pipefail

N="${1:-300}"
OPCACHE="${OPCACHE:-1}"
REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
PORT="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')"
MU=/var/lib/wordpress/wp-content/mu-plugins
WORK="$(mktemp -d)"
SERVER_PID=""
cleanup() {
	# php -S forks its workers: stop the whole process group it leads.
	[ -n "$SERVER_PID" ] && kill -- "-$SERVER_PID" 2>/dev/null || true
	rm -f "$MU/sc-bench-store.php"
	rm -rf "$WORK"
}
trap cleanup EXIT

# Two sites on one server, chosen by Host (Debian's config-<host>.php): 127.0.0.1 has the plugin
# active, localhost does not. Requests alternate between them, so both see the same machine load.
bash "$REPO/scripts/wp-setup.sh" 127.0.0.1 sc_wp_bench_with "http://127.0.0.1:$PORT" >/dev/null
bash "$REPO/scripts/wp-setup.sh" localhost sc_wp_bench_without "http://localhost:$PORT" >/dev/null
mkdir -p "$MU"
cat > "$MU/sc-bench-store.php" <<PHP
<?php
// Bench only: a WooCommerce stand-in and an add-to-cart page; timing written per request.
\$GLOBALS['sc_bench_start'] = hrtime( true );
require '$REPO/wp-plugin/tests/doubles/woocommerce.php';
WC_Doubles::add_product( 11, 'Mug', '10.00', 'MUG-1' );
add_action( 'template_redirect', function () {
	if ( isset( \$_GET['add-to-cart'] ) ) {
		WC()->cart->add_to_cart( (int) \$_GET['add-to-cart'], 1 );
	}
	echo 'ok';
	exit;
}, 1 );
function sc_bench_mark( \$label ) {
	\$GLOBALS['sc_bench_marks'][ \$label ] = ( hrtime( true ) - \$GLOBALS['sc_bench_start'] ) / 1e6;
}
add_action( 'plugins_loaded', function () { sc_bench_mark( 'plugins_loaded' ); }, -9999 );
add_action( 'shutdown', function () { sc_bench_mark( 'shutdown_start' ); }, 0 );
add_action( 'shutdown', function () { sc_bench_mark( 'recorded' ); }, 2 );
add_action( 'shutdown', function () {
	if ( empty( \$_GET['bench'] ) ) {
		return; // warm-up requests and WP-Cron's own requests are not counted.
	}
	sc_bench_mark( 'end' );
	\$mode = class_exists( 'SalesCompanion\\\\Plugin', false ) ? 'with' : 'without';
	file_put_contents( '$WORK/times-' . \$mode, json_encode( \$GLOBALS['sc_bench_marks'] ) . "\\n", FILE_APPEND );
}, PHP_INT_MAX );
PHP

site() { # HOST PHP-CODE: run code in that site's WordPress
	WORDPRESS_CONFIG="$1" php -d display_errors=0 -r '$_SERVER["HTTP_HOST"] = $argv[1]; require "/usr/share/wordpress/wp-load.php"; require_once ABSPATH . "wp-admin/includes/plugin.php"; eval( $argv[2] );' "$1" "$2" 2>/dev/null
}
site localhost 'deactivate_plugins( "sales-companion/sales-companion.php", true );'
site 127.0.0.1 'update_option( "sales_companion_settings", array( "service_url" => "http://127.0.0.1:9", "site_id" => "bench", "secret" => "whsec_" . base64_encode( "bench-key-bench-key" ), "api_token" => "t" ) );'

(cd /usr/share/wordpress && PHP_CLI_SERVER_WORKERS=4 exec setsid php -d display_errors=0 -d opcache.enable_cli="$OPCACHE" -S "127.0.0.1:$PORT" -t /usr/share/wordpress >/dev/null 2>&1) &
SERVER_PID=$!
for _ in $(seq 1 50); do curl -fs "http://127.0.0.1:$PORT/?add-to-cart=11" >/dev/null 2>&1 && break; sleep 0.1; done
curl -fs "http://localhost:$PORT/?add-to-cart=11" >/dev/null   # warm-up, not counted

for _ in $(seq 1 "$N"); do
	curl -s -o /dev/null -w '%{time_total}\n' "http://127.0.0.1:$PORT/?add-to-cart=11&bench=1" >> "$WORK/wall-with"
	curl -s -o /dev/null -w '%{time_total}\n' "http://localhost:$PORT/?add-to-cart=11&bench=1" >> "$WORK/wall-without"
done

python3 - "$WORK" "$N" <<'PY'
import json, os, pathlib, statistics, subprocess, sys
work = pathlib.Path(sys.argv[1])
marks = {m: [json.loads(x) for x in (work / f"times-{m}").read_text().split("\n") if x] for m in ("with", "without")}
wall = {m: [float(x) * 1000 for x in (work / f"wall-{m}").read_text().split()] for m in ("with", "without")}
med = statistics.median
def p90(values):
    return statistics.quantiles(values, n=10)[8]
def series(mode, fn):
    return [fn(r) for r in marks[mode]]
load = {m: series(m, lambda r: r["plugins_loaded"]) for m in marks}
record = {m: series(m, lambda r: r["recorded"] - r["shutdown_start"]) for m in marks}
server = {m: series(m, lambda r: r["end"]) for m in marks}
php = subprocess.run(["php", "-r", "echo PHP_VERSION;"], capture_output=True, text=True).stdout
print(f"Add-to-cart request, WordPress 6.1 / PHP {php} / OPcache {'on' if os.environ.get('OPCACHE', '1') == '1' else 'off'} / load {os.getloadavg()[0]:.1f}")
middle = {m: series(m, lambda r: r["shutdown_start"] - r["plugins_loaded"]) for m in marks}
boot = med(load["with"]) - med(load["without"])
rec = med(record["with"]) - med(record["without"])
print(f"plugin's own work (medians, with - without): loading+boot {boot:+.2f} ms, shutdown (recording) {rec:+.2f} ms "
      f"[p90 {p90(record['with']) - p90(record['without']):+.2f} ms]  => {boot + rec:+.2f} ms")
print(f"rest of the request (plugins_loaded -> shutdown), same for both if the plugin adds nothing there: "
      f"without {med(middle['without']):.2f} ms, with {med(middle['with']):.2f} ms")
for label, data in (("server time", server), ("wall time", wall)):
    w, wo = data["with"], data["without"]
    print(f"{label:<12} without {med(wo):6.2f} ms  with {med(w):6.2f} ms  difference of medians {med(w) - med(wo):+.2f} ms "
          f"(n={len(w)}/{len(wo)})")
PY
