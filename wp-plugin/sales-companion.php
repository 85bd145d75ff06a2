<?php
/**
 * Plugin Name:       Sales Companion
 * Description:       Forwards WooCommerce, Easy Digital Downloads and FluentCart orders, carts and views to your self-hosted Sales Companion service.
 * Version:           0.1.0
 * Requires at least: 6.1
 * Requires PHP:      7.4
 * Author:            Sales Companion
 * License:           GPL-2.0-or-later
 * Text Domain:       sales-companion
 * Domain Path:       /languages
 *
 * @package SalesCompanion
 */

if ( ! defined( 'ABSPATH' ) ) {
	exit;
}

define( 'SALES_COMPANION_FILE', __FILE__ );

require_once __DIR__ . '/includes/autoload.php';

register_activation_hook( __FILE__, array( 'SalesCompanion\\Outbox', 'install' ) );
register_deactivation_hook( __FILE__, array( 'SalesCompanion\\Scheduler', 'clear_all' ) );

// WooCommerce names a plugin by its main file, and must hear this whether or not the
// WooCommerce source is switched on: otherwise it flags the plugin as incompatible.
add_action(
	'before_woocommerce_init',
	static function () {
		if ( class_exists( '\\Automattic\\WooCommerce\\Utilities\\FeaturesUtil' ) ) {
			\Automattic\WooCommerce\Utilities\FeaturesUtil::declare_compatibility( 'custom_order_tables', __FILE__, true );
			\Automattic\WooCommerce\Utilities\FeaturesUtil::declare_compatibility( 'cart_checkout_blocks', __FILE__, true );
		}
	}
);

SalesCompanion\Plugin::instance()->boot();
