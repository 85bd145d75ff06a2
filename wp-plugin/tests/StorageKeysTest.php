<?php
/**
 * What the plugin keeps in transients and in store sessions is named
 * sales_companion_*; a visitor session begun under 0.1.0 (sc_* keys) carries on.
 *
 * @package SalesCompanion\Tests
 */

namespace SalesCompanion\Tests;

use SalesCompanion\Session_Keys;

final class StorageKeysTest extends TestCase {

	protected function setUp(): void {
		parent::setUp();
		\WC_Doubles::add_product( 11, 'Mug', '10.00', 'MUG-1' );
		\WC_Doubles::add_product( 12, 'Tea', '2.50', 'TEA-1' );
		$_SERVER['REMOTE_ADDR'] = '2001:db8::5:' . wp_rand( 1, 9999 );
	}

	/**
	 * The keys a store session double holds a value under.
	 *
	 * @param object $session WC_Session_Handler or EDD_Session double.
	 * @return string[]
	 */
	private static function keys_of( $session ) {
		$read = function () {
			return array_keys(
				array_filter(
					$this->data,
					static function ( $value ) {
						return null !== $value;
					}
				)
			);
		};
		return \Closure::bind( $read, $session, get_class( $session ) )();
	}

	/**
	 * What a session written by 0.1.0 looks like: the same values under sc_* keys.
	 *
	 * @param object $session Store session.
	 * @return void
	 */
	private static function rename_to_the_old_keys( $session ) {
		foreach ( Session_Keys::LEGACY as $key => $old ) {
			$session->set( $old, $session->get( $key ) );
			$session->set( $key, null );
		}
	}

	private function a_guest_cart_with_an_email() {
		WC()->cart->add_to_cart( 11, 1 );
		do_action( 'woocommerce_checkout_update_order_review', 'billing_email=ann%40example.com' );
		$this->end_request();
	}

	public function test_every_transient_the_plugin_writes_is_prefixed(): void {
		$written = array();
		$spy     = static function ( $transient ) use ( &$written ) {
			$written[] = $transient;
		};
		add_action( 'setted_transient', $spy );
		$this->beacon( array( 'type' => 'page', 'url' => 'http://shop.test/' ) ); // Its rate limit writes no transient (issue 17).
		Plugin()->get( 'admin' )->notice( true, 'Saved.' );
		delete_transient( 'sales_companion_metrics_' . md5( '2026-01-012026-01-31site_1' ) );
		FakeService::$answers = array( array( 200, array() ) );
		Plugin()->get( 'reports' )->metrics( '2026-01-01', '2026-01-31' );
		remove_action( 'setted_transient', $spy );
		$this->assertCount( 2, $written, 'notice, report cache' );
		foreach ( $written as $name ) {
			$this->assertStringStartsWith( 'sales_companion_', $name );
		}
	}

	public function test_every_woocommerce_session_key_of_the_plugin_is_prefixed(): void {
		$this->a_guest_cart_with_an_email();
		$keys = self::keys_of( WC()->session );
		sort( $keys );
		$this->assertSame( array( Session_Keys::CART_HASH, Session_Keys::CART_TOKEN, Session_Keys::CONTACT ), $keys );
	}

	public function test_the_edd_cart_token_is_kept_under_the_prefixed_key(): void {
		$token = Plugin()->get( 'edd' )->cart_token();
		$this->assertSame( $token, EDD()->session->get( Session_Keys::CART_TOKEN ) );
		$this->assertSame( array( Session_Keys::CART_TOKEN ), array_values( array_diff( self::keys_of( EDD()->session ), array( 'edd_cart' ) ) ) );
	}

	public function test_a_woocommerce_cart_begun_before_the_upgrade_keeps_its_token_contact_and_hash(): void {
		$this->a_guest_cart_with_an_email();
		self::rename_to_the_old_keys( WC()->session );
		do_action( 'woocommerce_applied_coupon', 'NOPE' );
		$this->end_request();
		$this->assertCount( 1, $this->queued_of( 'cart.updated' ), 'the unchanged cart is not recorded a second time' );

		WC()->cart->add_to_cart( 12, 1 );
		$this->end_request();
		$events = $this->queued_of( 'cart.updated' );
		$this->assertCount( 2, $events );
		$this->assertSame( $events[0]['data']['cart_token'], $events[1]['data']['cart_token'] );
		$this->assertSame( 'ann@example.com', $events[1]['contact']['email'] );
		foreach ( Session_Keys::LEGACY as $old ) {
			$this->assertEmpty( WC()->session->get( $old ), "{$old} is read once, then cleared" );
		}
	}

	public function test_an_edd_cart_token_from_before_the_upgrade_is_kept(): void {
		EDD()->session->set( 'sc_cart_token', 'oldtoken1' );
		$this->assertSame( 'oldtoken1', Plugin()->get( 'edd' )->cart_token() );
		$this->assertSame( 'oldtoken1', EDD()->session->get( Session_Keys::CART_TOKEN ) );
		$this->assertEmpty( EDD()->session->get( 'sc_cart_token' ) );
	}
}
