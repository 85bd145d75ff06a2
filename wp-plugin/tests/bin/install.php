<?php
/**
 * Installs WordPress into the configured database and activates the plugin.
 * Run by scripts/wp-setup.sh with WORDPRESS_CONFIG set.
 *
 * @package SalesCompanion
 */

$_SERVER['HTTP_HOST']   = getenv( 'SC_HTTP_HOST' ) ? getenv( 'SC_HTTP_HOST' ) : 'localhost';
$_SERVER['REQUEST_URI'] = '/';
define( 'WP_INSTALLING', true );
require '/usr/share/wordpress/wp-load.php';
require_once ABSPATH . 'wp-admin/includes/upgrade.php';
require_once ABSPATH . 'wp-admin/includes/plugin.php';

if ( ! is_blog_installed() ) {
	wp_install( 'Shop', 'admin', 'admin@shop.test', false, '', 'pass' );
}
update_option( 'permalink_structure', '' );
$result = activate_plugin( 'sales-companion/sales-companion.php' );
if ( is_wp_error( $result ) ) {
	fwrite( STDERR, 'Activation failed: ' . $result->get_error_message() . "\n" );
	exit( 1 );
}
echo "WordPress installed, Sales Companion active.\n";
