<?php
/**
 * Where a store plugin loads Action Scheduler, delivery runs are its actions.
 *
 * @package SalesCompanion\Tests
 */

namespace SalesCompanion\Tests;

use SalesCompanion\Scheduler;

/**
 * Runs in its own process: it defines Action Scheduler's functions.
 *
 * @runTestsInSeparateProcesses
 * @preserveGlobalState disabled
 */
final class ActionSchedulerTest extends TestCase {

	protected function setUp(): void {
		if ( ! function_exists( 'as_schedule_single_action' ) ) {
			require __DIR__ . '/doubles/action-scheduler.php';
		}
		parent::setUp();
		$GLOBALS['sc_test_actions'] = array();
		do_action( 'action_scheduler_init' );
	}

	public function test_the_wake_schedules_one_delivery_action_in_the_plugins_group(): void {
		\WC_Doubles::add_product( 11, 'Mug', '10.00' );
		WC()->cart->add_to_cart( 11, 1 );
		$this->end_request();
		$this->assertSame( array(), $GLOBALS['sc_test_actions'], 'the shopper\'s request only wakes delivery' );
		$before = time();
		Plugin()->get( 'wake' )->run(); // The wake request: the backstop run, then delivery at once.
		$after = time(); // A run reads the outbox again Delivery::TAIL after emptying it.
		WC()->cart->add_to_cart( 11, 1 );
		$this->end_request();
		Plugin()->get( 'wake' )->run();
		$this->assertCount( 2, FakeService::$wakes );
		$this->assertCount( 1, $GLOBALS['sc_test_actions'], 'one backstop run pending for both' );
		$action = $GLOBALS['sc_test_actions'][0];
		$this->assertSame( array( Scheduler::DELIVER, 'sales-companion' ), array( $action['hook'], $action['group'] ) );
		$this->assertGreaterThanOrEqual( $before + Scheduler::COALESCE, $action['timestamp'] );
		$this->assertLessThanOrEqual( $after + Scheduler::COALESCE, $action['timestamp'] );
		$this->assertFalse( wp_next_scheduled( Scheduler::DELIVER ), 'no WP-Cron event as well' );
	}

	/**
	 * Pending actions of a hook in the plugin's group.
	 *
	 * @param string $hook Hook.
	 * @return array
	 */
	private function pending_actions( $hook ) {
		return array_values(
			array_filter(
				$GLOBALS['sc_test_actions'],
				static function ( $action ) use ( $hook ) {
					return $action['hook'] === $hook && \ActionScheduler_Store::STATUS_PENDING === $action['status'];
				}
			)
		);
	}

	public function test_a_running_history_batch_schedules_the_next_until_every_order_is_synced(): void {
		\WC_Doubles::add_product( 11, 'Mug', '10.00' );
		for ( $i = 0; $i < 120; $i++ ) {
			$order = wc_create_order( array( 'billing_email' => "c{$i}@example.com", 'status' => 'completed' ) );
			$order->add_item( new \WC_Order_Item_Product( array( 'product_id' => 11, 'name' => 'Mug', 'quantity' => 1, 'subtotal' => '10.00', 'total' => '10.00' ) ) );
			$order->save();
		}
		Plugin()->flush();
		Plugin()->get( 'outbox' )->truncate();
		$GLOBALS['sc_test_actions'] = array();

		Plugin()->get( 'history' )->start( array( 'woocommerce' ) );
		for ( $run = 0; $run < 10 && $this->pending_actions( Scheduler::SYNC ); $run++ ) {
			sc_test_run_due_actions();
		}
		$state = Plugin()->get( 'history' )->state();
		$this->assertSame( 121, $state['done'], 'each batch, running as an action, queued the next one (the mug, then 120 orders)' );
		$this->assertFalse( $state['running'] );
		$sent = array_filter(
			FakeService::sent_events(),
			static function ( $event ) {
				return 'order.updated' === $event['type'];
			}
		);
		$this->assertCount( 120, array_merge( $sent, $this->queued_of( 'order.updated' ) ), 'every order delivered or waiting' );
	}

	public function test_a_history_sync_whose_batch_failed_is_resumed_by_the_five_minute_sweep(): void {
		\WC_Doubles::add_product( 11, 'Mug', '10.00' );
		for ( $i = 0; $i < 60; $i++ ) {
			$order = wc_create_order( array( 'billing_email' => "c{$i}@example.com", 'status' => 'completed' ) );
			$order->add_item( new \WC_Order_Item_Product( array( 'product_id' => 11, 'name' => 'Mug', 'quantity' => 1, 'subtotal' => '10.00', 'total' => '10.00' ) ) );
			$order->save();
		}
		Plugin()->flush();
		Plugin()->get( 'outbox' )->truncate();
		$GLOBALS['sc_test_actions'] = array();
		Plugin()->get( 'history' )->start( array( 'woocommerce' ) );

		// Seen on a real WooCommerce 8.9.1 shop: a queue runner that had started before the plugin was
		// activated claimed the first batch and failed it ("no callbacks are registered"). Nothing
		// scheduled another one: the sync said "running", 0 of 321 done, ten minutes later.
		$batch = array( Plugin()->get( 'history' ), 'run_batch' );
		remove_action( Scheduler::SYNC, $batch, 10 );
		sc_test_run_due_actions();
		add_action( Scheduler::SYNC, $batch, 10, 0 );
		$this->assertSame( array(), $this->pending_actions( Scheduler::SYNC ) );
		$this->assertSame( 0, Plugin()->get( 'history' )->state()['done'] );

		do_action( Scheduler::SWEEP );
		$this->assertCount( 1, $this->pending_actions( Scheduler::SYNC ), 'the sweep asked for the next batch' );
		do_action( Scheduler::SWEEP );
		$this->assertCount( 1, $this->pending_actions( Scheduler::SYNC ), 'one waiting batch, not two' );
		for ( $run = 0; $run < 10 && $this->pending_actions( Scheduler::SYNC ); $run++ ) {
			sc_test_run_due_actions();
		}
		$state = Plugin()->get( 'history' )->state();
		$this->assertSame( array( 61, false ), array( $state['done'], $state['running'] ), 'the mug, then the 60 orders' );
		do_action( Scheduler::SWEEP );
		$this->assertSame( array(), $this->pending_actions( Scheduler::SYNC ), 'a finished sync is not started again' );
	}

	public function test_a_delivery_run_that_runs_out_of_time_or_backs_off_schedules_its_next_run(): void {
		$this->record_page();
		FakeService::$answers = array( array( 503, array( 'error' => 'maintenance' ) ) );
		as_schedule_single_action( time(), Scheduler::DELIVER, array(), Scheduler::GROUP );
		sc_test_run_due_actions();
		$pending = $this->pending_actions( Scheduler::DELIVER );
		$this->assertCount( 1, $pending, 'the failed run asked for a run at the end of the backoff' );
		$this->assertEqualsWithDelta( Plugin()->get( 'delivery' )->state()['retry_at'], $pending[0]['timestamp'], 2 );

		( new Scheduler() )->schedule_delivery();
		$this->assertCount( 1, $this->pending_actions( Scheduler::DELIVER ), 'still one waiting run, not two' );
	}

	public function test_the_status_panel_promises_a_next_attempt_only_when_one_is_scheduled(): void {
		$this->record_page();
		FakeService::$answers = array( array( 503, array( 'error' => 'maintenance' ) ) );
		$this->deliver();
		$retry_at = Plugin()->get( 'delivery' )->state()['retry_at'];
		$this->assertEqualsWithDelta( $retry_at, ( new Scheduler() )->next_delivery(), 2 );

		$GLOBALS['sc_test_actions'] = array();
		wp_clear_scheduled_hook( Scheduler::SWEEP );
		$this->assertSame( 0, ( new Scheduler() )->next_delivery() );
		$html = $this->status_panel_html();
		$this->assertStringNotContainsString( wp_date( get_option( 'date_format' ) . ' ' . get_option( 'time_format' ), $retry_at ), $html );
		$this->assertStringContainsString( 'nothing is scheduled', $html );
	}

	/**
	 * One page view in the outbox.
	 *
	 * @return void
	 */
	private function record_page() {
		Plugin()->get( 'events' )->record( 'page.viewed', 'custom', array( 'url' => 'http://shop.test/p/1', 'referrer' => '' ) );
	}

	/**
	 * The settings page as an administrator sees it.
	 *
	 * @return string
	 */
	private function status_panel_html() {
		require_once ABSPATH . 'wp-admin/includes/template.php';
		wp_set_current_user( 1 );
		ob_start();
		Plugin()->get( 'admin' )->render();
		return (string) ob_get_clean();
	}

	public function test_history_batches_are_actions_too_and_deactivation_removes_them(): void {
		Plugin()->get( 'history' )->start( array( 'woocommerce' ) );
		$this->assertSame( array( Scheduler::SYNC ), array_column( $GLOBALS['sc_test_actions'], 'hook' ) );
		Scheduler::clear_all();
		$this->assertSame( array(), $GLOBALS['sc_test_actions'] );
	}
}
