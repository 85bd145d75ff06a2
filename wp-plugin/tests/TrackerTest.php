<?php
/**
 * The tracker script and the REST route it beacons to.
 *
 * @package SalesCompanion\Tests
 */

namespace SalesCompanion\Tests;

use SalesCompanion\Beacon_Token;
use SalesCompanion\Recovery;

final class TrackerTest extends TestCase {

	/**
	 * A token's payload with one field changed, and its original signature.
	 *
	 * @param string $token Token.
	 * @param callable $change Changes the payload.
	 * @return string
	 */
	private static function tampered( $token, callable $change ) {
		list( $body, $signature ) = explode( '.', $token );
		$payload                  = $change( json_decode( Recovery::b64url_decode( $body ), true ) );
		return Recovery::b64url_encode( wp_json_encode( $payload ) ) . '.' . $signature;
	}

	private static function payload( $token ) {
		return json_decode( Recovery::b64url_decode( explode( '.', $token )[0] ), true );
	}

	private function a_published_product( $title = 'Blue mug', $price = '12.5' ) {
		$id = wp_insert_post( array( 'post_type' => 'product', 'post_title' => $title, 'post_status' => 'publish' ) );
		\WC_Doubles::add_product( $id, $title, $price );
		return $id;
	}

	protected function setUp(): void {
		parent::setUp();
		$_SERVER['REMOTE_ADDR'] = '2001:db8::' . substr( md5( wp_generate_uuid4() ), 0, 4 ) . ':' . substr( md5( wp_generate_uuid4() ), 0, 4 ); // A fresh visitor per test.
	}

	public function test_a_page_view_is_queued_with_its_campaign_and_the_browser_gets_204(): void {
		$_COOKIE['sc_sid'] = 'sess12345678';
		$response          = $this->beacon( array( 'type' => 'page', 'url' => 'http://shop.test/shop/?utm_source=fb', 'referrer' => 'https://facebook.com/', 'utm' => array( 'utm_source' => 'fb', 'evil' => 'x' ) ) );
		$this->end_request();
		$this->assertSame( 204, $response->get_status() );
		$event = $this->queued_of( 'page.viewed' )[0];
		$this->assertSame( array( 'url' => 'http://shop.test/shop/?utm_source=fb', 'referrer' => 'https://facebook.com/', 'utm_source' => 'fb' ), $event['data'] );
		$this->assertSame( 'sess12345678', $event['session_id'] );
		$this->assertSame( array(), FakeService::$requests );
	}

	public function test_a_page_of_another_site_is_ignored(): void {
		$this->beacon( array( 'type' => 'page', 'url' => 'https://elsewhere.example/' ) );
		$this->assertSame( array(), $this->queued() );
	}

	public function test_a_product_view_carries_what_the_product_page_signed_not_what_the_browser_says(): void {
		$id     = $this->a_published_product();
		$config = $this->page_config( $id );
		wp_delete_post( $id, true ); // The beacon reads nothing of the product.
		$this->beacon( array( 'type' => 'product', 'product_id' => 999, 'name' => 'FREE', 'price' => '0', 'token' => $config['token'] ) );
		$event = $this->queued_of( 'product.viewed' )[0];
		$this->assertSame( $id, $config['product'] );
		$this->assertSame( 'woocommerce', $event['source'] );
		$this->assertSame( array( 'product_id', 'name', 'price', 'url', 'categories' ), array_keys( $event['data'] ) );
		$this->assertSame( array( (string) $id, 'Blue mug', '12.50', array() ), array( $event['data']['product_id'], $event['data']['name'], $event['data']['price'], $event['data']['categories'] ) );
		$this->assertStringStartsWith( 'http://shop.test/', $event['data']['url'] );
	}

	public function test_a_tampered_price_is_refused(): void {
		$id    = $this->a_published_product();
		$token = $this->page_config( $id )['token'];
		wp_delete_post( $id, true );
		$cheap = self::tampered(
			$token,
			static function ( $payload ) {
				$payload['p']['price'] = '0.01';
				return $payload;
			}
		);
		$this->assertSame( '12.50', self::payload( $token )['p']['price'] );
		$this->beacon( array( 'type' => 'product', 'token' => $cheap ) );
		$this->beacon( array( 'type' => 'page', 'url' => 'http://shop.test/', 'token' => $cheap ) );
		$this->assertSame( array(), $this->queued() );
		$this->beacon( array( 'type' => 'product', 'token' => $token ) );
		$this->assertSame( '12.50', $this->queued_of( 'product.viewed' )[0]['data']['price'], 'the untouched token still counts' );
	}

	public function test_a_token_signed_with_another_key_or_without_one_is_refused(): void {
		$token  = $this->page_config()['token'];
		$forged = explode( '.', $token )[0] . '.' . Recovery::b64url_encode( hash_hmac( 'sha256', explode( '.', $token )[0], self::KEY, true ) );
		foreach ( array( $forged, '', null, 'a.b.c', array( $token ), explode( '.', $token )[0] ) as $bad ) {
			$this->assertSame( '', Plugin()->get( 'tracker' )->handle( array( 'type' => 'page', 'url' => 'http://shop.test/', 'token' => $bad ), time() ) );
		}
		$body = array( 'type' => 'page', 'url' => 'http://shop.test/' ); // No token at all: what a page cached before the upgrade sends.
		$this->assertSame( '', Plugin()->get( 'tracker' )->handle( $body, time() ) );
		$this->assertSame( array(), $this->queued() );
	}

	public function test_a_token_older_than_its_lifetime_is_refused(): void {
		$now    = 1800000000;
		$token  = $this->page_config( 0, $now )['token'];
		$body   = array( 'type' => 'page', 'url' => 'http://shop.test/', 'token' => $token );
		$expire = $now + Beacon_Token::TTL;
		$this->assertSame( 'page.viewed', Plugin()->get( 'tracker' )->handle( $body, $expire ), 'still valid at the end of its lifetime' );
		$this->assertSame( '', Plugin()->get( 'tracker' )->handle( $body, $expire + 1 ) );
		$this->assertSame( '', Plugin()->get( 'tracker' )->handle( $body, $now - Beacon_Token::SKEW - 1 ), 'nor one from the future' );
		$this->beacon( $body ); // Now, years later.
		$this->assertCount( 1, $this->queued() );
	}

	public function test_a_draft_or_a_page_is_not_a_product_view(): void {
		$draft = wp_insert_post( array( 'post_type' => 'product', 'post_title' => 'Secret', 'post_status' => 'draft' ) );
		$page  = wp_insert_post( array( 'post_type' => 'page', 'post_title' => 'About', 'post_status' => 'publish' ) );
		foreach ( array( $draft, $page ) as $id ) {
			$config = $this->page_config( $id );
			$this->assertSame( 0, $config['product'] );
			$this->assertArrayNotHasKey( 'p', self::payload( $config['token'] ) );
			$this->beacon( array( 'type' => 'product', 'product_id' => $id, 'token' => $config['token'] ) );
		}
		$this->assertSame( array(), $this->queued() );
		wp_delete_post( $draft, true );
		wp_delete_post( $page, true );
	}

	public function test_a_checkout_email_typed_by_a_guest_reaches_the_cart(): void {
		\WC_Doubles::add_product( 11, 'Mug', '10.00' );
		WC()->cart->add_to_cart( 11, 1 );
		$this->end_request();
		$this->beacon( array( 'type' => 'email', 'email' => 'Guest@Example.com' ) );
		$this->end_request();
		$this->assertSame( 'guest@example.com', $this->queued_of( 'cart.updated' )[1]['contact']['email'] );
	}

	public function test_a_checkout_email_beacon_without_a_woocommerce_session_sends_data_as_a_json_object(): void {
		$token = $this->page_config()['token']; // The block checkout's page.
		\WC_Doubles::start_rest_request();
		$this->beacon( array( 'type' => 'email', 'email' => 'Guest@Example.com', 'token' => $token ) );
		$this->end_request();
		$this->assertCount( 1, $this->queued_of( 'customer.updated' ) );
		$this->deliver();
		$body = (string) end( FakeService::$requests )['body'];
		$this->assertStringContainsString( '"type":"customer.updated"', $body );
		$this->assertStringContainsString( '"data":{}', $body, 'the service refuses "data":[] (Not a valid mapping type)' );
		$this->assertStringNotContainsString( '"data":[]', $body );
		$event = json_decode( $body )->events[0];
		$this->assertInstanceOf( \stdClass::class, $event->data );
		$this->assertSame( 'guest@example.com', $event->contact->email );
	}

	public function test_with_a_persistent_object_cache_a_token_and_an_address_are_bounded_there(): void {
		$was     = wp_using_ext_object_cache( true ); // Redis or Memcached: add and incr shared by every request.
		$now     = 1800000000; // 08:00:00 UTC: one minute for the address's counter.
		$tracker = Plugin()->get( 'tracker' );
		try {
			$page = array( 'type' => 'page', 'url' => 'http://shop.test/', 'token' => $this->page_config( 0, $now )['token'] );
			for ( $i = 0; $i < 25; $i++ ) {
				$tracker->handle( $page, $now );
			}
			$this->assertCount( 20, $this->queued(), 'Tracker::TOKEN_LIMIT per token and address' );
			$_SERVER['REMOTE_ADDR'] = '2001:db8::5:1';
			$tracker->handle( $page, $now );
			$this->assertCount( 21, $this->queued(), 'the same page (a cached one) for another visitor' );
			for ( $i = 0; $i < 130; $i++ ) {
				$page['token'] = $this->page_config( 0, $now )['token']; // A fresh page each time.
				$tracker->handle( $page, $now + 59 );
			}
			$this->assertCount( 21 + 119, $this->queued(), 'Tracker::RATE_LIMIT per address and minute' );
			$tracker->handle( $page, $now + 60 );
			$this->assertCount( 141, $this->queued(), 'the next minute' );
		} finally {
			$GLOBALS['_wp_using_ext_object_cache'] = $was; // wp_using_ext_object_cache( null ) would change nothing.
		}
	}

	public function test_without_a_persistent_object_cache_the_rate_limit_touches_no_option(): void {
		$this->assertFalse( (bool) wp_using_ext_object_cache() );
		$token   = $this->page_config()['token'];
		$queries = 0;
		$count   = static function ( $query ) use ( &$queries ) {
			++$queries;
			return $query;
		};
		add_filter( 'query', $count );
		for ( $i = 0; $i < 3; $i++ ) {
			$this->beacon( array( 'type' => 'page', 'url' => 'http://shop.test/', 'token' => $token ) );
		}
		remove_filter( 'query', $count );
		$this->assertSame( 0, $queries, 'the events wait for the end of the request; nothing else is read or written' );
		$this->assertCount( 3, $this->queued() );
	}

	public function test_the_script_is_small_and_its_configuration_holds_no_secret(): void {
		$script = file_get_contents( dirname( __DIR__ ) . '/assets/tracker.js' );
		$this->assertLessThan( 3072, strlen( gzencode( $script, 9 ) ) );
		Plugin()->get( 'tracker' )->enqueue();
		$inline = implode( '', (array) wp_scripts()->get_data( 'sales-companion-tracker', 'before' ) );
		$this->assertStringContainsString( 'sales-companion\\/v1\\/collect', $inline );
		$this->assertStringNotContainsString( base64_encode( self::KEY ), $inline );
		$this->assertStringNotContainsString( 'token_1', $inline );
		$this->assertMatchesRegularExpression( '/"token":"[A-Za-z0-9_-]+\.[A-Za-z0-9_-]{43}"/', $inline, 'the page\'s beacon token' );
	}
}
