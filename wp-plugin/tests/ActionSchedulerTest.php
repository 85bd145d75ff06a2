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

	public function test_recording_schedules_one_delivery_action_in_the_plugins_group(): void {
		\WC_Doubles::add_product( 11, 'Mug', '10.00' );
		WC()->cart->add_to_cart( 11, 1 );
		$this->end_request();
		WC()->cart->add_to_cart( 11, 1 );
		$this->end_request();
		$this->assertCount( 1, $GLOBALS['sc_test_actions'] );
		$action = $GLOBALS['sc_test_actions'][0];
		$this->assertSame( array( Scheduler::DELIVER, 'sales-companion' ), array( $action['hook'], $action['group'] ) );
		$this->assertEqualsWithDelta( time() + Scheduler::COALESCE, $action['timestamp'], 2 );
		$this->assertFalse( wp_next_scheduled( Scheduler::DELIVER ), 'no WP-Cron event as well' );
	}

	public function test_history_batches_are_actions_too_and_deactivation_removes_them(): void {
		Plugin()->get( 'history' )->start( array( 'woocommerce' ) );
		$this->assertSame( array( Scheduler::SYNC ), array_column( $GLOBALS['sc_test_actions'], 'hook' ) );
		Scheduler::clear_all();
		$this->assertSame( array(), $GLOBALS['sc_test_actions'] );
	}
}
