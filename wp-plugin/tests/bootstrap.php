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

require '/usr/share/wordpress/wp-load.php';
require_once ABSPATH . 'wp-admin/includes/plugin.php';

if ( ! is_plugin_active( 'sales-companion/sales-companion.php' ) ) {
	fwrite( STDERR, "Sales Companion is not active in the test site; run scripts/wp-setup.sh first.\n" );
	exit( 1 );
}

require __DIR__ . '/FakeService.php';
require __DIR__ . '/TestCase.php';
