<?php
/**
 * What the plugin adds to a shopper's request: one outbox INSERT for everything the request
 * recorded, and no Action Scheduler lookup while the delivery run it asked for is still ahead
 * (issue 17: +7 queries on a Store API checkout, +13 on a classic one, measured on a real shop).
 *
 * @package SalesCompanion\Tests
 */

namespace SalesCompanion\Tests;

use SalesCompanion\Outbox;
use SalesCompanion\Scheduler;

/**
 * Runs in its own process: it defines Action Scheduler's functions.
 *
 * @runTestsInSeparateProcesses
 * @preserveGlobalState disabled
 */
final class RequestOverheadTest extends TestCase {

	/** @var string[] */
	private $queries = array();

	protected function setUp(): void {
		if ( ! function_exists( 'as_schedule_single_action' ) ) {
			require __DIR__ . '/doubles/action-scheduler.php';
		}
		parent::setUp();
		$GLOBALS['sc_test_actions'] = array();
		$GLOBALS['sc_test_lookups'] = 0;
		do_action( 'action_scheduler_init' );
		add_filter( 'query', array( $this, 'seen' ) );
	}

	protected function tearDown(): void {
		remove_filter( 'query', array( $this, 'seen' ) );
		parent::tearDown();
	}

	public function seen( $query ) {
		$this->queries[] = $query;
		return $query;
	}

	private function outbox_inserts() {
		$table = Outbox::table();
		return count(
			array_filter(
				$this->queries,
				static function ( $query ) use ( $table ) {
					return 0 === strpos( ltrim( $query ), "INSERT INTO {$table}" );
				}
			)
		);
	}

	private function record_three() {
		$events = Plugin()->get( 'events' );
		$events->record( 'page.viewed', 'custom', array( 'url' => 'http://shop.test/' ) );
		$events->record( 'product.viewed', 'woocommerce', array( 'product_id' => '11', 'name' => 'Mug' ) );
		$events->record( 'customer.updated', 'custom', array(), array( 'email' => 'ann@example.com' ) );
	}

	public function test_everything_a_request_records_is_written_in_one_insert_at_its_end(): void {
		$this->record_three();
		$this->assertSame( 0, $this->outbox_inserts(), 'nothing is written while the request runs' );
		$this->assertSame( 3, $this->end_request() );
		$this->assertSame( 1, $this->outbox_inserts() );
		$this->assertSame( array( 'page.viewed', 'product.viewed', 'customer.updated' ), array_column( $this->queued(), 'type' ) );
	}

	public function test_a_read_of_the_outbox_in_the_same_request_sees_what_was_recorded(): void {
		$this->record_three();
		$this->assertSame( 3, Plugin()->get( 'outbox' )->counts()['pending'] );
		$this->assertSame( 1, $this->outbox_inserts() );
		$this->end_request();
		$this->assertSame( 1, $this->outbox_inserts(), 'nothing is written twice' );
		$this->assertCount( 3, $this->queued() );
	}

	public function test_a_request_that_records_megabytes_splits_its_insert_below_the_packet_limit(): void {
		$text = str_repeat( 'x', 1500000 );
		for ( $i = 0; $i < 3; $i++ ) {
			Plugin()->get( 'events' )->record( 'page.viewed', 'custom', array( 'url' => 'http://shop.test/' . $i, 'referrer' => $text ) );
		}
		$this->end_request();
		$this->assertSame( 2, $this->outbox_inserts(), 'statements stay under Outbox::MAX_STATEMENT' );
		$this->assertSame( array( 'http://shop.test/0', 'http://shop.test/1', 'http://shop.test/2' ), array_map( static function ( $e ) { return $e['data']['url']; }, $this->queued() ) );
	}

	public function test_requests_while_a_delivery_run_is_ahead_do_not_ask_action_scheduler_again(): void {
		$this->record_three();
		$this->end_request();
		$this->assertSame( 1, $GLOBALS['sc_test_lookups'] );
		Plugin()->get( 'events' )->record( 'page.viewed', 'custom', array( 'url' => 'http://shop.test/2' ) );
		$this->end_request();
		$this->assertSame( 1, $GLOBALS['sc_test_lookups'], 'the second request within the coalescing window looks nothing up' );
		$this->assertCount( 1, $GLOBALS['sc_test_actions'] );
	}

	public function test_once_the_run_is_due_the_next_request_asks_again_and_a_running_one_does_not_count(): void {
		$this->record_three();
		$this->end_request();
		// The run's time has come and the queue runner has it in progress (the double's status).
		update_option( Scheduler::DELIVERY_DUE, time() - 1, true );
		$GLOBALS['sc_test_actions'][0]['status'] = \ActionScheduler_Store::STATUS_RUNNING;
		Plugin()->get( 'events' )->record( 'page.viewed', 'custom', array( 'url' => 'http://shop.test/2' ) );
		$this->end_request();
		$this->assertSame( 2, $GLOBALS['sc_test_lookups'] );
		$this->assertCount( 2, $GLOBALS['sc_test_actions'], 'events recorded while a run is in progress get a run of their own' );
		$this->assertSame( \ActionScheduler_Store::STATUS_PENDING, $GLOBALS['sc_test_actions'][1]['status'] );
	}

	public function test_an_order_woocommerce_saved_in_the_request_is_not_loaded_again_for_its_snapshot(): void {
		\WC_Doubles::add_product( 11, 'Mug', '10.00', 'MUG-1' );
		$order = wc_create_order( array( 'billing_email' => 'ann@example.com', 'payment_method' => 'cod' ) );
		$order->add_item( new \WC_Order_Item_Product( array( 'product_id' => 11, 'name' => 'Mug', 'quantity' => 1, 'subtotal' => '10.00', 'total' => '10.00' ) ) );
		$order->calculate_totals();
		$order->update_status( 'processing' );
		\WC_Doubles::$loads = 0;
		$this->end_request();
		$this->assertSame( 0, \WC_Doubles::$loads, 'the object WooCommerce saved is the snapshot' );
		$events = array_values( array_filter( $this->queued(), static function ( $e ) { return 'order.updated' === $e['type']; } ) );
		$this->assertCount( 1, $events );
		$this->assertSame( 'processing', $events[0]['data']['status'] );
	}

	public function test_an_order_noted_without_its_object_is_loaded_as_before(): void {
		\WC_Doubles::add_product( 11, 'Mug', '10.00', 'MUG-1' );
		$order = wc_create_order( array( 'billing_email' => 'ann@example.com' ) );
		$order->add_item( new \WC_Order_Item_Product( array( 'product_id' => 11, 'name' => 'Mug', 'quantity' => 1, 'subtotal' => '10.00', 'total' => '10.00' ) ) );
		$order->calculate_totals();
		$this->end_request();
		Outbox::write_buffered();
		Plugin()->get( 'outbox' )->truncate();
		\WC_Doubles::$loads = 0;
		do_action( 'woocommerce_payment_complete', $order->get_id(), 'txn_1' );
		$this->end_request();
		$this->assertSame( 1, \WC_Doubles::$loads );
		$this->assertCount( 1, $this->queued() );
	}

	public function test_deactivation_forgets_the_due_run(): void {
		$this->record_three();
		$this->end_request();
		$this->assertGreaterThan( time(), (int) get_option( Scheduler::DELIVERY_DUE ) );
		Scheduler::clear_all();
		$this->assertFalse( get_option( Scheduler::DELIVERY_DUE ) );
	}
}
