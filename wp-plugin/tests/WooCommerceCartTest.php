<?php
/**
 * WooCommerce carts become debounced cart.updated events; guest emails attach.
 *
 * @package SalesCompanion\Tests
 */

namespace SalesCompanion\Tests;

use SalesCompanion\Settings;

final class WooCommerceCartTest extends TestCase {

	protected function setUp(): void {
		parent::setUp();
		\WC_Doubles::add_product( 11, 'Mug', '10.00', 'MUG-1' );
		\WC_Doubles::add_product( 12, 'Tea', '2.50', 'TEA-1' );
	}

	public function test_many_cart_changes_in_one_request_record_one_cart_snapshot(): void {
		$cart = WC()->cart;
		$mug  = $cart->add_to_cart( 11, 1 );
		$cart->add_to_cart( 12, 4 );
		$cart->set_quantity( $mug, 3 );
		$cart->apply_coupon( 'SPRING' );
		$this->end_request();

		$events = $this->queued_of( 'cart.updated' );
		$this->assertCount( 1, $events );
		$data = $events[0]['data'];
		$this->assertSame( '40.00', $data['value'] );
		$this->assertSame( array( 3, 4 ), array_column( $data['items'], 'quantity' ) );
		$this->assertSame( Plugin()->get( 'woocommerce' )->cart()->token(), $data['cart_token'] );
		$this->assertSame( 'http://shop.test/checkout/', $data['checkout_url'] );
		$this->assertArrayNotHasKey( 'contact', $events[0] );
	}

	public function test_an_unchanged_cart_is_not_recorded_twice(): void {
		WC()->cart->add_to_cart( 11, 1 );
		$this->end_request();
		do_action( 'woocommerce_applied_coupon', 'NOPE' );
		$this->end_request();
		$this->assertCount( 1, $this->queued_of( 'cart.updated' ) );
	}

	public function test_removing_items_and_emptying_the_cart_are_recorded(): void {
		$key = WC()->cart->add_to_cart( 11, 1 );
		WC()->cart->add_to_cart( 12, 1 );
		$this->end_request();
		WC()->cart->remove_cart_item( $key );
		$this->end_request();
		WC()->cart->empty_cart();
		$this->end_request();
		$items = array_map( 'count', array_column( array_column( $this->queued_of( 'cart.updated' ), 'data' ), 'items' ) );
		$this->assertSame( array( 2, 1, 0 ), $items );
	}

	public function test_the_email_a_guest_types_at_checkout_is_attached_to_the_cart(): void {
		WC()->cart->add_to_cart( 11, 1 );
		$this->end_request();
		do_action( 'woocommerce_checkout_update_order_review', 'billing_first_name=Ann&billing_email=ann%40example.com&payment_method=cod' );
		$this->end_request();
		$events = $this->queued_of( 'cart.updated' );
		$this->assertCount( 2, $events );
		$this->assertSame( array( 'email' => 'ann@example.com', 'first_name' => 'Ann' ), $events[1]['contact'] );
	}

	public function test_no_email_is_captured_when_capture_is_switched_off(): void {
		$settings                  = get_option( Settings::OPTION );
		$settings['capture_email'] = false;
		update_option( Settings::OPTION, $settings );
		WC()->cart->add_to_cart( 11, 1 );
		do_action( 'woocommerce_checkout_update_order_review', 'billing_email=ann%40example.com' );
		$this->end_request();
		$this->assertArrayNotHasKey( 'contact', $this->queued_of( 'cart.updated' )[0] );
	}

	public function test_carts_are_not_recorded_when_cart_tracking_is_off(): void {
		$settings                = get_option( Settings::OPTION );
		$settings['track_carts'] = false;
		update_option( Settings::OPTION, $settings );
		WC()->cart->add_to_cart( 11, 1 );
		$this->assertSame( 0, $this->end_request() );
	}

	public function test_the_tracker_session_cookie_travels_with_the_event(): void {
		$_COOKIE['sc_sid'] = 'abc123def456';
		WC()->cart->add_to_cart( 11, 1 );
		$this->end_request();
		$this->assertSame( 'abc123def456', $this->queued_of( 'cart.updated' )[0]['session_id'] );
	}
}
