<?php
/**
 * "Sync history" sends past orders in background batches with progress.
 *
 * @package SalesCompanion\Tests
 */

namespace SalesCompanion\Tests;

use SalesCompanion\Scheduler;

final class HistoryTest extends TestCase {

	protected function setUp(): void {
		CatalogTest::delete_product_posts();
		parent::setUp();
	}

	private function run_to_the_end( $history ) {
		for ( $batch = 0; $batch < 20 && $history->run_batch()['running']; $batch++ ) {
			continue;
		}
	}

	/**
	 * The mug of the past orders: an id no post of a test can have (a test that creates products
	 * alone, in a freshly installed WordPress, gave one of them post id 11, and the mug replaced it).
	 */
	const MUG = 900011;

	private function past_woo_orders( $count ) {
		\WC_Doubles::add_product( self::MUG, 'Mug', '10.00' );
		$ids = array();
		for ( $i = 0; $i < $count; $i++ ) {
			$order = wc_create_order( array( 'billing_email' => "c{$i}@example.com", 'status' => 'completed' ) );
			$order->add_item( new \WC_Order_Item_Product( array( 'product_id' => self::MUG, 'name' => 'Mug', 'quantity' => 1, 'subtotal' => '10.00', 'total' => '10.00' ) ) );
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
		$this->assertSame( 121, $state['total'], 'the mug and 120 orders' );
		$this->assertNotFalse( wp_next_scheduled( Scheduler::SYNC ) );

		$this->assertSame( 1, $history->run_batch()['done'], 'the catalogue first' );
		$this->assertSame( 51, $history->run_batch()['done'] );
		$this->assertSame( 101, $history->run_batch()['done'] );
		$last = $history->run_batch();
		$this->assertSame( 121, $last['done'] );
		$this->assertFalse( $last['running'] );
		$this->assertGreaterThan( 0, $last['finished_at'] );

		$this->assertCount( 120, $this->queued_of( 'order.updated' ) );
		$this->assertSame( (string) $ids[0], $this->queued_of( 'order.updated' )[0]['data']['id'] );
		$this->assertSame( '4.00', $this->queued_of( 'order.refunded' )[0]['data']['amount'] );
		$this->assertNotFalse( wp_next_scheduled( Scheduler::DELIVER ) );

		// Each order's refunds are listed, so the service drops a refund the store deleted.
		$lists = array_column( $this->queued_of( 'order.refunds_listed' ), 'data', null );
		$this->assertCount( 120, $lists );
		$this->assertSame( array( 'order_id' => (string) $ids[0], 'refund_ids' => array() ), $lists[0] );
		$refund = $this->queued_of( 'order.refunded' )[0]['data']['refund_id'];
		$this->assertSame( array( 'order_id' => (string) $ids[3], 'refund_ids' => array( $refund ) ), $lists[3] );
	}

	public function test_edd_history_is_synced_after_woocommerce(): void {
		$this->past_woo_orders( 2 );
		\EDD_Doubles::add_order( array( 'status' => 'complete', 'email' => 'e@example.com', 'total' => 9.0, 'subtotal' => 9.0 ), array( array( 'product_id' => 31, 'product_name' => 'Theme', 'quantity' => 1, 'amount' => 9.0, 'total' => 9.0 ) ) );
		Plugin()->get( 'outbox' )->truncate();
		$history = Plugin()->get( 'history' );
		$this->assertSame( 4, $history->start( array( 'woocommerce', 'edd' ) )['total'], 'the mug, two orders, one sale' );
		$this->run_to_the_end( $history );
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
		$this->run_to_the_end( $history );
		$this->assertSame( array( '19.99', '19.99' ), array_column( array_column( $this->queued_of( 'order.updated' ), 'data' ), 'total' ) );
		$refund = $this->queued_of( 'order.refunded' )[0]['data'];
		$this->assertSame( array( '62', '90', '5.00', '2026-10-02T08:00:00Z' ), array( $refund['order_id'], $refund['refund_id'], $refund['amount'], $refund['created_at'] ) );
		\FluentCart\App\Models\Model::$rows = array();
	}

	public function test_the_catalogue_goes_first_in_pages_of_fifty_and_the_orders_after_it(): void {
		for ( $i = 0; $i < 60; $i++ ) {
			\WC_Doubles::create_product( array( 'name' => "Mug {$i}", 'price' => '10.00', 'manage_stock' => true, 'stock_quantity' => $i ) );
		}
		$ids = $this->past_woo_orders( 3 ); // and the mug of the orders: 61 products
		Plugin()->flush();
		Plugin()->get( 'outbox' )->truncate();
		$history = Plugin()->get( 'history' );
		$this->assertSame( 64, $history->start( array( 'woocommerce' ) )['total'] );
		$history->run_batch();
		$this->assertCount( 50, $this->queued_of( 'product.updated' ) );
		$this->assertCount( 0, $this->queued_of( 'order.updated' ) );
		$this->run_to_the_end( $history );
		$this->assertCount( 61, $this->queued_of( 'product.updated' ) );
		$types = array_column( $this->queued(), 'type' );
		$this->assertSame( array_fill( 0, 61, 'product.updated' ), array_slice( $types, 0, 61 ), 'products before orders' );
		$orders = $this->queued_of( 'order.updated' );
		$this->assertSame( (string) $ids[2], end( $orders )['data']['id'] );
		$by_name = array_column( array_column( $this->queued_of( 'product.updated' ), 'data' ), null, 'name' );
		$this->assertSame( array( 0, 'outofstock' ), array( $by_name['Mug 0']['stock_quantity'], $by_name['Mug 0']['status'] ) );
		$this->assertSame( array( 7, 'instock' ), array( $by_name['Mug 7']['stock_quantity'], $by_name['Mug 7']['status'] ) );
	}

	public function test_edd_downloads_and_fluentcart_products_are_synced_as_their_posts(): void {
		foreach ( array( 'download', 'fluent-products' ) as $type ) {
			wp_insert_post( array( 'post_type' => $type, 'post_title' => "A {$type}", 'post_status' => 'publish' ) );
			wp_insert_post( array( 'post_type' => $type, 'post_title' => "Draft {$type}", 'post_status' => 'draft' ) );
		}
		Plugin()->flush();
		Plugin()->get( 'outbox' )->truncate();
		\FluentCart\App\Models\Model::$rows = array();
		$history = Plugin()->get( 'history' );
		$this->assertSame( 4, $history->start( array( 'edd', 'fluentcart' ) )['total'] );
		$this->run_to_the_end( $history );
		$this->assertSame(
			array( 'edd' => array( 'instock', 'draft' ), 'fluentcart' => array( 'instock', 'draft' ) ),
			array(
				'edd'        => array_column( array_column( array_values( array_filter( $this->queued_of( 'product.updated' ), static function ( $e ) { return 'edd' === $e['source']; } ) ), 'data' ), 'status' ),
				'fluentcart' => array_column( array_column( array_values( array_filter( $this->queued_of( 'product.updated' ), static function ( $e ) { return 'fluentcart' === $e['source']; } ) ), 'data' ), 'status' ),
			)
		);
	}
}
