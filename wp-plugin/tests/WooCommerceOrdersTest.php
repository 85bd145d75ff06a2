<?php
/**
 * WooCommerce orders become order.updated / order.refunded / order.deleted events.
 *
 * @package SalesCompanion\Tests
 */

namespace SalesCompanion\Tests;

use SalesCompanion\Events;
use SalesCompanion\Scheduler;
use SalesCompanion\Source_WooCommerce;
use SalesCompanion\WooCommerce_Order_Snapshot;

final class WooCommerceOrdersTest extends TestCase {

	protected function setUp(): void {
		parent::setUp();
		\WC_Doubles::add_product( 11, 'Mug', '10.00', 'MUG-1' );
		\WC_Doubles::add_product( 12, 'Tea', '2.50', 'TEA-1' );
	}

	/** The sequence of WOOCOMMERCE-FACTS "order created by code". */
	private function create_order( array $props = array() ) {
		$order = wc_create_order(
			array_merge(
				array(
					'billing_email'      => 'Ann@Example.COM',
					'billing_first_name' => 'Ann',
					'billing_last_name'  => 'Lee',
					'payment_method'     => 'stripe',
					'created_via'        => 'checkout',
				),
				$props
			)
		);
		$order->add_item( new \WC_Order_Item_Product( array( 'product_id' => 11, 'name' => 'Mug', 'quantity' => 2, 'subtotal' => '20.00', 'total' => '20.00' ) ) );
		$order->add_item( new \WC_Order_Item_Product( array( 'product_id' => 12, 'name' => 'Tea', 'quantity' => 2, 'subtotal' => '5.00', 'total' => '5.00' ) ) );
		$order->calculate_totals();
		return $order;
	}

	public function test_a_paid_order_is_recorded_once_as_a_snapshot_of_how_the_request_left_it(): void {
		$order = $this->create_order();
		$order->payment_complete( 'txn_1' );
		$this->end_request();

		$events = $this->queued_of( 'order.updated' );
		$this->assertCount( 1, $events );
		$data = $events[0]['data'];
		$this->assertSame( 'woocommerce', $events[0]['source'] );
		$this->assertSame( (string) $order->get_id(), $data['id'] );
		$this->assertSame( 'processing', $data['status'] );
		$this->assertSame( '25.00', $data['total'] );
		$this->assertSame( '25.00', $data['subtotal'] );
		$this->assertNotNull( $data['paid_at'] );
		$this->assertSame( 'ann@example.com', $events[0]['contact']['email'] );
		$this->assertSame( array( '11', 'MUG-1', 2, '10.00', '20.00' ), array( $data['items'][0]['product_id'], $data['items'][0]['sku'], $data['items'][0]['quantity'], $data['items'][0]['price'], $data['items'][0]['total'] ) );
		$this->assertMatchesRegularExpression( '/^[0-9a-f-]{36}$/', $events[0]['id'] );
	}

	public function test_an_order_that_is_still_an_empty_shell_records_nothing(): void {
		wc_create_order();
		$this->assertSame( 0, $this->end_request() );
	}

	public function test_the_shoppers_request_makes_no_network_call_and_wakes_delivery(): void {
		$this->create_order()->payment_complete();
		$this->end_request();
		$this->assertSame( array(), FakeService::$requests );
		$this->assertCount( 1, FakeService::$wakes, 'a loopback to its own site, written and left' );
		$this->assertFalse( wp_next_scheduled( Scheduler::DELIVER ), 'nothing scheduled by the shopper\'s request' );
		FakeService::$answers = array( array( 503, array() ) );
		Plugin()->get( 'wake' )->run(); // The wake request, with the service down.
		$this->assertCount( 1, FakeService::$requests, 'the wake request delivers at once' );
		$this->assertNotFalse( wp_next_scheduled( Scheduler::DELIVER ), 'and a run stays scheduled (WP-Cron without Action Scheduler)' );
	}

	public function test_an_offline_payment_counts_as_paid_when_the_order_becomes_processing(): void {
		$order = $this->create_order( array( 'payment_method' => 'cod' ) );
		$order->update_status( 'processing' );
		$this->end_request();
		$data = $this->queued_of( 'order.updated' )[0]['data'];
		$this->assertSame( 'processing', $data['status'] );
		$this->assertNotNull( $data['paid_at'] );
	}

	public function test_order_attribution_saved_after_the_order_was_created_is_in_the_snapshot(): void {
		$order = $this->create_order();
		$order->update_meta_data( '_wc_order_attribution_source_type', 'utm' );
		$order->update_meta_data( '_wc_order_attribution_utm_source', 'newsletter' );
		$order->update_meta_data( '_wc_order_attribution_utm_medium', 'email' );
		$order->update_meta_data( '_wc_order_attribution_device_type', 'Mobile' );
		$order->payment_complete();
		$this->end_request();
		$data = $this->queued_of( 'order.updated' )[0]['data'];
		$this->assertSame( 'newsletter', $data['attribution']['utm_source'] );
		$this->assertSame( 'utm', $data['attribution']['source_type'] );
		$this->assertSame( 'Mobile', $data['device'] );
	}

	public function test_block_checkout_ties_the_order_to_the_shoppers_cart(): void {
		$token = Plugin()->get( 'woocommerce' )->cart()->token();
		$order = $this->create_order( array( 'status' => 'checkout-draft' ) );
		do_action( 'woocommerce_store_api_checkout_order_processed', $order );
		$order->update_status( 'pending' );
		$order->update_status( 'processing' );
		$this->end_request();
		$events = $this->queued_of( 'order.updated' );
		$this->assertCount( 1, $events );
		$this->assertSame( $token, $events[0]['data']['cart_token'] );
	}

	public function test_classic_checkout_ties_the_order_to_the_shoppers_cart(): void {
		$token = Plugin()->get( 'woocommerce' )->cart()->token();
		$order = $this->create_order();
		do_action( 'woocommerce_checkout_order_created', $order );
		do_action( 'woocommerce_checkout_order_processed', $order->get_id(), array( 'billing_email' => 'ann@example.com' ), $order );
		$this->end_request();
		$this->assertSame( $token, $this->queued_of( 'order.updated' )[0]['data']['cart_token'] );
	}

	public function test_a_fully_refunded_offline_order_keeps_the_paid_time_it_first_had(): void {
		$order = $this->create_order( array( 'payment_method' => 'cod', 'date_created' => new \WC_DateTime( '@' . ( time() - 86400 ) ) ) );
		$order->update_status( 'processing' ); // Cash on delivery: no payment_complete(), so no date_paid.
		$this->end_request();
		$this->assertNull( $order->get_date_paid() );
		$paid_at = $this->queued_of( 'order.updated' )[0]['data']['paid_at'];
		$this->assertNotNull( $paid_at );

		sleep( 1 ); // Later changes happen later: the paid time must not follow them.
		$order->update_status( 'completed' );
		wc_create_refund( array( 'order_id' => $order->get_id(), 'amount' => 5 ) );
		$this->end_request();
		wc_create_refund( array( 'order_id' => $order->get_id(), 'amount' => 20 ) );
		$this->end_request();

		$snapshots = array_column( $this->queued_of( 'order.updated' ), 'data' );
		$this->assertSame( array( 'processing', 'completed', 'refunded' ), array_column( $snapshots, 'status' ) );
		$this->assertSame( array( $paid_at, $paid_at, $paid_at ), array_column( $snapshots, 'paid_at' ), 'counted once, on the day it was first counted' );
	}

	public function test_an_offline_order_cancelled_after_processing_keeps_its_paid_time(): void {
		$order = $this->create_order( array( 'payment_method' => 'bacs' ) );
		$order->update_status( 'on-hold' );
		$this->end_request();
		$order->update_status( 'processing' ); // The owner saw the bank transfer.
		$this->end_request();
		$order->update_status( 'cancelled' );
		$this->end_request();
		$snapshots = array_column( $this->queued_of( 'order.updated' ), 'data' );
		$this->assertSame( array( 'on_hold', 'processing', 'cancelled' ), array_column( $snapshots, 'status' ) );
		$this->assertNull( $snapshots[0]['paid_at'], 'on hold: not paid yet' );
		$this->assertNotNull( $snapshots[1]['paid_at'] );
		$this->assertSame( $snapshots[1]['paid_at'], $snapshots[2]['paid_at'] );
	}

	public function test_an_offline_order_never_seen_paid_is_dated_by_its_creation_whatever_changed_since(): void {
		$created = time() - 7 * 86400;
		foreach ( array( 'refunded', 'completed' ) as $status ) {
			$order = $this->create_order( array( 'payment_method' => 'cheque', 'status' => $status, 'date_created' => new \WC_DateTime( '@' . $created ) ) );
			$this->assertSame( Events::iso( $created ), WooCommerce_Order_Snapshot::of( $order )['paid_at'], $status );
		}
	}

	public function test_a_refund_is_recorded_with_its_amount_and_the_order_is_snapshotted_again(): void {
		$order = $this->create_order();
		$order->payment_complete();
		$order->update_status( 'completed' );
		$this->end_request();
		$refund = wc_create_refund( array( 'order_id' => $order->get_id(), 'amount' => 5, 'reason' => 'Broken' ) );
		$this->end_request();

		$refunds = $this->queued_of( 'order.refunded' );
		$this->assertCount( 1, $refunds );
		$this->assertSame( array( (string) $order->get_id(), (string) $refund->get_id(), '5.00', 'Broken' ), array( $refunds[0]['data']['order_id'], $refunds[0]['data']['refund_id'], $refunds[0]['data']['amount'], $refunds[0]['data']['reason'] ) );
		$this->assertCount( 2, $this->queued_of( 'order.updated' ) );
		$this->assertSame( 'completed', $this->queued_of( 'order.updated' )[1]['data']['status'] );
	}

	/** Issue 17: three refunds deleted on a real shop were still counted by the service. */
	public function test_a_refund_deleted_in_wp_admin_records_order_refund_deleted_and_a_fresh_snapshot(): void {
		$order = $this->create_order();
		$order->payment_complete();
		$first  = wc_create_refund( array( 'order_id' => $order->get_id(), 'amount' => 5, 'reason' => 'Broken' ) );
		$second = wc_create_refund( array( 'order_id' => $order->get_id(), 'amount' => 3, 'reason' => 'Late' ) );
		$this->end_request();
		$snapshots = count( $this->queued_of( 'order.updated' ) );
		$ids       = array( $first->get_id(), $second->get_id() );

		wc_double_ajax_delete_refund( $ids );
		$this->end_request();

		$deleted = array_column( $this->queued_of( 'order.refund_deleted' ), 'data' );
		$this->assertSame(
			array(
				array( 'order_id' => (string) $order->get_id(), 'refund_id' => (string) $ids[0] ),
				array( 'order_id' => (string) $order->get_id(), 'refund_id' => (string) $ids[1] ),
			),
			$deleted
		);
		$this->assertCount( $snapshots + 1, $this->queued_of( 'order.updated' ) );
		$this->assertSame( (string) $order->get_id(), $this->queued_of( 'order.updated' )[ $snapshots ]['data']['id'] );
	}

	public function test_a_refund_deleted_through_the_rest_api_records_order_refund_deleted(): void {
		$order = $this->create_order();
		$order->payment_complete();
		$refund    = wc_create_refund( array( 'order_id' => $order->get_id(), 'amount' => 5 ) );
		$refund_id = $refund->get_id();
		$this->end_request();

		$this->assertTrue( wc_double_rest_delete_refund( $order->get_id(), $refund_id ) );
		$this->end_request();

		$deleted = array_column( $this->queued_of( 'order.refund_deleted' ), 'data' );
		$this->assertSame( array( array( 'order_id' => (string) $order->get_id(), 'refund_id' => (string) $refund_id ) ), $deleted );
	}

	public function test_trashing_or_deleting_an_order_records_order_deleted(): void {
		$first  = $this->create_order();
		$second = $this->create_order();
		$this->end_request();
		$first->delete();
		$second->delete( true );
		$this->end_request();
		$deleted = array_column( array_column( $this->queued_of( 'order.deleted' ), 'data' ), 'order_id' );
		$this->assertSame( array( (string) $first->get_id(), (string) $second->get_id() ), $deleted );
	}

	/** @dataProvider statuses */
	public function test_woocommerce_statuses_map_onto_the_normalised_ones( $woo, $normalised ): void {
		$this->assertSame( $normalised, Source_WooCommerce::normalise_status( $woo ) );
	}

	public function statuses(): array {
		return array(
			array( 'pending', 'pending' ),
			array( 'on-hold', 'on_hold' ),
			array( 'processing', 'processing' ),
			array( 'completed', 'completed' ),
			array( 'cancelled', 'cancelled' ),
			array( 'refunded', 'refunded' ),
			array( 'failed', 'failed' ),
			array( 'checkout-draft', 'draft' ),
			array( 'wc-completed', 'completed' ),
			array( 'awaiting-shipment', 'pending' ),
		);
	}

	public function test_a_custom_status_woocommerce_counts_as_paid_maps_to_processing(): void {
		$paid = static function ( $statuses ) {
			$statuses[] = 'shipped';
			return $statuses;
		};
		add_filter( 'woocommerce_order_is_paid_statuses', $paid );
		$this->assertSame( 'processing', Source_WooCommerce::normalise_status( 'shipped' ) );
		remove_filter( 'woocommerce_order_is_paid_statuses', $paid );
	}

	public function test_a_subscription_renewal_records_the_renewal_order_and_the_subscription(): void {
		$subscription = new \WC_Subscription( array( 'status' => 'active', 'billing_email' => 'Ann@Example.com', 'schedule_next_payment' => '2027-01-05 10:00:00' ) );
		$subscription->add_item( new \WC_Order_Item_Product( array( 'product_id' => 11, 'name' => 'Mug club', 'quantity' => 1, 'subtotal' => '9.00', 'total' => '9.00' ) ) );
		$renewal = $this->create_order( array( 'parent_id' => $subscription->get_id() ) );
		$this->end_request();
		Plugin()->get( 'outbox' )->truncate();
		$subscription->save();
		$renewal->payment_complete();
		do_action( 'woocommerce_subscription_renewal_payment_complete', $subscription, $renewal );
		$this->end_request();
		$orders = $this->queued_of( 'order.updated' );
		$this->assertCount( 1, $orders, 'the subscription itself is not an order' );
		$this->assertSame( (string) $renewal->get_id(), $orders[0]['data']['id'] );
		$sub = $this->queued_of( 'subscription.updated' )[0];
		$this->assertSame( array( (string) $subscription->get_id(), 'subscription', 'active', '11', '2027-01-05T10:00:00Z' ), array( $sub['data']['id'], $sub['data']['kind'], $sub['data']['status'], $sub['data']['product_id'], $sub['data']['expires_at'] ) );
		$this->assertSame( 'ann@example.com', $sub['contact']['email'] );
	}

	public function test_a_subscription_status_change_is_recorded(): void {
		$subscription = new \WC_Subscription( array( 'status' => 'active', 'billing_email' => 'ann@example.com' ) );
		$subscription->add_item( new \WC_Order_Item_Product( array( 'product_id' => 11, 'name' => 'Mug club', 'quantity' => 1, 'subtotal' => '9.00', 'total' => '9.00' ) ) );
		do_action( 'woocommerce_subscription_status_updated', $subscription, 'cancelled', 'active' );
		$this->end_request();
		$this->assertSame( 'cancelled', $this->queued_of( 'subscription.updated' )[0]['data']['status'] );
	}
}
