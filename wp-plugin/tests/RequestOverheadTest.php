<?php
/**
 * What the plugin adds to a shopper's request: one outbox INSERT for everything the request
 * recorded, no Action Scheduler lookup while the outbox waits for a delivery run, the cart token
 * written by the checkout's own save, no paid-time meta on a checkout (issue 17: +7 queries on a
 * Store API checkout, +13 on a classic one, measured on a real shop; target at most 2).
 *
 * @package SalesCompanion\Tests
 */

namespace SalesCompanion\Tests;

use SalesCompanion\Outbox;
use SalesCompanion\Scheduler;
use SalesCompanion\WooCommerce_Order_Snapshot;

/**
 * Runs in its own process: it defines Action Scheduler's functions.
 *
 * @runTestsInSeparateProcesses
 * @preserveGlobalState disabled
 */
final class RequestOverheadTest extends TestCase {

	/** @var string[] */
	private $queries = array();

	/** @var array<string, string> Beacon tokens of pages rendered in earlier requests. */
	private $tokens = array();

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

	/**
	 * What the wake request does before it delivers (Wake::run): raises the flag and schedules
	 * the backstop run. Here without the delivery, as when that request dies or waits on a lock.
	 */
	private function wake_request_asks_for_a_run() {
		Plugin()->get( 'scheduler' )->schedule_delivery( Scheduler::COALESCE );
	}

	public function test_requests_while_a_delivery_run_is_ahead_do_not_ask_action_scheduler_again(): void {
		$this->record_three();
		$this->end_request();
		$this->assertSame( 0, $GLOBALS['sc_test_lookups'], 'the request only wakes delivery' );
		$this->assertCount( 1, FakeService::$wakes );
		$this->wake_request_asks_for_a_run();
		$this->assertSame( 1, $GLOBALS['sc_test_lookups'] );
		Plugin()->get( 'events' )->record( 'page.viewed', 'custom', array( 'url' => 'http://shop.test/2' ) );
		$this->end_request();
		$this->assertSame( 1, $GLOBALS['sc_test_lookups'], 'the second request looks nothing up' );
		$this->assertCount( 1, FakeService::$wakes, 'and sends no wake' );
		$this->assertCount( 1, $GLOBALS['sc_test_actions'] );
	}

	public function test_once_a_run_emptied_the_outbox_the_next_request_asks_again_and_a_running_one_does_not_count(): void {
		FakeService::accept_all();
		$this->record_three();
		$this->end_request();
		$this->wake_request_asks_for_a_run();
		$this->assertTrue( Scheduler::is_waiting() );
		// The queue runner has the run in progress (the double's status); it delivers everything.
		$GLOBALS['sc_test_actions'][0]['status'] = \ActionScheduler_Store::STATUS_RUNNING;
		$this->assertSame( 3, $this->deliver() );
		$this->assertFalse( Scheduler::is_waiting(), 'the run found the outbox empty' );
		Plugin()->get( 'events' )->record( 'page.viewed', 'custom', array( 'url' => 'http://shop.test/2' ) );
		$this->end_request();
		$this->assertCount( 2, FakeService::$wakes );
		$this->assertSame( 1, Plugin()->get( 'wake' )->run() );
		$this->assertSame( 2, $GLOBALS['sc_test_lookups'] );
		$this->assertCount( 2, $GLOBALS['sc_test_actions'], 'events recorded while a run is in progress get a run of their own' );
		$this->assertSame( \ActionScheduler_Store::STATUS_PENDING, $GLOBALS['sc_test_actions'][1]['status'] );
	}

	public function test_while_events_wait_for_a_run_no_request_looks_anything_up_however_long_the_run_takes(): void {
		$this->record_three();
		$this->end_request();
		$this->wake_request_asks_for_a_run();
		// Long after the run's time (the queue runner is late, or the service is down and the run
		// waits for the end of its backoff): the outbox still holds events, a run is arranged.
		update_option( 'sales_companion_delivery_due', time() - 600, true ); // What the previous version went by.
		for ( $i = 0; $i < 3; $i++ ) {
			Plugin()->get( 'events' )->record( 'page.viewed', 'custom', array( 'url' => 'http://shop.test/' . $i ) );
			$this->end_request();
		}
		$this->assertSame( 1, $GLOBALS['sc_test_lookups'] );
		$this->assertCount( 1, $GLOBALS['sc_test_actions'] );
		$this->assertCount( 1, FakeService::$wakes );
	}

	public function test_events_written_by_a_request_that_still_saw_the_flag_up_go_with_the_run_that_lowers_it(): void {
		FakeService::accept_all();
		$this->record_three();
		$this->end_request();
		$this->wake_request_asks_for_a_run();
		// Another request, which read the flag as up when it started, writes its event right as
		// the run finds the outbox empty and lowers the flag: it asks for no run of its own.
		$late = static function ( $old, $value ) {
			if ( '0' === (string) $value ) {
				Outbox::add_all( array( array( 'id' => wp_generate_uuid4(), 'type' => 'page.viewed', 'source' => 'custom', 'occurred_at' => gmdate( 'Y-m-d\TH:i:s\Z' ), 'data' => array( 'url' => 'http://shop.test/late' ) ) ) );
			}
		};
		add_action( 'update_option_' . Scheduler::WAITING, $late, 10, 2 );
		$delivered = $this->deliver();
		remove_action( 'update_option_' . Scheduler::WAITING, $late, 10 );
		$this->assertSame( 4, $delivered, 'the run reads the outbox once more after lowering the flag' );
		$this->assertSame( array(), $this->queued() );
	}

	/**
	 * The request kinds of the real-shop bench (bench/bench_real_shop_overhead.sh).
	 *
	 * @return array<string, array{string}>
	 */
	public static function request_kinds() {
		$kinds = array(
			'product page'          => array( 'product_page' ),
			'signed-in page view'   => array( 'signed_in_page' ),
			'add to cart'           => array( 'add_to_cart' ),
			'classic checkout, COD' => array( 'classic_checkout' ),
			'Store API checkout'    => array( 'block_checkout' ),
			'tracker beacon: page view'    => array( 'page_beacon' ),
			'tracker beacon: product view' => array( 'product_beacon' ),
			'tracker beacon: checkout email, no WooCommerce session' => array( 'email_beacon' ),
		);
		$cases = array();
		foreach ( $kinds as $name => $kind ) {
			$cases[ $name . ', a run already asked for' ] = array( $kind[0], 'waiting' );
			$cases[ $name . ', the outbox empty' ]        = array( $kind[0], 'empty' );
		}
		return $cases;
	}

	/**
	 * Issue 17: at most two queries more than the same request without the plugin, whether the
	 * outbox already waits for its delivery run or the request finds it empty (then it wakes
	 * delivery with a loopback request, no query; the code before the wake raised the flag and
	 * asked Action Scheduler here: 5 on both checkouts): the outbox INSERT and the cart token's
	 * meta row in the checkout's own save. Counted: every
	 * query through $wpdb (the store doubles make none, so all are the plugin's), every order meta
	 * row the real WooCommerce would write for the plugin (and the order save or read a separate
	 * meta save causes, see WC_Data::save_meta_data in the double), every Action Scheduler lookup
	 * and scheduled action.
	 *
	 * @dataProvider request_kinds
	 */
	public function test_a_shoppers_request_costs_at_most_two_queries_more( string $kind, string $outbox ): void {
		\WC_Doubles::add_product( 11, 'Mug', '10.00', 'MUG-1' );
		$this->woocommerce_has_read_the_product( 11 );
		Plugin()->get( 'events' )->record( 'page.viewed', 'custom', array( 'url' => 'http://shop.test/' ) );
		$this->end_request();
		if ( 'waiting' === $outbox ) {
			$this->wake_request_asks_for_a_run();
		} else {
			FakeService::accept_all();
			$this->deliver(); // Delivered: the flag is down, the outbox empty.
			$this->assertFalse( Scheduler::is_waiting() );
		}
		FakeService::$wakes = array();
		// Earlier requests: the pages the tracker's beacons come from, and WordPress's REST server
		// (built once per request whether the plugin is there or not).
		$this->tokens = array(
			'page'    => $this->page_config()['token'],
			'product' => $this->page_config( 11 )['token'],
		);
		rest_get_server();
		$before                     = array_count_values( array_column( $this->queued(), 'type' ) );
		$this->queries              = array();
		\WC_Doubles::$meta_writes   = array();
		$GLOBALS['sc_test_lookups'] = 0;
		$actions                    = count( $GLOBALS['sc_test_actions'] );

		$recorded = $this->$kind();
		$count    = $this->end_request();

		$extra = array_merge(
			$this->queries,
			array_map( static function ( $key ) { return "order meta: {$key}"; }, \WC_Doubles::$meta_writes ),
			array_fill( 0, $GLOBALS['sc_test_lookups'], 'Action Scheduler lookup' ),
			array_fill( 0, count( $GLOBALS['sc_test_actions'] ) - $actions, 'Action Scheduler action' )
		);
		$this->assertLessThanOrEqual( 2, count( $extra ), $kind . ":\n" . implode( "\n", $extra ) );
		$this->assertCount( 'empty' === $outbox && $count > 0 ? 1 : 0, FakeService::$wakes, 'a wake when the request made the outbox non-empty' );
		if ( is_string( $recorded ) ) {
			$this->assertCount( ( $before[ $recorded ] ?? 0 ) + 1, $this->queued_of( $recorded ), 'the beacon was taken' );
		}
	}

	/**
	 * What WooCommerce itself has done by the time a checkout ends, with or without the plugin:
	 * it read each cart product through its data store, which loads the product's post
	 * (class-wc-product-data-store-cpt.php read(): get_post) and its category and tag ids
	 * (read_product_data(): wc_get_product_term_ids -> get_the_terms). So the post and its term
	 * relationships sit in WordPress's object cache, and the plugin's product snapshot (name,
	 * categories, permalink) reads them from there. The store doubles keep products outside
	 * WordPress, so the test puts them where WooCommerce would have.
	 *
	 * @param int $id Product id.
	 */
	private function woocommerce_has_read_the_product( int $id ) {
		$post = new \WP_Post( (object) array( 'ID' => $id, 'post_type' => 'product', 'post_status' => 'publish', 'post_name' => 'mug', 'post_title' => 'Mug', 'filter' => 'raw' ) );
		wp_cache_set( $id, $post, 'posts' );
		foreach ( array( 'product_cat', 'product_tag' ) as $taxonomy ) {
			wp_cache_set( $id, array(), $taxonomy . '_relationships' );
		}
	}

	private function product_page() {
		$this->on_page( 11 ); // The tracker signs the product's data into the page.
		Plugin()->get( 'tracker' )->enqueue();
	}

	private function signed_in_page() {
		wp_set_current_user( 1 );
		$this->on_page( 11 );
		Plugin()->get( 'tracker' )->enqueue();
	}

	/** The tracker's beacons: each a request of its own to POST /wp-json/sales-companion/v1/collect. */
	private function page_beacon() {
		$this->beacon( array( 'type' => 'page', 'url' => 'http://shop.test/shop/', 'token' => $this->tokens['page'] ) );
		return 'page.viewed';
	}

	private function product_beacon() {
		$this->beacon( array( 'type' => 'product', 'product_id' => 11, 'token' => $this->tokens['product'] ) );
		return 'product.viewed';
	}

	private function email_beacon() {
		\WC_Doubles::start_rest_request(); // WooCommerce loads no session for a REST request.
		$this->beacon( array( 'type' => 'email', 'email' => 'ann@example.com', 'token' => $this->tokens['page'] ) );
		return 'customer.updated';
	}

	private function add_to_cart() {
		WC()->cart->add_to_cart( 11, 1 );
	}

	/** WC_Checkout::process_checkout(): create_order (the hook, then the save), order_processed, the gateway (COD: update_status), the cart emptied. */
	private function classic_checkout() {
		WC()->cart->add_to_cart( 11, 1 );
		$order = new \WC_Order( array( 'billing_email' => 'ann@example.com', 'payment_method' => 'cod' ) );
		$order->add_item( new \WC_Order_Item_Product( array( 'product_id' => 11, 'name' => 'Mug', 'quantity' => 1, 'subtotal' => '10.00', 'total' => '10.00' ) ) );
		do_action( 'woocommerce_checkout_create_order', $order, array() );
		$order->calculate_totals();
		do_action( 'woocommerce_checkout_order_processed', $order->get_id(), array( 'billing_email' => 'ann@example.com' ), $order );
		$order->update_status( 'processing' );
		WC()->cart->empty_cart();
		return $order;
	}

	/** StoreApi Routes/V1/Checkout.php: update_order_from_request (the hook, then the save), order_processed, process_payment (COD), the cart emptied. */
	private function block_checkout() {
		WC()->cart->add_to_cart( 11, 1 );
		$order = new \WC_Order( array( 'status' => 'checkout-draft', 'billing_email' => 'ann@example.com', 'payment_method' => 'cod' ) );
		$order->add_item( new \WC_Order_Item_Product( array( 'product_id' => 11, 'name' => 'Mug', 'quantity' => 1, 'subtotal' => '10.00', 'total' => '10.00' ) ) );
		do_action( 'woocommerce_store_api_checkout_update_order_from_request', $order, new \WP_REST_Request( 'POST', '/wc/store/v1/checkout' ) );
		$order->save();
		do_action( 'woocommerce_store_api_checkout_order_processed', $order );
		$order->update_status( 'pending' );
		$order->update_status( 'processing' );
		WC()->cart->empty_cart();
		return $order;
	}

	public function test_a_checkout_paid_on_delivery_keeps_its_paid_time_without_an_order_meta_write(): void {
		\WC_Doubles::add_product( 11, 'Mug', '10.00', 'MUG-1' );
		$order = $this->classic_checkout();
		$this->end_request();
		$snapshot = $this->queued_of( 'order.updated' )[0]['data'];
		$this->assertSame( 'processing', $snapshot['status'] );
		$this->assertNotNull( $snapshot['paid_at'] );
		$this->assertSame( '', $order->get_meta( WooCommerce_Order_Snapshot::PAID_META ) );
		$this->assertSame( array( '_sc_cart_token' ), \WC_Doubles::$meta_writes, 'only the cart token, inside the checkout\'s save' );
		$this->assertSame( WC()->session->get( 'sales_companion_cart_token' ), $snapshot['cart_token'] );
		// Completed later (another request): still dated by the order, nothing written.
		$order->update_status( 'completed' );
		$this->end_request();
		$this->assertSame( array( '_sc_cart_token' ), \WC_Doubles::$meta_writes );
		$this->assertSame( $snapshot['paid_at'], $this->queued_of( 'order.updated' )[1]['data']['paid_at'] );
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

	public function test_the_upgrade_sets_the_flag_from_what_the_outbox_holds(): void {
		delete_option( Scheduler::WAITING );
		update_option( 'sales_companion_db_version', '1', true );
		Outbox::install();
		$this->assertSame( '0', get_option( Scheduler::WAITING ), 'an empty outbox: the first events ask for a run' );
		Outbox::add_all( array( array( 'id' => wp_generate_uuid4(), 'type' => 'page.viewed', 'source' => 'custom', 'occurred_at' => gmdate( 'Y-m-d\TH:i:s\Z' ), 'data' => array( 'url' => 'http://shop.test/' ) ) ) );
		Outbox::install();
		$this->assertSame( '1', get_option( Scheduler::WAITING ), 'events already wait: the sweep (or a run) delivers them' );
		$this->assertSame( Outbox::DB_VERSION, get_option( 'sales_companion_db_version' ) );
	}

	public function test_deactivation_lowers_the_flag(): void {
		$this->record_three();
		$this->end_request();
		$this->wake_request_asks_for_a_run();
		$this->assertTrue( Scheduler::is_waiting() );
		Scheduler::clear_all();
		$this->assertFalse( Scheduler::is_waiting(), 'after reactivation the first events ask for a run' );
		$this->assertSame( '0', get_option( Scheduler::WAITING ), 'kept, autoloaded: a missing option is a query per read' );
	}
}
