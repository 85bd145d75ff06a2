<?php
/**
 * Base test case: a connected plugin, an empty outbox, fresh store doubles and
 * the fake service, before every test.
 *
 * @package SalesCompanion\Tests
 */

namespace SalesCompanion\Tests;

use SalesCompanion\Plugin;
use SalesCompanion\Settings;

/**
 * Shared world of the plugin tests.
 */
abstract class TestCase extends \PHPUnit\Framework\TestCase {

	const KEY = 'sales-companion-test-signing-key';

	/**
	 * The site's whsec_ secret.
	 *
	 * @return string
	 */
	protected static function secret() {
		return 'whsec_' . base64_encode( self::KEY );
	}

	protected function setUp(): void {
		parent::setUp();
		// Tests that run in their own process write the same database: forget cached options.
		wp_cache_flush();
		\WC_Doubles::reset();
		\EDD_Doubles::reset();
		Plugin::instance()->flush();
		Plugin::instance()->get( 'outbox' )->truncate();
		foreach ( array( 'sales_companion_delivery', 'sales_companion_delivery_lock', 'sales_companion_sync', 'sales_companion_delivery_due' ) as $option ) {
			delete_option( $option );
		}
		update_option( 'sales_companion_outbox_waiting', '0', true ); // Scheduler::WAITING.
		foreach ( array( 'sales_companion_deliver', 'sales_companion_sync_history' ) as $hook ) {
			wp_clear_scheduled_hook( $hook );
		}
		update_option(
			Settings::OPTION,
			array(
				'service_url' => 'http://companion.test',
				'site_id'     => 'site_1',
				'secret'      => self::secret(),
				'api_token'   => 'token_1',
			)
		);
		$_COOKIE = array();
		wp_set_current_user( 0 );
		FakeService::install();
	}

	protected function tearDown(): void {
		FakeService::uninstall();
		parent::tearDown();
	}

	/**
	 * Ends the "request": what the shutdown hook does.
	 *
	 * @return int Events recorded.
	 */
	protected function end_request() {
		return Plugin::instance()->flush();
	}

	/**
	 * Events waiting in the outbox, oldest first.
	 *
	 * @return array<int, array>
	 */
	protected function queued() {
		$rows = Plugin::instance()->get( 'outbox' )->pending( 1000 );
		return array_map(
			static function ( $row ) {
				return json_decode( $row->payload, true );
			},
			$rows
		);
	}

	/**
	 * Queued events of one type.
	 *
	 * @param string $type Event type.
	 * @return array<int, array>
	 */
	protected function queued_of( $type ) {
		return array_values(
			array_filter(
				$this->queued(),
				static function ( $event ) use ( $type ) {
					return $event['type'] === $type;
				}
			)
		);
	}

	/**
	 * Runs the scheduled delivery.
	 *
	 * @return int Events accepted.
	 */
	protected function deliver() {
		return Plugin::instance()->get( 'delivery' )->run();
	}
}

/** The plugin instance (shorthand for tests). */
function Plugin() { // phpcs:ignore WordPress.NamingConventions.ValidFunctionName
	return Plugin::instance();
}
