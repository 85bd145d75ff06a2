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
		update_option( 'sales_companion_wake_off', '0', true ); // Scheduler::WAKE_OFF.
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
		$this->start_request();
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
		$recorded = Plugin::instance()->flush();
		$this->start_request();
		return $recorded;
	}

	/**
	 * A new request starts now (Scheduler::after_recording goes by its age).
	 *
	 * @return void
	 */
	protected function start_request() {
		$_SERVER['REQUEST_TIME_FLOAT'] = microtime( true );
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
	 * What the tracker renders into a page: its configuration, with the beacon token. A
	 * product page when $product_id is given (WordPress's main query on that post).
	 *
	 * @param int $product_id Product post id, 0 for any other page.
	 * @param int|null $now   Unix time of the render.
	 * @return array
	 */
	protected function page_config( $product_id = 0, $now = null ) {
		$this->on_page( $product_id );
		return Plugin::instance()->get( 'tracker' )->config( null === $now ? time() : $now );
	}

	/**
	 * WordPress's main query as on a single post's page (a product's), or on another page.
	 *
	 * @param int $post_id Post id, 0 for a page that is not a single post.
	 */
	protected function on_page( $post_id ) {
		$query = new \WP_Query();
		if ( $post_id ) {
			$query->is_singular       = true;
			$query->is_single         = true;
			$query->queried_object    = get_post( $post_id );
			$query->queried_object_id = (int) $post_id;
		}
		$GLOBALS['wp_query'] = $query; // phpcs:ignore WordPress.WP.GlobalVariablesOverride.Prohibited
	}

	/**
	 * A beacon as tracker.js sends it, through the REST route; with the token of a page
	 * rendered now unless the body brings its own.
	 *
	 * @param array $body Beacon.
	 * @return \WP_REST_Response
	 */
	protected function beacon( array $body ) {
		if ( ! array_key_exists( 'token', $body ) ) {
			$body['token'] = $this->page_config()['token'];
		}
		$request = new \WP_REST_Request( 'POST', '/sales-companion/v1/collect' );
		$request->set_header( 'Content-Type', 'text/plain' );
		$request->set_body( wp_json_encode( $body ) );
		return rest_do_request( $request );
	}

	/**
	 * Runs the scheduled delivery.
	 *
	 * @return int Events accepted.
	 */
	protected function deliver() {
		$delivered = Plugin::instance()->get( 'delivery' )->run();
		$this->start_request();
		return $delivered;
	}
}

/** The plugin instance (shorthand for tests). */
function Plugin() { // phpcs:ignore WordPress.NamingConventions.ValidFunctionName
	return Plugin::instance();
}
