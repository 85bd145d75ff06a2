<?php
/**
 * The tracker script and the REST route it beacons to.
 *
 * @package SalesCompanion\Tests
 */

namespace SalesCompanion\Tests;

final class TrackerTest extends TestCase {

	private function beacon( array $body ) {
		$request = new \WP_REST_Request( 'POST', '/sales-companion/v1/collect' );
		$request->set_header( 'Content-Type', 'text/plain' );
		$request->set_body( wp_json_encode( $body ) );
		return rest_do_request( $request );
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

	public function test_a_product_view_is_built_from_the_product_not_from_the_browser(): void {
		$id = wp_insert_post( array( 'post_type' => 'product', 'post_title' => 'Blue mug', 'post_status' => 'publish' ) );
		\WC_Doubles::add_product( $id, 'Blue mug', '12.5' );
		$this->beacon( array( 'type' => 'product', 'product_id' => $id, 'name' => 'FREE', 'price' => '0' ) );
		$event = $this->queued_of( 'product.viewed' )[0];
		$this->assertSame( array( 'woocommerce', (string) $id, 'Blue mug', '12.50' ), array( $event['source'], $event['data']['product_id'], $event['data']['name'], $event['data']['price'] ) );
		wp_delete_post( $id, true );
	}

	public function test_a_draft_or_a_page_is_not_a_product_view(): void {
		$draft = wp_insert_post( array( 'post_type' => 'product', 'post_title' => 'Secret', 'post_status' => 'draft' ) );
		$page  = wp_insert_post( array( 'post_type' => 'page', 'post_title' => 'About', 'post_status' => 'publish' ) );
		$this->beacon( array( 'type' => 'product', 'product_id' => $draft ) );
		$this->beacon( array( 'type' => 'product', 'product_id' => $page ) );
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
		\WC_Doubles::start_rest_request();
		$this->beacon( array( 'type' => 'email', 'email' => 'Guest@Example.com' ) );
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

	public function test_a_visitor_cannot_flood_the_outbox(): void {
		for ( $i = 0; $i < 130; $i++ ) {
			$this->beacon( array( 'type' => 'page', 'url' => 'http://shop.test/' ) );
		}
		$this->assertCount( 120, $this->queued() );
	}

	public function test_the_script_is_small_and_its_configuration_holds_no_secret(): void {
		$script = file_get_contents( dirname( __DIR__ ) . '/assets/tracker.js' );
		$this->assertLessThan( 3072, strlen( gzencode( $script, 9 ) ) );
		Plugin()->get( 'tracker' )->enqueue();
		$inline = implode( '', (array) wp_scripts()->get_data( 'sales-companion-tracker', 'before' ) );
		$this->assertStringContainsString( 'sales-companion\\/v1\\/collect', $inline );
		$this->assertStringNotContainsString( base64_encode( self::KEY ), $inline );
		$this->assertStringNotContainsString( 'token_1', $inline );
	}
}
