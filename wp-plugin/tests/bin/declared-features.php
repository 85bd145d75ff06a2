<?php
/**
 * Loads WordPress as a fresh request does, with the settings already saved,
 * lets WooCommerce announce before_woocommerce_init and prints the features the
 * plugin declared itself compatible with (JSON, last line).
 * Run by WooCommerceCompatibilityTest; env: WORDPRESS_CONFIG (default sctest).
 *
 * @package SalesCompanion\Tests
 */

$_SERVER['HTTP_HOST']   = 'shop.test';
$_SERVER['REQUEST_URI'] = '/';
$_SERVER['SERVER_NAME'] = 'shop.test';
if ( ! getenv( 'WORDPRESS_CONFIG' ) ) {
	$_SERVER['WORDPRESS_CONFIG'] = 'sctest';
}
require dirname( __DIR__ ) . '/doubles/woocommerce.php';
require dirname( __DIR__ ) . '/doubles/edd.php';
require dirname( __DIR__ ) . '/doubles/fluentcart.php';
require '/usr/share/wordpress/wp-load.php';

do_action( 'before_woocommerce_init', '' );
echo "\n" . wp_json_encode( \Automattic\WooCommerce\Utilities\FeaturesUtil::$declared ) . "\n";
