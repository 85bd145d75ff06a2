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

bash "$REPO/scripts/wp-setup.sh" 127.0.0.1 sc_wp_bench "http://127.0.0.1:$PORT" >/dev/null
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
add_action( 'shutdown', function () {
	if ( empty( \$_GET['bench'] ) ) {
		return; // warm-up requests and WP-Cron's own requests are not counted.
	}
	file_put_contents( '$WORK/times-' . ( class_exists( 'SalesCompanion\\\\Plugin', false ) ? 'with' : 'without' ), ( ( hrtime( true ) - \$GLOBALS['sc_bench_start'] ) / 1e6 ) . "\n", FILE_APPEND );
}, PHP_INT_MAX );
PHP

toggle() {
	WORDPRESS_CONFIG=127.0.0.1 php -d display_errors=0 -r '
		$_SERVER["HTTP_HOST"] = "127.0.0.1"; require "/usr/share/wordpress/wp-load.php";
		require_once ABSPATH . "wp-admin/includes/plugin.php";
		if ( $argv[1] === "on" ) { activate_plugin( "sales-companion/sales-companion.php" ); } else { deactivate_plugins( "sales-companion/sales-companion.php", true ); }
		update_option( "sales_companion_settings", array( "service_url" => "http://127.0.0.1:9", "site_id" => "bench", "secret" => "whsec_" . base64_encode( "bench-key-bench-key" ), "api_token" => "t" ) );
	' "$1" 2>/dev/null
}

(cd /usr/share/wordpress && PHP_CLI_SERVER_WORKERS=4 exec setsid php -d display_errors=0 -d opcache.enable_cli="$OPCACHE" -S "127.0.0.1:$PORT" -t /usr/share/wordpress >/dev/null 2>&1) &
SERVER_PID=$!
for _ in $(seq 1 50); do curl -fs "http://127.0.0.1:$PORT/?add-to-cart=11" >/dev/null 2>&1 && break; sleep 0.1; done

ROUNDS=6
PER=$(( N / ROUNDS ))
for round in $(seq 1 $ROUNDS); do
	for mode in with without; do
		if [ "$mode" = with ]; then toggle on; else toggle off; fi
		curl -fs "http://127.0.0.1:$PORT/?add-to-cart=11" >/dev/null   # warm-up, not counted
		for _ in $(seq 1 "$PER"); do
			curl -s -o /dev/null -w '%{time_total}\n' "http://127.0.0.1:$PORT/?add-to-cart=11&bench=1" >> "$WORK/wall-$mode"
		done
	done
done
toggle on

python3 - "$WORK" "$N" <<'PY'
import statistics, sys, pathlib
work = pathlib.Path(sys.argv[1])
def load(name, scale=1.0):
    return [float(x) * scale for x in (work / name).read_text().split()]
server = {m: load(f"times-{m}") for m in ("with", "without")}
wall = {m: load(f"wall-{m}", 1000.0) for m in ("with", "without")}
def line(label, data):
    w, wo = data["with"], data["without"]
    med = statistics.median(w) - statistics.median(wo)
    p90 = statistics.quantiles(w, n=10)[8] - statistics.quantiles(wo, n=10)[8]
    print(f"{label:<12} without {statistics.median(wo):7.2f} ms   with {statistics.median(w):7.2f} ms   "
          f"added: median {med:+.2f} ms, p90 {p90:+.2f} ms   (n={len(w)}/{len(wo)})")
import os
print("Add-to-cart request, WordPress 6.1 / PHP", __import__("subprocess").run(["php", "-r", "echo PHP_VERSION;"], capture_output=True, text=True).stdout, "/ OPcache", "on" if os.environ.get("OPCACHE", "1") == "1" else "off")
line("server time", server)
line("wall time", wall)
PY
