<?php
/**
 * Easy Digital Downloads 3.x orders, refunds, carts, licences and subscriptions.
 *
 * @package SalesCompanion\Tests
 */

namespace SalesCompanion\Tests;

use SalesCompanion\Source_EDD;

final class EddTest extends TestCase {

	private function sale() {
		\EDD_Doubles::$customers[7] = (object) array( 'id' => 7, 'email' => 'Bo@Example.com', 'user_id' => 3, 'name' => 'Bo Kim' );
		return \EDD_Doubles::add_order(
			array(
				'status'      => 'pending',
				'email'       => 'Bo@Example.com',
				'customer_id' => 7,
				'user_id'     => 3,
				'gateway'     => 'stripe',
				'currency'    => 'USD',
				'subtotal'    => 49.0,
				'discount'    => 4.0,
				'tax'         => 0.0,
				'total'       => 45.0,
				'address'     => (object) array( 'first_name' => 'Bo', 'last_name' => 'Kim' ),
				'adjustments' => array( (object) array( 'type' => 'discount', 'description' => 'WELCOME' ) ),
			),
			array(
				array( 'product_id' => 31, 'product_name' => 'Theme', 'price_id' => 2, 'quantity' => 1, 'amount' => 49.0, 'subtotal' => 49.0, 'total' => 45.0 ),
			)
		);
	}

	public function test_a_completed_purchase_is_recorded_as_a_completed_order(): void {
		$id = $this->sale();
		edd_update_order_status( $id, 'complete' );
		$this->end_request();
		$events = $this->queued_of( 'order.updated' );
		$this->assertCount( 1, $events );
		$data = $events[0]['data'];
		$this->assertSame( 'edd', $events[0]['source'] );
		$this->assertSame( array( 'completed', '45.00', '4.00', array( 'WELCOME' ) ), array( $data['status'], $data['total'], $data['discount_total'], $data['coupons'] ) );
		$this->assertSame( array( '31', '2', 'Theme' ), array( $data['items'][0]['product_id'], $data['items'][0]['variation_id'], $data['items'][0]['name'] ) );
		$this->assertNotNull( $data['paid_at'] );
		$this->assertSame( array( 'email' => 'bo@example.com', 'first_name' => 'Bo', 'last_name' => 'Kim', 'wp_user_id' => 3 ), $events[0]['contact'] );
	}

	public function test_a_refund_is_recorded_with_a_positive_amount(): void {
		$id = $this->sale();
		edd_update_order_status( $id, 'complete' );
		$this->end_request();
		$refund_id = edd_refund_order( $id );
		$this->end_request();
		$refund = $this->queued_of( 'order.refunded' )[0]['data'];
		$this->assertSame( array( (string) $id, (string) $refund_id, '45.00' ), array( $refund['order_id'], $refund['refund_id'], $refund['amount'] ) );
		$this->assertSame( 'refunded', $this->queued_of( 'order.updated' )[1]['data']['status'] );
	}

	public function test_a_status_change_is_sent_with_the_new_status(): void {
		$id = $this->sale();
		edd_update_order_status( $id, 'complete' );
		$this->end_request();
		foreach ( array( 'revoked' => 'cancelled', 'on_hold' => 'on_hold', 'failed' => 'failed', 'pending' => 'pending' ) as $edd => $normalised ) {
			Plugin()->get( 'outbox' )->truncate();
			edd_update_order_status( $id, $edd );
			$this->end_request();
			$events = $this->queued_of( 'order.updated' );
			$this->assertCount( 1, $events, "complete -> {$edd} is sent" );
			$this->assertSame( array( (string) $id, $normalised ), array( $events[0]['data']['id'], $events[0]['data']['status'] ) );
		}
	}

	/** @dataProvider statuses */
	public function test_edd_statuses_map_onto_the_normalised_ones( $edd, $normalised ): void {
		$this->assertSame( $normalised, Source_EDD::normalise_status( $edd ) );
	}

	public function statuses(): array {
		return array(
			array( 'pending', 'pending' ),
			array( 'processing', 'processing' ),
			array( 'complete', 'completed' ),
			array( 'partially_refunded', 'completed' ),
			array( 'refunded', 'refunded' ),
			array( 'revoked', 'cancelled' ),
			array( 'abandoned', 'cancelled' ),
			array( 'failed', 'failed' ),
			array( 'on_hold', 'on_hold' ),
		);
	}

	public function test_cart_adds_and_removes_record_the_cart(): void {
		\EDD_Doubles::$downloads[31] = 49.0;
		\EDD_Doubles::$downloads[32] = 10.0;
		edd_add_to_cart( 31, array( 'price_id' => 2 ) );
		edd_add_to_cart( 32 );
		$this->end_request();
		edd_remove_from_cart( 0 );
		$this->end_request();
		$carts = array_column( $this->queued_of( 'cart.updated' ), 'data' );
		$this->assertSame( array( '59.00', '10.00' ), array_column( $carts, 'value' ) );
		$this->assertSame( '2', $carts[0]['items'][0]['variation_id'] );
		$this->assertSame( $carts[0]['cart_token'], $carts[1]['cart_token'] );
	}

	public function test_a_licence_status_change_is_recorded_as_a_licence(): void {
		\EDD_Doubles::$customers[7] = (object) array( 'id' => 7, 'email' => 'bo@example.com', 'user_id' => 3 );
		$license                    = new \EDD_SL_License();
		$license->ID                = 90;
		$license->download_id       = 31;
		$license->customer_id       = 7;
		$license->expiration        = strtotime( '2027-01-01 00:00:00 UTC' );
		\EDD_Doubles::$licenses[90] = $license;
		$license->set_status( 'expired' );
		$this->end_request();
		$event = $this->queued_of( 'subscription.updated' )[0];
		$this->assertSame( array( '90', 'license', 'expired', '31', '2027-01-01T00:00:00Z' ), array( $event['data']['id'], $event['data']['kind'], $event['data']['status'], $event['data']['product_id'], $event['data']['expires_at'] ) );
		$this->assertSame( 'bo@example.com', $event['contact']['email'] );
	}

	public function test_recurring_renewals_and_expiries_are_recorded(): void {
		\EDD_Doubles::$customers[7] = (object) array( 'id' => 7, 'email' => 'bo@example.com', 'user_id' => 3 );
		$sub                        = new \EDD_Subscription();
		$sub->id                    = 5;
		$sub->product_id            = 31;
		$sub->customer_id           = 7;
		$sub->renew( 777 );
		$sub->expire();
		$this->end_request();
		$this->assertSame( array( 'active', 'expired' ), array_column( array_column( $this->queued_of( 'subscription.updated' ), 'data' ), 'status' ) );
	}
}
