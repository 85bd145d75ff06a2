<?php
/**
 * The wake: a request that makes the outbox non-empty costs no query to get it delivered. It
 * writes a signed loopback request to admin-ajax.php and leaves; that request raises the flag,
 * schedules the backstop run and delivers at once (issue 17: +3/+4 queries on checkouts that
 * found the outbox empty: the flag's UPDATE, Action Scheduler's lookup and insert).
 *
 * @package SalesCompanion\Tests
 */

namespace SalesCompanion\Tests;

use SalesCompanion\Delivery;
use SalesCompanion\Scheduler;
use SalesCompanion\Wake;

/**
 * Runs in its own process: it defines Action Scheduler's functions.
 *
 * @runTestsInSeparateProcesses
 * @preserveGlobalState disabled
 */
final class WakeTest extends TestCase {

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
	}

	public function seen( $query ) {
		$this->queries[] = $query;
		return $query;
	}

	private function wake() {
		return Plugin()->get( 'wake' );
	}

	/** The fields of a wake's form body. */
	private static function fields( array $wake ) {
		parse_str( $wake['body'], $fields );
		return $fields;
	}

	public function test_a_request_that_makes_the_outbox_non_empty_sends_one_signed_wake_and_no_query_for_it(): void {
		Plugin()->get( 'events' )->record( 'page.viewed', 'custom', array( 'url' => 'http://shop.test/' ) );
		add_filter( 'query', array( $this, 'seen' ) );
		$this->end_request();
		remove_filter( 'query', array( $this, 'seen' ) );
		$this->assertCount( 1, $this->queries, "the outbox INSERT only:\n" . implode( "\n", $this->queries ) );
		$this->assertSame( 0, $GLOBALS['sc_test_lookups'] );
		$this->assertSame( array(), $GLOBALS['sc_test_actions'] );
		$this->assertSame( array(), FakeService::$requests, 'nothing goes to the service from the shopper\'s request' );
		$this->assertCount( 1, FakeService::$wakes );
		$this->assertSame( admin_url( 'admin-ajax.php' ) . '?action=sales_companion_wake', FakeService::$wakes[0]['url'] );
		$fields = self::fields( FakeService::$wakes[0] );
		$this->assertTrue( $this->wake()->verify( $fields['t'], $fields['s'], time() ) );
		$this->assertFalse( Scheduler::is_waiting(), 'the flag is raised by the wake request, not here' );
	}

	public function test_the_wake_request_raises_the_flag_schedules_the_backstop_and_delivers_at_once(): void {
		FakeService::accept_all();
		Plugin()->get( 'events' )->record( 'page.viewed', 'custom', array( 'url' => 'http://shop.test/' ) );
		$this->end_request();
		$raised = array();
		$watch  = static function ( $old, $value ) use ( &$raised ) {
			$raised[] = (string) $value;
		};
		add_action( 'update_option_' . Scheduler::WAITING, $watch, 10, 2 );
		$this->assertSame( 1, $this->wake()->run() );
		$this->assertSame( array( '1', '0' ), $raised, 'raised for the run, lowered once it emptied the outbox' );
		$this->assertCount( 1, FakeService::sent_events() );
		$this->assertSame( array(), $this->queued() );
		$this->assertSame( array( Scheduler::DELIVER ), array_column( $GLOBALS['sc_test_actions'], 'hook' ), 'the backstop run' );
		$this->assertGreaterThan( time(), $GLOBALS['sc_test_actions'][0]['timestamp'] );
		// The next recording request finds the flag down and wakes delivery again.
		Plugin()->get( 'events' )->record( 'page.viewed', 'custom', array( 'url' => 'http://shop.test/2' ) );
		$this->end_request();
		$this->assertCount( 2, FakeService::$wakes );
	}

	public function test_while_a_run_is_asked_for_neither_requests_nor_wakes_do_anything(): void {
		Plugin()->get( 'events' )->record( 'page.viewed', 'custom', array( 'url' => 'http://shop.test/' ) );
		$this->end_request();
		FakeService::$answers = array( array( 503, array() ) ); // The service is down: the flag stays up.
		$this->wake()->run();
		$this->assertTrue( Scheduler::is_waiting() );
		$sent    = count( FakeService::$requests );
		$actions = count( $GLOBALS['sc_test_actions'] );
		for ( $i = 0; $i < 3; $i++ ) {
			Plugin()->get( 'events' )->record( 'page.viewed', 'custom', array( 'url' => 'http://shop.test/' . $i ) );
			$this->end_request();
			$this->assertSame( -1, $this->wake()->run(), 'a late or repeated wake' );
		}
		$this->assertCount( 1, FakeService::$wakes, 'during the outage no request sends a wake' );
		$this->assertCount( $sent, FakeService::$requests, 'no attempt before the backoff ends' );
		$this->assertCount( $actions, $GLOBALS['sc_test_actions'] );
		$this->assertCount( 4, $this->queued(), 'all kept, in order' );
	}

	public function test_a_wake_that_waits_in_vain_for_the_lock_leaves_the_backstop_to_deliver(): void {
		FakeService::accept_all();
		Plugin()->get( 'events' )->record( 'page.viewed', 'custom', array( 'url' => 'http://shop.test/' ) );
		$this->end_request();
		add_option( Delivery::LOCK, time() + 120, '', false ); // A run stuck for longer than the wake waits.
		$this->assertSame( 0, $this->wake()->run( 0.3 ) );
		$this->assertSame( array(), FakeService::$requests );
		$this->assertTrue( Scheduler::is_waiting() );
		$this->assertCount( 1, $GLOBALS['sc_test_actions'] );
		delete_option( Delivery::LOCK );
		// The queue runner runs the backstop: in progress while its hook runs.
		$GLOBALS['sc_test_actions'][0]['status'] = \ActionScheduler_Store::STATUS_RUNNING;
		do_action( Scheduler::DELIVER );
		$this->assertCount( 1, FakeService::sent_events(), 'delivered exactly once' );
		$this->assertFalse( Scheduler::is_waiting() );
	}

	public function test_work_in_wp_cron_or_action_scheduler_schedules_the_run_itself(): void {
		add_filter( 'wp_doing_cron', '__return_true' );
		Plugin()->get( 'events' )->record( 'page.viewed', 'custom', array( 'url' => 'http://shop.test/' ) );
		$this->end_request();
		remove_filter( 'wp_doing_cron', '__return_true' );
		$this->assertSame( array(), FakeService::$wakes );
		$this->assertTrue( Scheduler::is_waiting() );
		$this->assertSame( array( Scheduler::DELIVER ), array_column( $GLOBALS['sc_test_actions'], 'hook' ) );
	}

	public function test_only_this_sites_recent_signature_wakes(): void {
		$now = 1800000000;
		$this->assertTrue( $this->wake()->verify( (string) $now, hash_hmac( 'sha256', (string) $now, hash_hmac( 'sha256', Wake::CONTEXT, self::KEY, true ) ), $now + 60 ) );
		$good = self::sign( $now );
		$this->assertTrue( $this->wake()->verify( (string) $now, $good, $now ) );
		$this->assertFalse( $this->wake()->verify( (string) $now, $good, $now + Wake::MAX_AGE + 1 ), 'too old' );
		$this->assertFalse( $this->wake()->verify( (string) ( $now + 1 ), $good, $now ), 'another time' );
		$this->assertFalse( $this->wake()->verify( (string) $now, hash_hmac( 'sha256', (string) $now, 'another key' ), $now ) );
		$this->assertFalse( $this->wake()->verify( '', '', $now ) );
		$this->assertFalse( $this->wake()->verify( '1e9', $good, $now ) );
	}

	private static function sign( $now ) {
		return hash_hmac( 'sha256', (string) $now, hash_hmac( 'sha256', Wake::CONTEXT, self::KEY, true ) );
	}

	public function test_the_handler_refuses_an_unsigned_wake_and_runs_a_signed_one(): void {
		FakeService::accept_all();
		Plugin()->get( 'events' )->record( 'page.viewed', 'custom', array( 'url' => 'http://shop.test/' ) );
		$this->end_request();
		$died = static function () {
			return static function ( $message, $title, $args ) {
				throw new \RuntimeException( (string) $args['response'] );
			};
		};
		add_filter( 'wp_die_handler', $died );
		$_POST = array( 't' => (string) time(), 's' => 'forged' );
		try {
			$this->wake()->handle();
			$this->fail( 'no answer' );
		} catch ( \RuntimeException $answer ) {
			$this->assertSame( '403', $answer->getMessage() );
		}
		$this->assertSame( array(), FakeService::$requests );
		$this->assertFalse( Scheduler::is_waiting() );
		$_POST = self::fields( FakeService::$wakes[0] );
		try {
			$this->wake()->handle();
			$this->fail( 'no answer' );
		} catch ( \RuntimeException $answer ) {
			$this->assertSame( '200', $answer->getMessage() );
		} finally {
			$_POST = array();
			remove_filter( 'wp_die_handler', $died );
		}
		$this->assertCount( 1, FakeService::sent_events() );
	}

	public function test_the_wake_is_a_post_written_to_the_sites_own_address_without_waiting_for_an_answer(): void {
		$server = stream_socket_server( 'tcp://127.0.0.1:0', $errno, $errstr );
		$this->assertNotFalse( $server, $errstr );
		$port = (int) substr( strrchr( stream_socket_get_name( $server, false ), ':' ), 1 );
		$to   = static function ( $url ) use ( $port ) {
			return preg_replace( '#^https?://[^/]+#', 'http://127.0.0.1:' . $port, $url );
		};
		add_filter( 'admin_url', $to );
		FakeService::uninstall(); // The real socket.
		$started = microtime( true );
		$sent    = $this->wake()->send( time() );
		$spent   = microtime( true ) - $started;
		remove_filter( 'admin_url', $to );
		$this->assertTrue( $sent );
		$this->assertLessThan( 0.5, $spent, 'nobody answered, and the sender did not wait for it' );
		$client = stream_socket_accept( $server, 2 );
		$this->assertNotFalse( $client );
		$request = stream_get_contents( $client );
		fclose( $client );
		fclose( $server );
		list( $head, $body ) = explode( "\r\n\r\n", $request, 2 );
		$this->assertMatchesRegularExpression( '#^POST /\S*wp-admin/admin-ajax\.php\?action=sales_companion_wake HTTP/1\.1\r\n#', $head );
		$this->assertStringContainsString( "\r\nHost: 127.0.0.1:{$port}\r\n", $head );
		$this->assertStringContainsString( "\r\nContent-Length: " . strlen( $body ) . "\r\n", $head );
		parse_str( $body, $fields );
		$this->assertTrue( $this->wake()->verify( $fields['t'], $fields['s'], time() ) );
	}

	public function test_a_wake_that_cannot_connect_makes_the_request_schedule_the_run_itself(): void {
		FakeService::accept_all();
		remove_filter( 'sales_companion_pre_wake', array( FakeService::class, 'wake' ), 10 );
		add_filter( 'sales_companion_pre_wake', '__return_false' ); // The site cannot reach itself.
		for ( $i = 0; $i < 2; $i++ ) {
			Plugin()->get( 'events' )->record( 'page.viewed', 'custom', array( 'url' => 'http://shop.test/' . $i ) );
			$this->end_request();
		}
		remove_filter( 'sales_companion_pre_wake', '__return_false' );
		$this->assertCount( 2, $this->queued() );
		$this->assertTrue( Scheduler::is_waiting(), 'the first request asked for a run, as before the wake' );
		$this->assertCount( 1, $GLOBALS['sc_test_actions'], 'one run, the second request saw the flag up' );
		do_action( Scheduler::DELIVER );
		$this->assertCount( 2, FakeService::sent_events() );
		$this->assertSame( array(), $this->queued() );
		$this->assertFalse( Scheduler::is_waiting(), 'the next request wakes delivery again' );
	}

	/** Events recorded $seconds ago (the outbox's created_at). */
	private function age_outbox( $seconds ) {
		global $wpdb;
		$table = \SalesCompanion\Outbox::table();
		$wpdb->query( $wpdb->prepare( "UPDATE {$table} SET created_at = created_at - %d", $seconds ) ); // phpcs:ignore WordPress.DB
	}

	/**
	 * A wake that connects but never runs (HTTP authentication, a firewall's 403): its sender
	 * cannot tell. The sweep can: events waited with no run asked for. For a day requests then
	 * schedule the run themselves; the status panel says why.
	 */
	public function test_wakes_that_never_arrive_are_seen_by_the_sweep_and_requests_schedule_the_run_for_a_day(): void {
		FakeService::accept_all();
		Plugin()->get( 'events' )->record( 'page.viewed', 'custom', array( 'url' => 'http://shop.test/a' ) );
		$this->end_request();
		$this->assertCount( 1, FakeService::$wakes, 'sent, and lost on the way' );
		$scheduler = Plugin()->get( 'scheduler' );
		$this->age_outbox( Scheduler::WAKE_LOST - 5 );
		$this->assertFalse( $scheduler->check_wakes(), 'not yet: a wake may still be on its way' );
		$this->age_outbox( 10 );
		do_action( Scheduler::SWEEP );
		$this->assertTrue( Scheduler::wake_is_off( time() ) );
		$this->assertCount( 1, FakeService::sent_events(), 'the sweep delivered them' );

		Plugin()->get( 'events' )->record( 'page.viewed', 'custom', array( 'url' => 'http://shop.test/b' ) );
		$this->end_request();
		$this->assertCount( 1, FakeService::$wakes, 'no wake while wakes are off' );
		$this->assertTrue( Scheduler::is_waiting() );
		$this->assertCount( 1, $GLOBALS['sc_test_actions'], 'the request scheduled the run itself' );

		require_once ABSPATH . 'wp-admin/includes/template.php';
		$admin = get_user_by( 'login', 'sc_wake_admin' );
		wp_set_current_user( $admin ? $admin->ID : wp_insert_user( array( 'user_login' => 'sc_wake_admin', 'user_pass' => wp_generate_password(), 'role' => 'administrator', 'user_email' => 'sc_wake_admin@shop.test' ) ) );
		ob_start();
		Plugin()->get( 'admin' )->render();
		$page = ob_get_clean();
		$this->assertStringContainsString( 'started by WP-Cron since', $page );

		$this->assertTrue( Scheduler::wake_is_off( time() + Scheduler::WAKE_OFF_FOR - 60 ) );
		$this->assertFalse( Scheduler::wake_is_off( time() + Scheduler::WAKE_OFF_FOR ), 'a day later wakes are tried again' );
	}

	public function test_events_that_wait_while_a_run_is_asked_for_are_not_lost_wakes(): void {
		Plugin()->get( 'events' )->record( 'page.viewed', 'custom', array( 'url' => 'http://shop.test/' ) );
		$this->end_request();
		Scheduler::set_waiting( true ); // The service is down: a run waits for the end of a backoff.
		$this->age_outbox( 3600 );
		$this->assertFalse( Plugin()->get( 'scheduler' )->check_wakes() );
		$this->assertFalse( Scheduler::wake_is_off( time() ) );
	}

	public function test_the_wake_off_option_is_autoloaded_so_reading_it_costs_no_query(): void {
		global $wpdb;
		$autoload = $wpdb->get_var( $wpdb->prepare( "SELECT autoload FROM {$wpdb->options} WHERE option_name = %s", Scheduler::WAKE_OFF ) );
		$this->assertSame( 'yes', $autoload );
	}

	/**
	 * The window: a request that read the flag up before a run lowered it writes its events
	 * after the run found the outbox empty. The run reads again TAIL seconds after lowering.
	 */
	public function test_a_run_reads_the_outbox_again_a_tail_after_it_lowered_the_flag(): void {
		FakeService::accept_all();
		Plugin()->get( 'events' )->record( 'page.viewed', 'custom', array( 'url' => 'http://shop.test/' ) );
		$this->end_request();
		$table   = \SalesCompanion\Outbox::table();
		$lowered = 0.0;
		$reads   = array();
		$watch   = static function ( $old, $value ) use ( &$lowered ) {
			if ( '0' === (string) $value ) {
				$lowered = microtime( true );
			}
		};
		$late    = static function ( $query ) use ( $table, &$lowered, &$reads ) {
			if ( $lowered && 0 === strpos( ltrim( $query ), 'SELECT' ) && false !== strpos( $query, $table ) && false !== strpos( $query, 'pending' ) ) {
				$reads[] = microtime( true );
				if ( 2 === count( $reads ) ) { // The request that saw the flag up writes now.
					$GLOBALS['wpdb']->insert( $table, array( 'event_id' => wp_generate_uuid4(), 'event_type' => 'page.viewed', 'payload' => wp_json_encode( array( 'id' => 'late', 'type' => 'page.viewed' ) ), 'status' => 'pending', 'created_at' => time() ) );
				}
			}
			return $query;
		};
		add_action( 'update_option_' . Scheduler::WAITING, $watch, 10, 2 );
		add_filter( 'query', $late );
		$delivered = $this->wake()->run();
		remove_filter( 'query', $late );
		$this->assertSame( 2, $delivered, 'the late event went with the run' );
		$this->assertGreaterThanOrEqual( 2, count( $reads ) );
		$this->assertGreaterThanOrEqual( Delivery::TAIL - 0.05, $reads[1] - $lowered, 'the second read waits for the tail' );
		$this->assertSame( array(), $this->queued() );
	}

	public function test_a_request_that_read_the_flag_up_and_ran_longer_than_the_tail_wakes_delivery_too(): void {
		Plugin()->get( 'events' )->record( 'page.viewed', 'custom', array( 'url' => 'http://shop.test/' ) );
		$this->end_request();
		Plugin()->get( 'scheduler' )->schedule_delivery( Scheduler::COALESCE ); // The flag is up.
		FakeService::$wakes = array();
		Plugin()->get( 'events' )->record( 'page.viewed', 'custom', array( 'url' => 'http://shop.test/short' ) );
		$this->end_request();
		$this->assertSame( array(), FakeService::$wakes, 'a short request is covered by the run\'s tail' );
		$_SERVER['REQUEST_TIME_FLOAT'] = microtime( true ) - Delivery::TAIL - 0.5; // A slow checkout.
		Plugin()->get( 'events' )->record( 'page.viewed', 'custom', array( 'url' => 'http://shop.test/slow' ) );
		add_filter( 'query', array( $this, 'seen' ) );
		$this->end_request();
		remove_filter( 'query', array( $this, 'seen' ) );
		$this->assertCount( 1, FakeService::$wakes, 'it cannot know whether the run read after it wrote' );
		$this->assertCount( 1, $this->queries, 'still only the outbox INSERT' );
		$this->assertSame( -1, $this->wake()->run(), 'the flag is up: the run to come delivers it' );
	}

	public function test_the_wake_waits_for_a_run_that_holds_the_lock(): void {
		FakeService::accept_all();
		Plugin()->get( 'events' )->record( 'page.viewed', 'custom', array( 'url' => 'http://shop.test/' ) );
		$this->end_request();
		add_option( Delivery::LOCK, time() + 1, '', false ); // A run in its last second (the lock expires with it here).
		$this->assertSame( 0, Plugin()->get( 'delivery' )->run(), 'a plain run gives up at once' );
		$started = microtime( true );
		$this->assertSame( 1, $this->wake()->run() );
		$this->assertLessThan( Wake::LOCK_WAIT, microtime( true ) - $started );
		$this->assertCount( 1, FakeService::sent_events() );
	}
}
