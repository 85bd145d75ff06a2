<?php
/**
 * Cart recovery links from abandoned-cart emails (?sc_recover=<token>).
 *
 * @package SalesCompanion
 */

namespace SalesCompanion;

if ( ! defined( 'ABSPATH' ) ) {
	exit;
}

/**
 * Token: base64url(JSON payload) "." base64url(HMAC-SHA256(key, payload_b64)),
 * key = the site's signing key. A forged, expired or other-site token does nothing.
 */
class Recovery {

	const PARAM = 'sc_recover';

	/**
	 * Settings.
	 *
	 * @var Settings
	 */
	private $settings;

	/**
	 * Constructor.
	 *
	 * @param Settings $settings Settings.
	 */
	public function __construct( Settings $settings ) {
		$this->settings = $settings;
	}

	/**
	 * Base64url without padding.
	 *
	 * @param string $bytes Bytes.
	 * @return string
	 */
	public static function b64url_encode( $bytes ) {
		return rtrim( strtr( base64_encode( $bytes ), '+/', '-_' ), '=' ); // phpcs:ignore WordPress.PHP.DiscouragedPHPFunctions.obfuscation_base64_encode
	}

	/**
	 * Base64url decode, false on bad input.
	 *
	 * @param string $text Text.
	 * @return string|false
	 */
	public static function b64url_decode( $text ) {
		if ( ! preg_match( '/^[A-Za-z0-9_-]*$/', $text ) ) {
			return false;
		}
		return base64_decode( strtr( $text, '-_', '+/' ), true ); // phpcs:ignore WordPress.PHP.DiscouragedPHPFunctions.obfuscation_base64_decode
	}

	/**
	 * The payload of a valid token, null otherwise.
	 *
	 * @param string   $token Token.
	 * @param int|null $now   Unix time (now when null).
	 * @return array|null
	 */
	public function verify( $token, $now = null ) {
		$key   = $this->settings->signing_key();
		$parts = explode( '.', (string) $token );
		if ( '' === $key || 2 !== count( $parts ) ) {
			return null;
		}
		$signature = self::b64url_decode( $parts[1] );
		$expected  = hash_hmac( 'sha256', $parts[0], $key, true );
		if ( false === $signature || ! hash_equals( $expected, $signature ) ) {
			return null;
		}
		$payload = json_decode( (string) self::b64url_decode( $parts[0] ), true );
		$now     = null === $now ? time() : (int) $now;
		if ( ! is_array( $payload ) || 1 !== ( $payload['v'] ?? null ) || (string) ( $payload['site'] ?? '' ) !== (string) $this->settings->get( 'site_id' ) ) {
			return null;
		}
		if ( ! isset( $payload['exp'] ) || (int) $payload['exp'] < $now || ! isset( $payload['items'] ) || ! is_array( $payload['items'] ) ) {
			return null;
		}
		return $payload;
	}

	/**
	 * Hook template_redirect: rebuilds the cart and opens checkout.
	 *
	 * @return void
	 */
	public function maybe_recover() {
		if ( empty( $_GET[ self::PARAM ] ) ) { // phpcs:ignore WordPress.Security.NonceVerification.Recommended -- the token is its own signature.
			return;
		}
		$token = sanitize_text_field( wp_unslash( $_GET[ self::PARAM ] ) ); // phpcs:ignore WordPress.Security.NonceVerification.Recommended
		$url   = $this->recover( $token );
		if ( '' !== $url ) {
			nocache_headers();
			wp_safe_redirect( $url );
			exit;
		}
	}

	/**
	 * Rebuilds the cart of a valid token.
	 *
	 * @param string $token Token.
	 * @return string Checkout URL, '' when the token was refused or no store can take it.
	 */
	public function recover( $token ) {
		$payload = $this->verify( $token );
		if ( null === $payload ) {
			return '';
		}
		$sources = $this->settings->active_sources();
		if ( in_array( 'woocommerce', $sources, true ) && function_exists( 'WC' ) && WC()->cart ) {
			return $this->rebuild_woocommerce( $payload );
		}
		if ( in_array( 'edd', $sources, true ) && function_exists( 'edd_add_to_cart' ) ) {
			return $this->rebuild_edd( $payload );
		}
		return '';
	}

	/**
	 * WooCommerce: WC_Cart::add_to_cart( $product_id, $quantity, $variation_id ).
	 *
	 * @param array $payload Token payload.
	 * @return string
	 */
	private function rebuild_woocommerce( array $payload ) {
		WC()->cart->empty_cart();
		foreach ( $payload['items'] as $item ) {
			WC()->cart->add_to_cart( absint( $item['product_id'] ?? 0 ), max( 1, absint( $item['quantity'] ?? 1 ) ), absint( $item['variation_id'] ?? 0 ) );
		}
		Plugin::instance()->get( 'woocommerce' )->cart()->adopt_token( sanitize_key( (string) $payload['cart'] ) );
		return wc_get_checkout_url();
	}

	/**
	 * EDD: edd_add_to_cart( $download_id, $options ).
	 *
	 * @param array $payload Token payload.
	 * @return string
	 */
	private function rebuild_edd( array $payload ) {
		edd_empty_cart();
		foreach ( $payload['items'] as $item ) {
			$options = array( 'quantity' => max( 1, absint( $item['quantity'] ?? 1 ) ) );
			if ( ! empty( $item['variation_id'] ) ) {
				$options['price_id'] = absint( $item['variation_id'] );
			}
			edd_add_to_cart( absint( $item['product_id'] ?? 0 ), $options );
		}
		EDD()->session->set( Session_Keys::CART_TOKEN, sanitize_key( (string) $payload['cart'] ) );
		return edd_get_checkout_uri();
	}
}
