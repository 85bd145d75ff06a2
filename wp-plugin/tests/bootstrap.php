<?php
/**
 * Boots the real WordPress installed by scripts/wp-setup.sh, with the store
 * doubles defined first (as the store plugins would be, before ours loads).
 *
 * @package SalesCompanion\Tests
 */

$_SERVER['HTTP_HOST']   = 'shop.test';
$_SERVER['REQUEST_URI'] = '/';
$_SERVER['SERVER_NAME'] = 'shop.test';
if ( ! getenv( 'WORDPRESS_CONFIG' ) ) {
	$_SERVER['WORDPRESS_CONFIG'] = 'sctest';
}

require __DIR__ . '/doubles/woocommerce.php';
require __DIR__ . '/doubles/edd.php';
require __DIR__ . '/doubles/fluentcart.php';

// WP-Cron stays on in the test site (config-sctest.php). A test process that boots while an
// event an earlier test scheduled is due spawns it: a real loopback request to
// http://shop.test/wp-cron.php, which loads WordPress 6.1's Requests library and its PHP 8.2
// deprecation notices, which PHPUnit reports as an error of whichever isolated test booted then.
// Nothing serves that address; the spawn is answered here before the HTTP library is loaded.
$GLOBALS['wp_filter']['pre_http_request'][1]['sc_tests_no_cron_spawn'] = array(
	'function'      => static function ( $pre, $args, $url ) {
		return false !== strpos( (string) $url, '/wp-cron.php' ) ? new WP_Error( 'http_request_failed', 'WP-Cron is not spawned in the tests' ) : $pre;
	},
	'accepted_args' => 3,
);
require '/usr/share/wordpress/wp-load.php';
require_once ABSPATH . 'wp-admin/includes/plugin.php';

if ( ! is_plugin_active( 'sales-companion/sales-companion.php' ) ) {
	fwrite( STDERR, "Sales Companion is not active in the test site; run scripts/wp-setup.sh first.\n" );
	exit( 1 );
}

require __DIR__ . '/FakeService.php';
require __DIR__ . '/TestCase.php';
