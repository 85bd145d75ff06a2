<?php
/**
 * ?sc_recover=<token> rebuilds the cart; anything but a valid token does nothing.
 *
 * @package SalesCompanion\Tests
 */

namespace SalesCompanion\Tests;

use SalesCompanion\Session_Keys;
use SalesCompanion\Settings;

final class RecoveryTest extends TestCase {

	protected function setUp(): void {
		parent::setUp();
		\WC_Doubles::add_product( 11, 'Mug', '10.00' );
		\WC_Doubles::add_product( 12, 'Shirt', '20.00' );
		\WC_Doubles::add_product( 13, 'Shirt, red', '22.00' );
	}

	/** The token as the service builds it (brief: fixed contract). */
	private function token( array $payload, $key = self::KEY ) {
		$b64  = static function ( $bytes ) {
			return rtrim( strtr( base64_encode( $bytes ), '+/', '-_' ), '=' );
		};
		$body = $b64( wp_json_encode( $payload ) );
		return $body . '.' . $b64( hash_hmac( 'sha256', $body, $key, true ) );
	}

	private function payload( array $overrides = array() ) {
		return array_merge(
			array(
				'v'     => 1,
				'site'  => 'site_1',
				'cart'  => 'carttoken42',
				'items' => array(
					array( 'product_id' => '11', 'variation_id' => '0', 'quantity' => 2 ),
					array( 'product_id' => '12', 'variation_id' => '13', 'quantity' => 1 ),
				),
				'exp'   => time() + 3600,
			),
			$overrides
		);
	}

	private function recover( $token ) {
		return Plugin()->get( 'recovery' )->recover( $token );
	}

	public function test_a_valid_token_rebuilds_the_cart_and_opens_checkout(): void {
		WC()->cart->add_to_cart( 12, 5 );
		$this->assertSame( 'http://shop.test/checkout/', $this->recover( $this->token( $this->payload() ) ) );
		$lines = array_values( WC()->cart->get_cart() );
		$this->assertSame( array( array( 11, 0, 2 ), array( 12, 13, 1 ) ), array_map( null, array_column( $lines, 'product_id' ), array_column( $lines, 'variation_id' ), array_column( $lines, 'quantity' ) ) );
		$this->assertSame( 'carttoken42', Plugin()->get( 'woocommerce' )->cart()->token() );
	}

	public function test_a_token_signed_with_another_key_does_nothing(): void {
		WC()->cart->add_to_cart( 12, 5 );
		$this->assertSame( '', $this->recover( $this->token( $this->payload(), 'some-other-key' ) ) );
		$this->assertSame( array( 5 ), array_column( WC()->cart->get_cart(), 'quantity' ) );
	}

	public function test_an_expired_token_does_nothing(): void {
		$this->assertSame( '', $this->recover( $this->token( $this->payload( array( 'exp' => time() - 1 ) ) ) ) );
		$this->assertSame( array(), WC()->cart->get_cart() );
	}

	public function test_another_sites_token_does_nothing(): void {
		$this->assertSame( '', $this->recover( $this->token( $this->payload( array( 'site' => 'site_2' ) ) ) ) );
	}

	public function test_a_payload_changed_after_signing_does_nothing(): void {
		list( , $signature ) = explode( '.', $this->token( $this->payload() ) );
		$changed             = explode( '.', $this->token( $this->payload( array( 'items' => array( array( 'product_id' => '11', 'variation_id' => '0', 'quantity' => 99 ) ) ) ) ) )[0];
		$this->assertSame( '', $this->recover( $changed . '.' . $signature ) );
	}

	/** @dataProvider garbage */
	public function test_malformed_tokens_do_nothing( $token ): void {
		$this->assertSame( '', $this->recover( $token ) );
	}

	public function garbage(): array {
		return array( array( '' ), array( 'abc' ), array( 'a.b.c' ), array( '!!!.???' ), array( 'eyJ2IjoxfQ.' ) );
	}

	public function test_the_link_redirects_to_checkout_from_template_redirect(): void {
		$_GET['sc_recover'] = $this->token( $this->payload() );
		$target             = null;
		$stop               = static function ( $location ) use ( &$target ) {
			$target = $location;
			throw new \RuntimeException( 'redirected' );
		};
		add_filter( 'wp_redirect', $stop );
		try {
			do_action( 'template_redirect' );
		} catch ( \RuntimeException $e ) {
			$this->assertSame( 'redirected', $e->getMessage() );
		} finally {
			remove_filter( 'wp_redirect', $stop );
			unset( $_GET['sc_recover'] );
		}
		$this->assertSame( 'http://shop.test/checkout/', $target );
	}

	public function test_an_edd_store_gets_its_cart_rebuilt(): void {
		$settings            = get_option( Settings::OPTION );
		$settings['sources'] = array( 'edd' );
		update_option( Settings::OPTION, $settings );
		$this->assertSame( 'http://shop.test/edd-checkout/', $this->recover( $this->token( $this->payload() ) ) );
		$cart = edd_get_cart_contents();
		$this->assertSame( array( 11, 12 ), array_column( $cart, 'id' ) );
		$this->assertSame( 13, $cart[1]['options']['price_id'] );
		$this->assertSame( 'carttoken42', EDD()->session->get( Session_Keys::CART_TOKEN ) );
	}
}
