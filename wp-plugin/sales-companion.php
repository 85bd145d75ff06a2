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

SalesCompanion\Plugin::instance()->boot();
