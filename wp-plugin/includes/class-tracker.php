<?php
/**
 * Front-end tracker: the script and the REST route it beacons to.
 *
 * @package SalesCompanion
 */

namespace SalesCompanion;

if ( ! defined( 'ABSPATH' ) ) {
	exit;
}

/**
 * The browser only ever talks to this site; the route queues events like any
 * collector. No secret reaches the browser.
 */
class Tracker {

	const ROUTE_NAMESPACE = 'sales-companion/v1';
	const RATE_LIMIT      = 120;
	const RATE_KEY        = 'sales_companion_rate_'; // Transient per address and minute (sc_rate_ up to 0.1.0).

	/**
	 * Events.
	 *
	 * @var Events
	 */
	private $events;

	/**
	 * Settings.
	 *
	 * @var Settings
	 */
	private $settings;

	/**
	 * Constructor.
	 *
	 * @param Events   $events   Events.
	 * @param Settings $settings Settings.
	 */
	public function __construct( Events $events, Settings $settings ) {
		$this->events   = $events;
		$this->settings = $settings;
	}

	/**
	 * Adds the script with its small configuration.
	 *
	 * @return void
	 */
	public function enqueue() {
		if ( ! $this->settings->get( 'track_views' ) || ! $this->settings->is_connected() ) {
			return;
		}
		wp_enqueue_script( 'sales-companion-tracker', plugins_url( 'assets/tracker.js', SALES_COMPANION_FILE ), array(), Plugin::version(), true );
		$config = array(
			'endpoint' => rest_url( self::ROUTE_NAMESPACE . '/collect' ),
			'product'  => $this->current_product_id(),
			'consent'  => (bool) $this->settings->get( 'respect_consent' ),
			'email'    => (bool) $this->settings->get( 'capture_email' ),
		);
		wp_add_inline_script( 'sales-companion-tracker', 'window.salesCompanion = ' . wp_json_encode( $config ) . ';', 'before' );
	}

	/**
	 * The product shown on this page, if it is a product page of a source.
	 *
	 * @return int
	 */
	private function current_product_id() {
		$types = array( 'product', 'download', 'fluent-products' );
		return is_singular( $types ) ? (int) get_queried_object_id() : 0;
	}

	/**
	 * Registers POST /sales-companion/v1/collect.
	 *
	 * @return void
	 */
	public function register_routes() {
		register_rest_route(
			self::ROUTE_NAMESPACE,
			'/collect',
			array(
				'methods'             => 'POST',
				'callback'            => array( $this, 'collect' ),
				'permission_callback' => '__return_true',
			)
		);
	}

	/**
	 * Queues one beacon. Answers 204 whatever happens to it, so the browser
	 * learns nothing and never waits.
	 *
	 * @param \WP_REST_Request $request Request.
	 * @return \WP_REST_Response
	 */
	public function collect( $request ) {
		$body = json_decode( (string) $request->get_body(), true );
		if ( is_array( $body ) && $this->is_allowed() ) {
			$this->handle( $body );
		}
		return new \WP_REST_Response( null, 204 );
	}

	/**
	 * Consent, settings and a per-address rate limit.
	 *
	 * @return bool
	 */
	private function is_allowed() {
		if ( ! $this->settings->get( 'track_views' ) ) {
			return false;
		}
		if ( $this->settings->get( 'respect_consent' ) && function_exists( 'wp_has_consent' ) && ! wp_has_consent( 'statistics' ) ) {
			return false;
		}
		$ip    = isset( $_SERVER['REMOTE_ADDR'] ) ? sanitize_text_field( wp_unslash( $_SERVER['REMOTE_ADDR'] ) ) : '';
		$key   = self::RATE_KEY . md5( $ip . gmdate( 'YmdHi' ) );
		$count = (int) get_transient( $key );
		set_transient( $key, $count + 1, 120 );
		return $count < self::RATE_LIMIT;
	}

	/**
	 * Records the beacon as an event.
	 *
	 * @param array $body Beacon.
	 * @return string Event type recorded, '' when none.
	 */
	public function handle( array $body ) {
		$type = isset( $body['type'] ) ? (string) $body['type'] : '';
		if ( 'page' === $type ) {
			return $this->page_view( $body );
		}
		if ( 'product' === $type ) {
			return $this->product_view( (int) ( $body['product_id'] ?? 0 ) );
		}
		if ( 'email' === $type && $this->settings->get( 'capture_email' ) ) {
			return $this->email( (string) ( $body['email'] ?? '' ) );
		}
		return '';
	}

	/**
	 * Page.viewed, only for URLs of this site.
	 *
	 * @param array $body Beacon.
	 * @return string
	 */
	private function page_view( array $body ) {
		$url = esc_url_raw( substr( (string) ( $body['url'] ?? '' ), 0, 2000 ) );
		if ( '' === $url || wp_parse_url( $url, PHP_URL_HOST ) !== wp_parse_url( home_url(), PHP_URL_HOST ) ) {
			return '';
		}
		$data = array(
			'url'      => $url,
			'referrer' => esc_url_raw( substr( (string) ( $body['referrer'] ?? '' ), 0, 2000 ) ),
		);
		foreach ( array( 'utm_source', 'utm_medium', 'utm_campaign', 'utm_term', 'utm_content' ) as $key ) {
			if ( ! empty( $body['utm'][ $key ] ) && is_string( $body['utm'][ $key ] ) ) {
				$data[ $key ] = sanitize_text_field( substr( $body['utm'][ $key ], 0, 200 ) );
			}
		}
		$this->events->record( 'page.viewed', 'custom', $data, $this->user_contact() );
		return 'page.viewed';
	}

	/**
	 * Product.viewed, built from the product itself (the browser only names it).
	 *
	 * @param int $product_id Post id.
	 * @return string
	 */
	private function product_view( $product_id ) {
		$post = get_post( $product_id );
		if ( ! $post || ! in_array( $post->post_type, array( 'product', 'download', 'fluent-products' ), true ) || 'publish' !== $post->post_status ) {
			return '';
		}
		$source = array(
			'product'         => 'woocommerce',
			'download'        => 'edd',
			'fluent-products' => 'fluentcart',
		)[ $post->post_type ];
		$data   = array(
			'product_id' => (string) $product_id,
			'name'       => get_the_title( $post ),
			'price'      => $this->price( $product_id, $post->post_type ),
			'url'        => get_permalink( $post ),
			'categories' => WooCommerce_Order_Snapshot::categories( $product_id ),
		);
		$this->events->record( 'product.viewed', $source, $data, $this->user_contact() );
		return 'product.viewed';
	}

	/**
	 * The current price of a product, as a decimal string.
	 *
	 * @param int    $product_id Post id.
	 * @param string $post_type  Post type.
	 * @return string|null
	 */
	private function price( $product_id, $post_type ) {
		if ( 'product' === $post_type && function_exists( 'wc_get_product' ) ) {
			$product = wc_get_product( $product_id );
			return $product ? Events::money( $product->get_price() ) : null;
		}
		if ( 'download' === $post_type && function_exists( 'edd_get_download_price' ) ) {
			return Events::money( edd_get_download_price( $product_id ) );
		}
		return null;
	}

	/**
	 * A checkout email typed by a guest: tied to the cart (WooCommerce) or to
	 * the session.
	 *
	 * @param string $email Address.
	 * @return string
	 */
	private function email( $email ) {
		$email = sanitize_email( $email );
		if ( ! is_email( $email ) ) {
			return '';
		}
		$woo = in_array( 'woocommerce', $this->settings->active_sources(), true );
		if ( $woo && Plugin::instance()->get( 'woocommerce' )->cart()->remember_contact( array( 'email' => $email ) ) ) {
			return 'cart.updated';
		}
		$this->events->record( 'customer.updated', 'custom', array(), array( 'email' => $email ) );
		return 'customer.updated';
	}

	/**
	 * The signed-in visitor.
	 *
	 * @return array
	 */
	private function user_contact() {
		$user = wp_get_current_user();
		return $user && $user->exists() ? array(
			'email'      => $user->user_email,
			'wp_user_id' => $user->ID,
		) : array();
	}
}
