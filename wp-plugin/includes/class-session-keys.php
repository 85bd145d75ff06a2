<?php
/**
 * The names the plugin uses in a store's visitor session (WooCommerce, EDD).
 *
 * @package SalesCompanion
 */

namespace SalesCompanion;

if ( ! defined( 'ABSPATH' ) ) {
	exit;
}

/**
 * Session keys carry the plugin's prefix. Versions up to 0.1.0 wrote them
 * unprefixed (sc_*); a visitor whose session started before the upgrade still
 * has those, so get() reads the old key once, moves its value to the new key
 * and clears the old one. That keeps a cart's token (the service knows the cart
 * by it) and its last hash (no second record of an unchanged cart). Sessions
 * end within days (WooCommerce: 48 hours by default), so LEGACY and its reading
 * can go in a release made after every shop has run this one that long.
 */
final class Session_Keys {

	const CART_TOKEN = 'sales_companion_cart_token';
	const CART_HASH  = 'sales_companion_cart_hash';
	const CONTACT    = 'sales_companion_contact';

	const LEGACY = array(
		self::CART_TOKEN => 'sc_cart_token',
		self::CART_HASH  => 'sc_cart_hash',
		self::CONTACT    => 'sc_contact',
	);

	/**
	 * A session value, taken over from its pre-prefix key when only that one is set.
	 *
	 * @param object $session WC_Session or EDD_Session (both have get and set).
	 * @param string $key     One of the constants above.
	 * @return mixed The value, or what the session answers for a missing key.
	 */
	public static function get( $session, $key ) {
		$value = $session->get( $key );
		if ( ! self::is_empty( $value ) || ! array_key_exists( $key, self::LEGACY ) ) {
			return $value;
		}
		$legacy = $session->get( self::LEGACY[ $key ] );
		if ( self::is_empty( $legacy ) ) {
			return $value;
		}
		$session->set( $key, $legacy );
		$session->set( self::LEGACY[ $key ], null );
		return $legacy;
	}

	/**
	 * Whether a session answered "nothing" (WooCommerce: null; EDD: false).
	 *
	 * @param mixed $value Value.
	 * @return bool
	 */
	private static function is_empty( $value ) {
		return null === $value || false === $value || '' === $value;
	}
}
