<?php
/**
 * "Sync history" sends past orders in background batches with progress.
 *
 * @package SalesCompanion\Tests
 */

namespace SalesCompanion\Tests;

use SalesCompanion\Scheduler;

final class HistoryTest extends TestCase {

	private function past_woo_orders( $count ) {
		\WC_Doubles::add_product( 11, 'Mug', '10.00' );
		$ids = array();
		for ( $i = 0; $i < $count; $i++ ) {
			$order = wc_create_order( array( 'billing_email' => "c{$i}@example.com", 'status' => 'completed' ) );
			$order->add_item( new \WC_Order_Item_Product( array( 'product_id' => 11, 'name' => 'Mug', 'quantity' => 1, 'subtotal' => '10.00', 'total' => '10.00' ) ) );
			$ids[] = $order->get_id();
		}
		return $ids;
	}

	public function test_past_orders_and_their_refunds_are_queued_in_batches_with_progress(): void {
		$ids = $this->past_woo_orders( 120 );
		wc_create_refund( array( 'order_id' => $ids[3], 'amount' => 4 ) );
		Plugin()->flush();
		Plugin()->get( 'outbox' )->truncate();

		$history = Plugin()->get( 'history' );
		$state   = $history->start( array( 'woocommerce' ) );
		$this->assertSame( 120, $state['total'] );
		$this->assertNotFalse( wp_next_scheduled( Scheduler::SYNC ) );

		$this->assertSame( 50, $history->run_batch()['done'] );
		$this->assertSame( 100, $history->run_batch()['done'] );
		$last = $history->run_batch();
		$this->assertSame( 120, $last['done'] );
		$this->assertFalse( $last['running'] );
		$this->assertGreaterThan( 0, $last['finished_at'] );

		$this->assertCount( 120, $this->queued_of( 'order.updated' ) );
		$this->assertSame( (string) $ids[0], $this->queued_of( 'order.updated' )[0]['data']['id'] );
		$this->assertSame( '4.00', $this->queued_of( 'order.refunded' )[0]['data']['amount'] );
		$this->assertNotFalse( wp_next_scheduled( Scheduler::DELIVER ) );
	}

	public function test_edd_history_is_synced_after_woocommerce(): void {
		$this->past_woo_orders( 2 );
		\EDD_Doubles::add_order( array( 'status' => 'complete', 'email' => 'e@example.com', 'total' => 9.0, 'subtotal' => 9.0 ), array( array( 'product_id' => 31, 'product_name' => 'Theme', 'quantity' => 1, 'amount' => 9.0, 'total' => 9.0 ) ) );
		Plugin()->get( 'outbox' )->truncate();
		$history = Plugin()->get( 'history' );
		$this->assertSame( 3, $history->start( array( 'woocommerce', 'edd' ) )['total'] );
		$history->run_batch();
		$history->run_batch();
		$this->assertSame( array( 'woocommerce', 'woocommerce', 'edd' ), array_column( $this->queued_of( 'order.updated' ), 'source' ) );
	}

	public function test_fluentcart_history_converts_cents_and_includes_refunds(): void {
		\FluentCart\App\Models\Model::$rows = array();
		foreach ( array( 61, 62 ) as $id ) {
			\FluentCart\App\Models\Order::create(
				array(
					'id'             => $id,
					'status'         => 'completed',
					'payment_status' => 'paid',
					'currency'       => 'USD',
					'total_amount'   => 1999,
					'subtotal'       => 1999,
					'created_at'     => '2026-10-01 09:00:00',
					'updated_at'     => '2026-10-01 09:05:00',
					'order_items'    => array(),
					'customer'       => new \FluentCart\App\Models\Customer( array( 'email' => "f{$id}@example.com" ) ),
				)
			);
		}
		\FluentCart\App\Models\OrderTransaction::create( array( 'id' => 90, 'order_id' => 62, 'transaction_type' => 'refund', 'status' => 'refunded', 'total' => 500, 'created_at' => '2026-10-02 08:00:00' ) );
		\FluentCart\App\Models\OrderTransaction::create( array( 'id' => 91, 'order_id' => 62, 'transaction_type' => 'charge', 'status' => 'succeeded', 'total' => 1999 ) );
		$history = Plugin()->get( 'history' );
		$this->assertSame( 2, $history->start( array( 'fluentcart' ) )['total'] );
		$this->assertFalse( $history->run_batch()['running'] );
		$this->assertSame( array( '19.99', '19.99' ), array_column( array_column( $this->queued_of( 'order.updated' ), 'data' ), 'total' ) );
		$refund = $this->queued_of( 'order.refunded' )[0]['data'];
		$this->assertSame( array( '62', '90', '5.00', '2026-10-02T08:00:00Z' ), array( $refund['order_id'], $refund['refund_id'], $refund['amount'], $refund['created_at'] ) );
		\FluentCart\App\Models\Model::$rows = array();
	}
}
