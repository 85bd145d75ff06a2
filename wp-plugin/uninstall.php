<?php
/**
 * Removes everything the plugin created: options, transients, the outbox table, scheduled runs.
 *
 * @package SalesCompanion
 */

if ( ! defined( 'WP_UNINSTALL_PLUGIN' ) ) {
	exit;
}

global $wpdb;

foreach ( array( 'sales_companion_deliver', 'sales_companion_deliver_sweep', 'sales_companion_sync_history' ) as $sales_companion_hook ) {
	wp_clear_scheduled_hook( $sales_companion_hook );
	if ( function_exists( 'as_unschedule_all_actions' ) ) {
		as_unschedule_all_actions( $sales_companion_hook, array(), 'sales-companion' );
	}
}

foreach ( array( 'sales_companion_settings', 'sales_companion_delivery', 'sales_companion_delivery_lock', 'sales_companion_sync', 'sales_companion_db_version', 'sales_companion_delivery_due', 'sales_companion_outbox_waiting', 'sales_companion_wake_off' ) as $sales_companion_option ) {
	delete_option( $sales_companion_option );
}

// Transients: every one is named sales_companion_* (rate limits, notices, the report cache);
// sc_rate_* is the rate limits' name up to 0.1.0. Visitor sessions belong to the store and
// expire there (the keys in them are Session_Keys').
$wpdb->query( "DELETE FROM {$wpdb->options} WHERE option_name LIKE '\\_transient\\_sales\\_companion\\_%' OR option_name LIKE '\\_transient\\_timeout\\_sales\\_companion\\_%' OR option_name LIKE '\\_transient\\_sc\\_rate\\_%' OR option_name LIKE '\\_transient\\_timeout\\_sc\\_rate\\_%'" ); // phpcs:ignore WordPress.DB
$wpdb->query( "DROP TABLE IF EXISTS {$wpdb->prefix}sales_companion_outbox" ); // phpcs:ignore WordPress.DB
