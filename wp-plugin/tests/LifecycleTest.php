<?php
/**
 * The hook table, the docs that mirror it, and uninstall.
 *
 * @package SalesCompanion\Tests
 */

namespace SalesCompanion\Tests;

use SalesCompanion\Hooks;
use SalesCompanion\Outbox;
use SalesCompanion\Scheduler;
use SalesCompanion\Source;
use SalesCompanion\Tracker;

final class LifecycleTest extends TestCase {

	public function test_every_hook_in_the_table_reaches_a_method_that_exists(): void {
		foreach ( Hooks::TABLE as $row ) {
			list( $hook, $component, $method ) = $row;
			$this->assertTrue( method_exists( Plugin()->get( $component ), $method ), "{$hook} -> {$component}::{$method}" );
		}
	}

	public function test_every_hook_in_the_table_is_registered_with_its_argument_count(): void {
		foreach ( Hooks::TABLE as $row ) {
			list( $hook, $component, $method, $priority ) = $row;
			$this->assertSame( $priority, has_action( $hook, array( Plugin()->get( $component ), $method ) ), $hook );
		}
	}

	public function test_docs_list_every_hook_of_the_table(): void {
		$doc = file_get_contents( dirname( __DIR__, 2 ) . '/docs/plugin.md' );
		foreach ( Hooks::TABLE as $row ) {
			$this->assertStringContainsString( '`' . $row[0] . '`', $doc );
		}
	}

	public function test_every_store_component_is_a_source(): void {
		foreach ( Hooks::SOURCES as $key ) {
			$this->assertInstanceOf( Source::class, Plugin()->get( $key ), $key );
		}
	}

	public function test_the_version_comes_from_the_plugin_header(): void {
		$this->assertMatchesRegularExpression( '/^\d+\.\d+\.\d+$/', \SalesCompanion\Plugin::version() );
	}

	public function test_uninstall_removes_options_transients_table_and_schedules(): void {
		global $wpdb;
		Plugin()->get( 'events' )->record( 'page.viewed', 'custom', array( 'url' => 'http://shop.test/' ) );
		Plugin()->get( 'scheduler' )->schedule_delivery();
		update_option( 'sales_companion_delivery', array( 'failures' => 1 ) );
		Plugin()->get( 'admin' )->notice( true, 'Saved.' );
		set_transient( Tracker::RATE_KEY . md5( 'an address' ), 3, 120 );
		set_transient( 'sc_rate_' . md5( 'an address' ), 3, 120 ); // Written by 0.1.0.
		if ( ! defined( 'WP_UNINSTALL_PLUGIN' ) ) {
			define( 'WP_UNINSTALL_PLUGIN', 'sales-companion/sales-companion.php' );
		}
		include dirname( __DIR__ ) . '/uninstall.php';
		$this->assertNull( $wpdb->get_var( $wpdb->prepare( 'SHOW TABLES LIKE %s', Outbox::table() ) ) );
		$this->assertFalse( get_option( 'sales_companion_settings' ) );
		$this->assertFalse( get_option( 'sales_companion_delivery' ) );
		$this->assertFalse( wp_next_scheduled( Scheduler::DELIVER ) );
		$this->assertFalse( wp_next_scheduled( Scheduler::SWEEP ) );
		$this->assertSame( array(), $wpdb->get_col( "SELECT option_name FROM {$wpdb->options} WHERE option_name LIKE '%transient%sales_companion%' OR option_name LIKE '%transient%sc_rate%'" ) );
		Outbox::install();
	}
}
