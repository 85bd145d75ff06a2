<?php
/**
 * The token a page of the shop gives its tracker beacons.
 *
 * @package SalesCompanion
 */

namespace SalesCompanion;

if ( ! defined( 'ABSPATH' ) ) {
	exit;
}

/**
 * Token: base64url(JSON payload) "." base64url(HMAC-SHA256(tracker key, payload_b64)).
 * Payload: v (1), iat (when PHP rendered the page), n (random, names the token for the
 * rate limit), p (the product view's data, on a product page only). The tracker key is
 * derived from the site's signing key, so a beacon token is never a recovery link's token
 * nor the reverse, and nothing secret reaches the page. Checking one costs no query: the
 * signing key comes from the autoloaded settings.
 */
final class Beacon_Token {

	const VERSION = 1;
	const TTL     = 43200; // 12 hours: a page open that long (or served that old by a page cache) still counts.
	const SKEW    = 300;   // Several web servers behind one shop may disagree on the time a little.
	const MAX_LEN = 4096;  // A product's name, URL and categories fit many times over.
	const CONTEXT = 'sales-companion tracker beacon';

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
	 * A token for a page rendered at $now.
	 *
	 * @param array|null $product The product view's data (source, product_id, name, ...), or null.
	 * @param int        $now     Unix time.
	 * @return string '' when the site has no signing key.
	 */
	public function issue( $product, $now ) {
		$key = $this->key();
		if ( '' === $key ) {
			return '';
		}
		$payload = array(
			'v'   => self::VERSION,
			'iat' => (int) $now,
			'n'   => Recovery::b64url_encode( random_bytes( 9 ) ),
		);
		if ( $product ) {
			$payload['p'] = $product;
		}
		$body = Recovery::b64url_encode( (string) wp_json_encode( $payload ) );
		return $body . '.' . Recovery::b64url_encode( hash_hmac( 'sha256', $body, $key, true ) );
	}

	/**
	 * The payload of a token this site signed and issued within TTL of $now, null otherwise.
	 *
	 * @param mixed $token Token as the browser sent it.
	 * @param int   $now   Unix time.
	 * @return array|null
	 */
	public function verify( $token, $now ) {
		$key = $this->key();
		if ( '' === $key || ! is_string( $token ) || strlen( $token ) > self::MAX_LEN ) {
			return null;
		}
		$parts = explode( '.', $token );
		if ( 2 !== count( $parts ) ) {
			return null;
		}
		$signature = Recovery::b64url_decode( $parts[1] );
		if ( false === $signature || ! hash_equals( hash_hmac( 'sha256', $parts[0], $key, true ), $signature ) ) {
			return null;
		}
		$payload = json_decode( (string) Recovery::b64url_decode( $parts[0] ), true );
		if ( ! is_array( $payload ) || self::VERSION !== ( $payload['v'] ?? null ) || ! is_int( $payload['iat'] ?? null ) || ! is_string( $payload['n'] ?? null ) ) {
			return null;
		}
		if ( $payload['iat'] + self::TTL < $now || $payload['iat'] > $now + self::SKEW ) {
			return null;
		}
		return ! isset( $payload['p'] ) || is_array( $payload['p'] ) ? $payload : null;
	}

	/**
	 * The tracker's key: the signing key bound to this one use.
	 *
	 * @return string Raw bytes, '' without a signing key.
	 */
	private function key() {
		$key = $this->settings->signing_key();
		return '' === $key ? '' : hash_hmac( 'sha256', self::CONTEXT, $key, true );
	}
}
