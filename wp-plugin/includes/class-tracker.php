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
 * collector. No secret reaches the browser: each page carries a token signed by
 * PHP (Beacon_Token) that its beacons must present, with the product view's data
 * signed in it, so a beacon costs the outbox INSERT and nothing else (issue 17).
 */
class Tracker {

	const ROUTE_NAMESPACE = 'sales-companion/v1';
	const RATE_LIMIT      = 120; // Beacons per address and minute, with a persistent object cache.
	const TOKEN_LIMIT     = 20;  // Beacons per token and address, with a persistent object cache.
	const CACHE_GROUP     = 'sales_companion_tracker';
	const RATE_KEY        = 'sales_companion_rate_'; // Transients of versions up to 0.1.x (uninstall.php still removes them).
	const PRODUCT_TYPES   = array(
		'product'         => 'woocommerce',
		'download'        => 'edd',
		'fluent-products' => 'fluentcart',
	);

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
	 * The pages' beacon tokens.
	 *
	 * @var Beacon_Token
	 */
	private $tokens;

	/**
	 * Constructor.
	 *
	 * @param Events   $events   Events.
	 * @param Settings $settings Settings.
	 */
	public function __construct( Events $events, Settings $settings ) {
		$this->events   = $events;
		$this->settings = $settings;
		$this->tokens   = new Beacon_Token( $settings );
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
		wp_add_inline_script( 'sales-companion-tracker', 'window.salesCompanion = ' . wp_json_encode( $this->config( time() ) ) . ';', 'before' );
	}

	/**
	 * The script's configuration for the page being rendered at $now: the token its beacons
	 * present, with the product view's data signed in it on a product page.
	 *
	 * @param int $now Unix time.
	 * @return array
	 */
	public function config( $now ) {
		$post    = is_singular( array_keys( self::PRODUCT_TYPES ) ) ? get_queried_object() : null;
		$product = $post instanceof \WP_Post ? $this->product_data( $post ) : null;
		return array(
			'endpoint' => rest_url( self::ROUTE_NAMESPACE . '/collect' ),
			'token'    => $this->tokens->issue( $product, $now ),
			'product'  => $product ? (int) $post->ID : 0,
			'consent'  => (bool) $this->settings->get( 'respect_consent' ),
			'email'    => (bool) $this->settings->get( 'capture_email' ),
		);
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
		if ( is_array( $body ) ) {
			$this->handle( $body, time() );
		}
		return new \WP_REST_Response( null, 204 );
	}

	/**
	 * Records the beacon as an event, when its token is one this site issued within
	 * Beacon_Token::TTL and the settings, consent and rate limits let it through.
	 *
	 * @param array $body Beacon.
	 * @param int   $now  Unix time.
	 * @return string Event type recorded, '' when none.
	 */
	public function handle( array $body, $now ) {
		$token = $this->tokens->verify( $body['token'] ?? null, $now );
		if ( null === $token || ! $this->is_allowed( $token, $now ) ) {
			return '';
		}
		$type = isset( $body['type'] ) ? (string) $body['type'] : '';
		if ( 'page' === $type ) {
			return $this->page_view( $body );
		}
		if ( 'product' === $type ) {
			return $this->product_view( (array) ( $token['p'] ?? array() ) );
		}
		if ( 'email' === $type && $this->settings->get( 'capture_email' ) ) {
			return $this->email( (string) ( $body['email'] ?? '' ) );
		}
		return '';
	}

	/**
	 * Settings, consent and, where a persistent object cache exists, two counters in it: per
	 * token and address, and per address and minute. Without one a counter would be option
	 * rows (transients), 4 queries a beacon, so the token is the bound (docs/plugin.md).
	 *
	 * @param array $token Verified token payload.
	 * @param int   $now   Unix time.
	 * @return bool
	 */
	private function is_allowed( array $token, $now ) {
		if ( ! $this->settings->get( 'track_views' ) ) {
			return false;
		}
		if ( $this->settings->get( 'respect_consent' ) && function_exists( 'wp_has_consent' ) && ! wp_has_consent( 'statistics' ) ) {
			return false;
		}
		if ( ! wp_using_ext_object_cache() ) {
			return true;
		}
		$ip = isset( $_SERVER['REMOTE_ADDR'] ) ? sanitize_text_field( wp_unslash( $_SERVER['REMOTE_ADDR'] ) ) : '';
		return self::count( 'token_' . md5( $token['n'] . '|' . $ip ), Beacon_Token::TTL + Beacon_Token::SKEW ) <= self::TOKEN_LIMIT
			&& self::count( 'address_' . md5( $ip . gmdate( 'YmdHi', $now ) ), 120 ) <= self::RATE_LIMIT;
	}

	/**
	 * Adds one to a counter of the persistent object cache (Redis, Memcached: add and incr are
	 * atomic there).
	 *
	 * @param string $key Key in CACHE_GROUP.
	 * @param int    $ttl Seconds.
	 * @return int The count with this one; 0 when the cache lost the key in between.
	 */
	private static function count( $key, $ttl ) {
		wp_cache_add( $key, 0, self::CACHE_GROUP, $ttl );
		return (int) wp_cache_incr( $key, 1, self::CACHE_GROUP );
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
	 * Product.viewed, from the data the product page signed into its token (the browser
	 * only passes it on; the beacon loads nothing).
	 *
	 * @param array $product Signed product data: source and the event's data.
	 * @return string
	 */
	private function product_view( array $product ) {
		$source = (string) ( $product['source'] ?? '' );
		if ( ! in_array( $source, self::PRODUCT_TYPES, true ) ) {
			return '';
		}
		unset( $product['source'] );
		$this->events->record( 'product.viewed', $source, $product, $this->user_contact() );
		return 'product.viewed';
	}

	/**
	 * What a view of this product sends, read while its page renders (WordPress's main query
	 * has the post, its meta and its terms in the object cache by then). Null for a product
	 * that is not published.
	 *
	 * @param \WP_Post $post Product post.
	 * @return array|null Source and the event's data.
	 */
	public function product_data( \WP_Post $post ) {
		if ( ! isset( self::PRODUCT_TYPES[ $post->post_type ] ) || 'publish' !== $post->post_status ) {
			return null;
		}
		return array(
			'source'     => self::PRODUCT_TYPES[ $post->post_type ],
			'product_id' => (string) $post->ID,
			'name'       => get_the_title( $post ),
			'price'      => $this->price( $post->ID, $post->post_type ),
			'url'        => get_permalink( $post ),
			'categories' => WooCommerce_Order_Snapshot::categories( $post->ID ),
		);
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
