<?php
/**
 * Easy Digital Downloads 3.x orders, refunds, carts, licences and subscriptions.
 *
 * @package SalesCompanion\Tests
 */

namespace SalesCompanion\Tests;

use SalesCompanion\Source_EDD;

final class EddTest extends TestCase {

	protected function setUp(): void {
		parent::setUp();
		$_SERVER['REQUEST_METHOD'] = 'GET'; // A shopper's request, unless a test says otherwise.
	}

	protected function tearDown(): void {
		unset( $_SERVER['REQUEST_METHOD'] );
		parent::tearDown();
	}

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

	public function test_the_name_on_the_order_address_comes_before_the_customers(): void {
		\EDD_Doubles::$customers[7] = (object) array( 'id' => 7, 'email' => 'bo@example.com', 'user_id' => 3, 'name' => 'Bo Kim' );
		$id                         = $this->built_order( array( 'first_name' => 'Bo', 'last_name' => 'Kim Lee', 'address' => array( 'line1' => '1 Main St', 'country' => 'US' ) ) );
		edd_update_order_status( $id, 'complete' );
		$this->end_request();
		$contact = $this->queued_of( 'order.updated' )[0]['contact'];
		$this->assertSame( array( 'Bo', 'Kim Lee' ), array( $contact['first_name'], $contact['last_name'] ) );
	}

	public function test_a_customer_named_by_email_gets_no_first_name(): void {
		\EDD_Doubles::$customers[7] = (object) array( 'id' => 7, 'email' => 'bo@example.com', 'user_id' => 3, 'name' => 'bo@example.com' );
		$id                         = $this->built_order( array() );
		edd_update_order_status( $id, 'complete' );
		$this->end_request();
		$this->assertSame( array( 'email' => 'bo@example.com', 'wp_user_id' => 3 ), $this->queued_of( 'order.updated' )[0]['contact'] );
	}

	public function test_a_guest_is_sent_without_a_user_id(): void {
		\EDD_Doubles::$customers[7] = (object) array( 'id' => 7, 'email' => 'guest@example.com', 'user_id' => '0', 'name' => 'Al Guest' );
		// BerlinDB rows come from $wpdb as strings: a guest's user_id is "0".
		$id = \EDD_Doubles::add_order( array( 'status' => 'pending', 'email' => 'guest@example.com', 'customer_id' => 7, 'user_id' => '0', 'total' => 5.0 ), array() );
		edd_update_order_status( $id, 'complete' );
		$this->end_request();
		$this->assertArrayNotHasKey( 'wp_user_id', $this->queued_of( 'order.updated' )[0]['contact'] );
	}

	public function test_a_trashed_or_deleted_order_is_sent_as_deleted(): void {
		$trashed = $this->sale();
		$deleted = $this->sale();
		edd_update_order_status( $trashed, 'complete' );
		$this->end_request();
		Plugin()->get( 'outbox' )->truncate();
		edd_trash_order( $trashed );
		edd_delete_order( $deleted );
		$this->end_request();
		$this->assertSame( array(), $this->queued_of( 'order.updated' ) );
		$this->assertSame( array( (string) $trashed, (string) $deleted ), array_column( array_column( $this->queued_of( 'order.deleted' ), 'data' ), 'order_id' ) );
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

	/** "Delete permanently" on a refund (issue 17: it was sent as order.deleted of the refund's id, which the service ignores). */
	public function test_a_refund_deleted_for_good_is_sent_as_refund_deleted_with_its_orders_snapshot(): void {
		$id = $this->sale();
		edd_update_order_status( $id, 'complete' );
		$refund_id = edd_refund_order( $id );
		$this->end_request();
		Plugin()->get( 'outbox' )->truncate();
		edd_destroy_order( $refund_id );
		$this->end_request();
		$deleted = $this->queued_of( 'order.refund_deleted' );
		$this->assertCount( 1, $deleted );
		$this->assertSame( array( 'order_id' => (string) $id, 'refund_id' => (string) $refund_id ), $deleted[0]['data'] );
		$this->assertSame( array(), $this->queued_of( 'order.deleted' ), 'not a deleted order' );
		$this->assertSame( array( (string) $id ), array_column( array_column( $this->queued_of( 'order.updated' ), 'data' ), 'id' ) );
	}

	public function test_an_order_deleted_for_good_is_still_sent_as_deleted(): void {
		$id = $this->sale();
		edd_update_order_status( $id, 'complete' );
		$this->end_request();
		Plugin()->get( 'outbox' )->truncate();
		edd_destroy_order( $id );
		$this->end_request();
		$this->assertSame( array( (string) $id ), array_column( array_column( $this->queued_of( 'order.deleted' ), 'data' ), 'order_id' ) );
		$this->assertSame( array(), $this->queued_of( 'order.refund_deleted' ) );
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

	/** A checkout as EDD runs it: the order is built from the cart, then completed. */
	private function built_order( array $user_info ) {
		return edd_build_order(
			array(
				'order'     => array( 'status' => 'pending', 'email' => 'bo@example.com', 'customer_id' => 7, 'user_id' => 3, 'total' => 49.0, 'subtotal' => 49.0 ),
				'items'     => array( array( 'product_id' => 31, 'product_name' => 'Theme', 'quantity' => 1, 'amount' => 49.0, 'subtotal' => 49.0, 'total' => 49.0 ) ),
				'user_info' => $user_info,
			)
		);
	}

	public function test_a_variable_price_line_has_its_option_price_and_name(): void {
		\EDD_Doubles::$titles[31]          = 'Theme';
		\EDD_Doubles::$variable_prices[31] = array(
			1 => array( 'name' => 'Single site', 'amount' => '49.00' ),
			2 => array( 'name' => 'Agency', 'amount' => '199.00' ),
		);
		edd_add_to_cart( 31, array( 'price_id' => 2 ) );
		$this->end_request();
		$cart = $this->queued_of( 'cart.updated' )[0]['data'];
		$this->assertSame( '199.00', $cart['value'] );
		$this->assertSame( array( '2', 'Theme — Agency', '199.00', '199.00' ), array( $cart['items'][0]['variation_id'], $cart['items'][0]['name'], $cart['items'][0]['price'], $cart['items'][0]['total'] ) );
	}

	public function test_an_order_placed_from_a_cart_carries_the_cart_token(): void {
		\EDD_Doubles::$customers[7] = (object) array( 'id' => 7, 'email' => 'bo@example.com', 'user_id' => 3, 'name' => 'Bo Kim' );
		\EDD_Doubles::$downloads[31] = 49.0;
		edd_add_to_cart( 31 );
		$this->end_request();
		$token = $this->queued_of( 'cart.updated' )[0]['data']['cart_token'];
		$id    = $this->built_order( array() );
		edd_update_order_status( $id, 'complete' );
		$this->end_request();
		$this->assertNotSame( '', $token );
		$this->assertSame( $token, $this->queued_of( 'order.updated' )[0]['data']['cart_token'] );
	}

	public function test_completing_an_order_outside_the_shoppers_request_records_no_cart(): void {
		$user  = get_user_by( 'login', 'sc_edd_admin' );
		$admin = $user ? $user->ID : wp_insert_user( array( 'user_login' => 'sc_edd_admin', 'user_pass' => wp_generate_password(), 'role' => 'administrator', 'user_email' => 'sc_edd_admin@shop.test' ) );
		foreach ( array( $admin, 0 ) as $user ) { // The admin's order screen; WP-CLI, cron or a gateway's webhook.
			\EDD_Doubles::reset();
			wp_set_current_user( $user );
			$id = $this->sale();
			edd_update_order_status( $id, 'complete' );
			$this->end_request();
		}
		$this->assertCount( 2, $this->queued_of( 'order.updated' ) );
		$this->assertSame( array(), $this->queued_of( 'cart.updated' ) );
	}

	/** @dataProvider not_a_shoppers_request */
	public function test_a_cart_filled_and_emptied_outside_a_shoppers_request_records_nothing( $context ): void {
		\EDD_Doubles::$customers[7] = (object) array( 'id' => 7, 'email' => 'bo@example.com', 'user_id' => 3, 'name' => 'Bo Kim' );
		\EDD_Doubles::$downloads[31] = 49.0;
		if ( 'cron' === $context ) {
			add_filter( 'wp_doing_cron', '__return_true' );
		} else {
			unset( $_SERVER['REQUEST_METHOD'] ); // A PHP script or WP-CLI.
		}
		edd_add_to_cart( 31 ); // As a script placing an order through EDD's cart does.
		$id = $this->built_order( array() );
		edd_update_order_status( $id, 'complete' );
		$this->end_request();
		remove_filter( 'wp_doing_cron', '__return_true' );
		$this->assertSame( array(), $this->queued_of( 'cart.updated' ) );
		$this->assertSame( '', $this->queued_of( 'order.updated' )[0]['data']['cart_token'] );
	}

	public function not_a_shoppers_request(): array {
		return array( array( 'cron' ), array( 'script' ) );
	}

	public function test_the_shoppers_emptied_cart_is_recorded_once(): void {
		\EDD_Doubles::$customers[7] = (object) array( 'id' => 7, 'email' => 'bo@example.com', 'user_id' => 3, 'name' => 'Bo Kim' );
		\EDD_Doubles::$downloads[31] = 49.0;
		edd_add_to_cart( 31 );
		$this->end_request();
		$id = $this->built_order( array() );
		edd_update_order_status( $id, 'complete' );
		$this->end_request();
		edd_empty_cart(); // The confirmation page empties it again (e.g. src/Gateways/Stripe/Checkout/Complete.php line 179).
		$this->end_request();
		$carts = array_column( $this->queued_of( 'cart.updated' ), 'data' );
		$this->assertSame( array( '49.00', '0.00' ), array_column( $carts, 'value' ) );
		$this->assertSame( $carts[0]['cart_token'], $carts[1]['cart_token'] );
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

	private function licence( $status, $expiration ) {
		\EDD_Doubles::$customers[7] = (object) array( 'id' => 7, 'email' => 'bo@example.com', 'user_id' => 3 );
		$license                    = new \EDD_SL_License();
		$license->ID                = 91;
		$license->download_id       = 31;
		$license->customer_id       = 7;
		$license->status            = $status;
		$license->expiration        = $expiration;
		\EDD_Doubles::$licenses[91] = $license;
		return $license;
	}

	public function test_a_licence_issued_with_a_purchase_is_recorded(): void {
		\EDD_Doubles::$customers[7] = (object) array( 'id' => 7, 'email' => 'bo@example.com', 'user_id' => 3 );
		$license                    = new \EDD_SL_License();
		$license->create( 31, 600, 7, strtotime( '2027-06-30 23:59:59 UTC' ) );
		$this->end_request();
		$events = $this->queued_of( 'subscription.updated' );
		$this->assertCount( 1, $events );
		$this->assertSame( array( (string) $license->ID, 'license', 'inactive', '2027-06-30T23:59:59Z' ), array( $events[0]['data']['id'], $events[0]['data']['kind'], $events[0]['data']['status'], $events[0]['data']['expires_at'] ) );
	}

	public function test_a_renewal_is_recorded_with_the_new_expiry_and_status(): void {
		$license = $this->licence( 'expired', strtotime( '2020-01-01 00:00:00 UTC' ) );
		$license->renew( 601, strtotime( '2031-01-01 00:00:00 UTC' ) );
		$this->end_request();
		$events = $this->queued_of( 'subscription.updated' );
		$this->assertCount( 1, $events );
		$this->assertSame( array( 'active', '2031-01-01T00:00:00Z' ), array( $events[0]['data']['status'], $events[0]['data']['expires_at'] ) );
	}

	public function test_a_renewal_of_an_active_licence_is_recorded(): void {
		$license = $this->licence( 'active', strtotime( '2030-01-01 00:00:00 UTC' ) );
		$license->renew( 602, strtotime( '2031-01-01 00:00:00 UTC' ) );
		$this->end_request();
		$events = $this->queued_of( 'subscription.updated' );
		$this->assertCount( 1, $events );
		$this->assertSame( array( 'active', '2031-01-01T00:00:00Z' ), array( $events[0]['data']['status'], $events[0]['data']['expires_at'] ) );
	}

	public function test_a_lifetime_licence_has_no_expiry(): void {
		$license = $this->licence( 'active', 0 );
		$license->set_status( 'disabled' );
		$this->end_request();
		$this->assertNull( $this->queued_of( 'subscription.updated' )[0]['data']['expires_at'] );
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
