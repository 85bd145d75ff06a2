<?php
/**
 * The WP Consent API, where present, decides what the tracker may record.
 * Runs in its own process: it defines the Consent API's functions.
 *
 * @package SalesCompanion\Tests
 */

namespace SalesCompanion\Tests;

/**
 * @runTestsInSeparateProcesses
 * @preserveGlobalState disabled
 */
final class ConsentTest extends TestCase {

	protected function setUp(): void {
		if ( ! function_exists( 'wp_has_consent' ) ) {
			require __DIR__ . '/doubles/consent-api.php';
		}
		parent::setUp();
		$_SERVER['REMOTE_ADDR'] = '2001:db8::c0:' . wp_rand( 1, 9999 );
	}

	private function page_view() {
		$this->beacon( array( 'type' => 'page', 'url' => 'http://shop.test/' ) );
	}

	public function test_no_view_is_recorded_without_statistics_consent(): void {
		$GLOBALS['sc_test_consent'] = array();
		$this->page_view();
		$this->assertSame( array(), $this->queued() );
	}

	public function test_views_are_recorded_with_consent_and_marketing_consent_travels_with_the_contact(): void {
		$GLOBALS['sc_test_consent'] = array( 'statistics' );
		$this->page_view();
		Plugin()->get( 'events' )->record( 'customer.updated', 'custom', array(), array( 'email' => 'a@example.com' ) );
		$this->assertCount( 1, $this->queued_of( 'page.viewed' ) );
		$this->assertFalse( $this->queued_of( 'customer.updated' )[0]['contact']['marketing_consent'] );
	}

	public function test_the_owner_can_choose_to_ignore_the_consent_api(): void {
		$GLOBALS['sc_test_consent'] = array();
		$settings                    = get_option( 'sales_companion_settings' );
		$settings['respect_consent'] = false;
		update_option( 'sales_companion_settings', $settings );
		$this->page_view();
		$this->assertCount( 1, $this->queued_of( 'page.viewed' ) );
	}
}
