<?php
/**
 * FluentCart orders, refunds, carts and subscriptions; cents become decimals.
 *
 * @package SalesCompanion\Tests
 */

namespace SalesCompanion\Tests;

use FluentCart\App\Models\Cart;
use FluentCart\App\Models\Customer;
use FluentCart\App\Models\Order;
use FluentCart\App\Models\OrderItem;
use FluentCart\App\Models\OrderTransaction;
use FluentCart\App\Models\Subscription;
use SalesCompanion\Events;
use SalesCompanion\Source_FluentCart;
use function SalesCompanion\Tests\FluentCart\dispatch_order_paid_done;
use function SalesCompanion\Tests\FluentCart\dispatch_patch_checkout_data;
use function SalesCompanion\Tests\FluentCart\dispatch_save_customer_data;
use function SalesCompanion\Tests\FluentCart\dispatch_refund;
use function SalesCompanion\Tests\FluentCart\dispatch_status_updated;
use function SalesCompanion\Tests\FluentCart\dispatch_subscription_renewed;

final class FluentCartTest extends TestCase {

	private function order( array $attributes = array() ) {
		return new Order(
			array_merge(
				array(
					'id'                    => 41,
					'status'                => 'processing',
					'payment_status'        => 'pending',
					'type'                  => 'payment',
					'currency'              => 'USD',
					'subtotal'              => 12345,
					'coupon_discount_total' => 0,
					'manual_discount_total' => 0,
					'tax_total'             => 0,
					'shipping_total'        => 500,
					'total_amount'          => 12845,
					'payment_method'        => 'stripe',
					'invoice_no'            => 'INV-41',
					'created_at'            => '2026-11-20 10:00:00',
					'updated_at'            => '2026-11-20 10:05:00',
					'customer'              => new Customer( array( 'email' => 'cy@example.com', 'first_name' => 'Cy', 'last_name' => 'Ng', 'user_id' => 0 ) ),
					'order_items'           => array( new OrderItem( array( 'post_id' => 51, 'object_id' => 61, 'post_title' => 'Course', 'quantity' => 1, 'unit_price' => 12345, 'line_total' => 12345 ) ) ),
				),
				$attributes
			)
		);
	}

	public function test_cents_become_exact_decimal_strings(): void {
		$this->assertSame( array( '123.45', '0.05', '-3.10', '0.00' ), array( Events::cents( 12345 ), Events::cents( 5 ), Events::cents( -310 ), Events::cents( 0 ) ) );
	}

	public function test_a_paid_order_is_recorded_with_amounts_converted_from_cents(): void {
		$order = $this->order();
		dispatch_status_updated( $order, 'pending', 'paid' );
		dispatch_order_paid_done( $order, new OrderTransaction( array( 'id' => 71 ) ) );
		$this->end_request();
		$events = $this->queued_of( 'order.updated' );
		$this->assertCount( 1, $events );
		$data = $events[0]['data'];
		$this->assertSame( array( 'fluentcart', 'processing', '128.45', '123.45', '5.00', 'INV-41' ), array( $events[0]['source'], $data['status'], $data['total'], $data['subtotal'], $data['shipping_total'], $data['number'] ) );
		$this->assertSame( array( '51', '61', '123.45' ), array( $data['items'][0]['product_id'], $data['items'][0]['variation_id'], $data['items'][0]['price'] ) );
		$this->assertSame( '2026-11-20T10:00:00Z', $data['created_at'] );
		$this->assertSame( 'cy@example.com', $events[0]['contact']['email'] );
	}

	public function test_a_partial_refund_is_recorded_in_decimals(): void {
		$order = $this->order( array( 'payment_status' => 'paid', 'status' => 'completed' ) );
		dispatch_refund( $order, new OrderTransaction( array( 'id' => 72, 'created_at' => '2026-11-21 09:00:00' ) ), 2500, false );
		$this->end_request();
		$refund = $this->queued_of( 'order.refunded' )[0]['data'];
		$this->assertSame( array( '41', '72', '25.00', '2026-11-21T09:00:00Z' ), array( $refund['order_id'], $refund['refund_id'], $refund['amount'], $refund['created_at'] ) );
		$this->assertSame( 'completed', $this->queued_of( 'order.updated' )[0]['data']['status'] );
	}

	/** @dataProvider statuses */
	public function test_fluentcart_statuses_map_onto_the_normalised_ones( $status, $payment, $normalised ): void {
		$this->assertSame( $normalised, Source_FluentCart::normalise_status( $status, $payment ) );
	}

	public function statuses(): array {
		return array(
			array( 'processing', 'pending', 'pending' ),
			array( 'processing', 'paid', 'processing' ),
			array( 'completed', 'paid', 'completed' ),
			array( 'completed', 'refunded', 'refunded' ),
			array( 'completed', 'partially_refunded', 'completed' ),
			array( 'canceled', 'pending', 'cancelled' ),
			array( 'on-hold', 'pending', 'on_hold' ),
			array( 'failed', 'failed', 'failed' ),
		);
	}

	public function test_cart_changes_and_checkout_data_record_the_cart_with_its_email(): void {
		$cart = new Cart( array( 'cart_hash' => 'hash1', 'cart_data' => array(), 'email' => '', 'user_id' => 0 ) );
		$cart->addItem( array( 'post_id' => 51, 'object_id' => 61, 'post_title' => 'Course', 'quantity' => 2, 'unit_price' => 1000, 'line_total' => 2000 ) );
		$cart->addItem( array( 'post_id' => 52, 'object_id' => 62, 'post_title' => 'Book', 'quantity' => 1, 'unit_price' => 550, 'line_total' => 550 ) );
		$this->end_request();
		$cart->email = 'Cy@example.com';
		do_action( 'fluent_cart/checkout/form_data_changed', array( 'cart' => $cart ) );
		$cart->removeItem( 62 );
		$this->end_request();
		$carts = $this->queued_of( 'cart.updated' );
		$this->assertSame( array( '25.50', '20.00' ), array( $carts[0]['data']['value'], $carts[1]['data']['value'] ) );
		$this->assertSame( array( 'hash1', 'USD' ), array( $carts[1]['data']['cart_token'], $carts[1]['data']['currency'] ) );
		$this->assertSame( 'cy@example.com', $carts[1]['contact']['email'] );
	}

	private function guest_cart() {
		$cart = new Cart( array( 'cart_hash' => 'hash2', 'cart_data' => array(), 'checkout_data' => array(), 'email' => '', 'user_id' => 0 ) );
		$cart->addItem( array( 'post_id' => 51, 'object_id' => 61, 'post_title' => 'Course', 'quantity' => 1, 'unit_price' => 1000, 'line_total' => 1000 ) );
		$this->end_request();
		return $cart;
	}

	public function test_a_guests_email_typed_at_checkout_reaches_the_service(): void {
		$cart = $this->guest_cart();
		dispatch_save_customer_data( $cart, 'billing_email', 'Guest@Example.com' );
		$this->end_request();
		$carts = $this->queued_of( 'cart.updated' );
		$this->assertCount( 2, $carts );
		$this->assertSame( array( 'hash2', 'guest@example.com' ), array( $carts[1]['data']['cart_token'], $carts[1]['contact']['email'] ) );
		$this->assertArrayNotHasKey( 'wp_user_id', $carts[1]['contact'] );
	}

	public function test_a_guests_email_and_name_patched_at_checkout_reach_the_service(): void {
		$cart = $this->guest_cart();
		dispatch_patch_checkout_data( $cart, array( 'billing_email' => 'guest@example.com', 'billing_full_name' => 'Al Van Guest' ) );
		$this->end_request();
		$contact = $this->queued_of( 'cart.updated' )[1]['contact'];
		$this->assertSame( array( 'email' => 'guest@example.com', 'first_name' => 'Al', 'last_name' => 'Van Guest' ), $contact );
	}

	public function test_a_subscription_renewal_records_the_renewal_order_and_the_subscription(): void {
		$main    = $this->order( array( 'payment_status' => 'paid' ) );
		$renewal = $this->order( array( 'id' => 42, 'type' => 'renewal', 'parent_id' => 41, 'payment_status' => 'paid' ) );
		$sub     = new Subscription( array( 'id' => 8, 'status' => 'active', 'product_id' => 51, 'next_billing_date' => '2026-12-20 10:00:00', 'expire_at' => null ) );
		dispatch_subscription_renewed( $sub, $renewal, $main );
		$this->end_request();
		$order = $this->queued_of( 'order.updated' )[0]['data'];
		$this->assertSame( array( '42', true, '41' ), array( $order['id'], $order['is_renewal'], $order['parent_id'] ) );
		$sub_event = $this->queued_of( 'subscription.updated' )[0];
		$this->assertSame( array( '8', 'active', '2026-12-20T10:00:00Z' ), array( $sub_event['data']['id'], $sub_event['data']['status'], $sub_event['data']['expires_at'] ) );
	}
}
