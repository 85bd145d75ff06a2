<?php
/**
 * The service asks the store for a customer's single-use coupon.
 *
 * @package SalesCompanion
 */

namespace SalesCompanion;

if ( ! defined( 'ABSPATH' ) ) {
	exit;
}

/**
 * POST /wp-json/sales-companion/v1/coupons (also ?rest_route=/sales-companion/v1/coupons).
 *
 * The request is signed as the plugin signs what it sends to the service (Standard
 * Webhooks: HMAC-SHA256 of "id.timestamp.body" with the site's whsec_ secret); an
 * unsigned, wrongly signed, stale (over 5 minutes) or replayed (same webhook-id) request
 * is refused with 401. A code is created once: asked again for a code it made for the
 * same address, the route answers 200 with it (a retry after a timeout).
 *
 * WooCommerce only. Easy Digital Downloads and FluentCart answer 501 not_supported
 * (docs/flows.md says why), and the service skips the step with that reason.
 */
class Coupons {

	const ROUTE_NAMESPACE = 'sales-companion/v1';
	const TOLERANCE       = 300;
	const SEEN_PREFIX     = 'sc_cpn_seen_';
	const META            = '_sales_companion_coupon';
	const TYPES           = array( 'percent', 'fixed_cart' );

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
	 * Registers the route.
	 *
	 * @return void
	 */
	public function register_routes() {
		register_rest_route(
			self::ROUTE_NAMESPACE,
			'/coupons',
			array(
				'methods'             => 'POST',
				'callback'            => array( $this, 'create' ),
				'permission_callback' => '__return_true', // The signature is the permission: checked first in create().
			)
		);
	}

	/**
	 * Creates (or finds again) one coupon.
	 *
	 * @param \WP_REST_Request $request Request.
	 * @param int|null         $now     Unix time (tests); the clock when null.
	 * @return \WP_REST_Response
	 */
	public function create( $request, $now = null ) {
		$body    = (string) $request->get_body();
		$refusal = $this->verify(
			array(
				'id'        => (string) $request->get_header( 'webhook-id' ),
				'timestamp' => (string) $request->get_header( 'webhook-timestamp' ),
				'signature' => (string) $request->get_header( 'webhook-signature' ),
			),
			$body,
			null === $now ? time() : (int) $now
		);
		if ( '' !== $refusal ) {
			return self::answer( 401, 'unauthorized', $refusal );
		}
		$data = json_decode( $body, true );
		if ( ! is_array( $data ) ) {
			return self::answer( 400, 'invalid_json', 'The body is not a JSON object.' );
		}
		$problems = self::problems( $data, null === $now ? time() : (int) $now );
		if ( $problems ) {
			return new \WP_REST_Response(
				array(
					'code'    => 'invalid',
					'message' => 'Invalid coupon.',
					'fields'  => $problems,
				),
				422
			);
		}
		if ( ! in_array( 'woocommerce', $this->settings->active_sources(), true ) || ! class_exists( 'WC_Coupon' ) ) {
			return self::answer( 501, 'not_supported', 'Single-use coupons are not supported by this store: they need WooCommerce (Easy Digital Downloads and FluentCart are not supported yet).' );
		}
		return $this->woocommerce_coupon( $data );
	}

	/**
	 * Why the signature is refused, '' when it holds. A webhook-id is accepted once.
	 *
	 * @param array  $headers id, timestamp, signature.
	 * @param string $body    Exact bytes received.
	 * @param int    $now     Unix time.
	 * @return string
	 */
	public function verify( array $headers, $body, $now ) {
		$key = $this->settings->signing_key();
		if ( '' === $key ) {
			return 'The plugin has no signing secret.';
		}
		if ( '' === $headers['id'] || '' === $headers['timestamp'] || '' === $headers['signature'] ) {
			return 'Missing webhook-id, webhook-timestamp or webhook-signature header.';
		}
		if ( ! preg_match( '/^[0-9]{1,12}$/', $headers['timestamp'] ) ) {
			return 'webhook-timestamp must be unix seconds (digits only).';
		}
		if ( abs( $now - (int) $headers['timestamp'] ) > self::TOLERANCE ) {
			return 'webhook-timestamp is more than 5 minutes away from now; check the clock.';
		}
		$expected = Client::signature_headers( $body, $key, (int) $headers['timestamp'], $headers['id'] );
		$matched  = false;
		foreach ( preg_split( '/\s+/', trim( $headers['signature'] ) ) as $candidate ) {
			$matched = $matched || hash_equals( $expected['webhook-signature'], $candidate );
		}
		if ( ! $matched ) {
			return 'No signature matches: check the site\'s signing secret.';
		}
		$seen = self::SEEN_PREFIX . md5( $headers['id'] );
		if ( false !== get_transient( $seen ) ) {
			return 'This webhook-id was used already (a replay).';
		}
		// Kept past the tolerance window: after it the timestamp check refuses the copy anyway.
		set_transient( $seen, 1, 2 * self::TOLERANCE );
		return '';
	}

	/**
	 * What is wrong with the request's fields, by field.
	 *
	 * @param array $data Decoded body.
	 * @param int   $now  Unix time.
	 * @return array<string, string[]>
	 */
	public static function problems( array $data, $now ) {
		$found = array();
		$code  = isset( $data['code'] ) ? (string) $data['code'] : '';
		if ( ! preg_match( '/^[A-Za-z0-9-]{6,60}$/', $code ) ) {
			$found['code'] = array( 'Letters, digits and dashes, 6 to 60.' );
		}
		if ( ! in_array( $data['discount_type'] ?? '', self::TYPES, true ) ) {
			$found['discount_type'] = array( 'percent or fixed_cart.' );
		}
		$amount = $data['amount'] ?? '';
		if ( ! is_string( $amount ) || ! is_numeric( $amount ) || (float) $amount <= 0
			|| ( 'percent' === ( $data['discount_type'] ?? '' ) && (float) $amount > 100 ) ) {
			$found['amount'] = array( 'A decimal string above 0 (at most 100 for a percentage).' );
		}
		$minimum = $data['minimum_amount'] ?? null;
		if ( null !== $minimum && ( ! is_string( $minimum ) || ! is_numeric( $minimum ) || (float) $minimum < 0 ) ) {
			$found['minimum_amount'] = array( 'A decimal string, or null.' );
		}
		if ( ! isset( $data['email'] ) || ! is_string( $data['email'] ) || ! is_email( $data['email'] ) ) {
			$found['email'] = array( 'The customer\'s email address.' );
		}
		if ( ! isset( $data['date_expires'] ) || ! is_int( $data['date_expires'] ) || $data['date_expires'] <= $now ) {
			$found['date_expires'] = array( 'Unix seconds in the future.' );
		}
		return $found;
	}

	/**
	 * The WooCommerce coupon: usage limit 1, once per customer, for this address only.
	 *
	 * @param array $data Valid request.
	 * @return \WP_REST_Response
	 */
	private function woocommerce_coupon( array $data ) {
		$email    = strtolower( $data['email'] );
		$existing = wc_get_coupon_id_by_code( $data['code'] );
		if ( $existing ) {
			$coupon = new \WC_Coupon( $existing );
			if ( '1' === (string) $coupon->get_meta( self::META ) && array( $email ) === array_values( $coupon->get_email_restrictions() ) ) {
				return self::made( $coupon, 200 );
			}
			return self::answer( 409, 'code_taken', 'The store already has a coupon with this code.' );
		}
		$coupon = new \WC_Coupon();
		try {
			$coupon->set_code( $data['code'] );
			$coupon->set_discount_type( $data['discount_type'] );
			$coupon->set_amount( $data['amount'] );
			$coupon->set_date_expires( $data['date_expires'] );
			$coupon->set_usage_limit( 1 );
			$coupon->set_usage_limit_per_user( 1 );
			$coupon->set_email_restrictions( array( $email ) );
			$coupon->set_individual_use( ! empty( $data['individual_use'] ) );
			if ( null !== ( $data['minimum_amount'] ?? null ) ) {
				$coupon->set_minimum_amount( $data['minimum_amount'] );
			}
			$flow = isset( $data['flow'] ) ? sanitize_key( (string) $data['flow'] ) : '';
			$coupon->set_description( trim( 'Sales Companion: single-use coupon ' . $flow . ( isset( $data['step'] ) ? ' step ' . (int) $data['step'] : '' ) ) );
			$coupon->update_meta_data( self::META, '1' );
			$coupon->save();
		} catch ( \Exception $e ) {
			return self::answer( 422, 'refused', $e->getMessage() );
		}
		if ( ! $coupon->get_id() ) {
			return self::answer( 500, 'not_saved', 'WooCommerce did not save the coupon.' );
		}
		return self::made( $coupon, 201 );
	}

	/**
	 * A coupon's answer.
	 *
	 * @param \WC_Coupon $coupon Coupon.
	 * @param int        $status 201 made now, 200 made before.
	 * @return \WP_REST_Response
	 */
	private static function made( $coupon, $status ) {
		$expires = $coupon->get_date_expires();
		return new \WP_REST_Response(
			array(
				'id'           => $coupon->get_id(),
				'code'         => $coupon->get_code(),
				'created'      => 201 === $status,
				'date_expires' => $expires ? $expires->getTimestamp() : null,
			),
			$status
		);
	}

	/**
	 * An error answer.
	 *
	 * @param int    $status  HTTP status.
	 * @param string $code    Machine-readable code.
	 * @param string $message What happened.
	 * @return \WP_REST_Response
	 */
	private static function answer( $status, $code, $message ) {
		return new \WP_REST_Response(
			array(
				'code'    => $code,
				'message' => $message,
			),
			$status
		);
	}
}
