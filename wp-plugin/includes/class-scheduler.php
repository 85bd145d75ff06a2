<?php
/**
 * Background work: Action Scheduler where a store plugin ships it, else WP-Cron.
 *
 * @package SalesCompanion
 */

namespace SalesCompanion;

if ( ! defined( 'ABSPATH' ) ) {
	exit;
}

/**
 * Schedules delivery runs and history-sync batches after the response.
 */
class Scheduler {

	const DELIVER  = 'sales_companion_deliver';
	const SWEEP    = 'sales_companion_deliver_sweep';
	const SYNC     = 'sales_companion_sync_history';
	const GROUP    = 'sales-companion';
	const INTERVAL = 'sales_companion_five_minutes';
	const COALESCE = 10;

	/**
	 * Autoloaded option, '1' while the outbox holds events a delivery run has been asked for, '0'
	 * once a run found it empty. Shopper requests read it from the autoloaded options (no query)
	 * and ask for a run only when it is '0', that is when their events made the outbox non-empty.
	 * It must always exist: a missing option is looked up in the database on every read.
	 */
	const WAITING = 'sales_companion_outbox_waiting';

	/**
	 * Autoloaded option, never missing (Outbox::install): when the five-minute sweep last found
	 * events that had waited WAKE_LOST seconds with no run asked for, so wakes do not arrive (a
	 * host that blocks loopback requests, HTTP authentication on the site, a firewall). For
	 * WAKE_OFF_FOR seconds after that, requests schedule the run themselves, as before the wake;
	 * then wakes are tried again. '0' when wakes work.
	 */
	const WAKE_OFF = 'sales_companion_wake_off';

	/**
	 * Seconds an event may wait with the flag down before the sweep takes wakes for lost (a wake
	 * delivers within seconds; the backstop run it schedules within COALESCE).
	 */
	const WAKE_LOST = 120;

	/**
	 * Seconds requests schedule the run themselves once wakes were found lost.
	 */
	const WAKE_OFF_FOR = DAY_IN_SECONDS;

	/**
	 * Option of versions before WAITING (a due time); only deleted now.
	 */
	const LEGACY_DELIVERY_DUE = 'sales_companion_delivery_due';

	/**
	 * Whether Action Scheduler is loaded (WooCommerce, EDD 3.2+ and FluentCart ship it).
	 *
	 * @return bool
	 */
	public static function has_action_scheduler() {
		return function_exists( 'as_schedule_single_action' ) && function_exists( 'as_get_scheduled_actions' ) && did_action( 'action_scheduler_init' );
	}

	/**
	 * After a request wrote events to the outbox: wakes delivery when the outbox had none waiting
	 * (WAITING is '0'). While it is '1' a run is scheduled, running, or waiting for the end of a
	 * backoff, and that run (or the one it schedules) delivers these events too, so the request
	 * does nothing. A web request wakes delivery with the wake (Wake: a loopback request written
	 * and left, no query here; the wake request raises the flag, schedules the backstop run and
	 * delivers); WP-Cron, Action Scheduler and WP-CLI work schedules the run itself (no shopper
	 * waits, and a command line may not reach the site's own URL).
	 *
	 * The flag is read from the autoloaded options, as they were when the request started. A
	 * request that read it up while a run was about to lower it is covered by the run, which keeps
	 * reading the outbox for Delivery::TAIL seconds after lowering it; a request that has run
	 * longer than that (a slow checkout) cannot be sure and wakes delivery as well. The wake
	 * request then finds the flag up and does nothing, or down and delivers.
	 *
	 * @param Wake|null $wake The wake, null to schedule the run in this request.
	 * @return void
	 */
	public function after_recording( $wake = null ) {
		$background = null === $wake || wp_doing_cron() || ( defined( 'WP_CLI' ) && WP_CLI ) || self::wake_is_off( time() );
		if ( self::is_waiting() ) {
			if ( ! $background && self::request_seconds() >= Delivery::TAIL ) {
				$wake->send( time() );
			}
			return;
		}
		if ( $background ) {
			$this->schedule_delivery( self::COALESCE );
			return;
		}
		if ( ! $wake->send( time() ) ) {
			// The site's own address did not take the connection: schedule the run here.
			$this->schedule_delivery( self::COALESCE );
		}
	}

	/**
	 * Whether wakes were found lost less than WAKE_OFF_FOR seconds ago (no query: autoloaded).
	 *
	 * @param int $now Unix time.
	 * @return bool
	 */
	public static function wake_is_off( $now ) {
		$off = (int) get_option( self::WAKE_OFF, '0' );
		return $off > 0 && $now - $off < self::WAKE_OFF_FOR;
	}

	/**
	 * The five-minute sweep, before its delivery run: events that waited WAKE_LOST seconds while
	 * no run was asked for (the flag down) mean the wakes sent for them did not arrive. Requests
	 * then schedule the run themselves for WAKE_OFF_FOR seconds (the status panel says so).
	 *
	 * @param int|null $now Unix time (now when null).
	 * @return bool Whether wakes were found lost.
	 */
	public function check_wakes( $now = null ) {
		$now = null === $now ? time() : (int) $now;
		if ( self::is_waiting() || self::wake_is_off( $now ) ) {
			return false;
		}
		$oldest = Plugin::instance()->get( 'outbox' )->oldest_pending();
		if ( ! $oldest || $now - $oldest < self::WAKE_LOST ) {
			return false;
		}
		update_option( self::WAKE_OFF, (string) $now, true );
		return true;
	}

	/**
	 * Seconds since the request started (an upper bound of the age of its autoloaded options).
	 *
	 * @return float
	 */
	private static function request_seconds() {
		$start = isset( $_SERVER['REQUEST_TIME_FLOAT'] ) ? (float) $_SERVER['REQUEST_TIME_FLOAT'] : 0.0;
		return $start > 0 ? microtime( true ) - $start : PHP_FLOAT_MAX;
	}

	/**
	 * Whether a delivery run has been asked for and the outbox may hold events (no query).
	 *
	 * @return bool
	 */
	public static function is_waiting() {
		return '1' === (string) get_option( self::WAITING, '0' );
	}

	/**
	 * Sets WAITING, autoloaded (update_option writes only when the value changes).
	 *
	 * @param bool $waiting Whether the outbox holds events a run has been asked for.
	 * @return void
	 */
	public static function set_waiting( $waiting ) {
		update_option( self::WAITING, $waiting ? '1' : '0', true );
	}

	/**
	 * Asks for one delivery run in $delay seconds, unless one is already waiting.
	 *
	 * @param int $delay Seconds from now.
	 * @return void
	 */
	public function schedule_delivery( $delay = 0 ) {
		self::set_waiting( true );
		$this->schedule( self::DELIVER, $delay );
	}

	/**
	 * Asks for the next history-sync batch.
	 *
	 * @return void
	 */
	public function schedule_sync() {
		$this->schedule( self::SYNC, 0 );
	}

	/**
	 * Whether a history-sync batch is waiting or running (Action Scheduler: pending or in-progress;
	 * WP-Cron: scheduled).
	 *
	 * @return bool
	 */
	public function sync_scheduled() {
		if ( self::has_action_scheduler() ) {
			return (bool) as_get_scheduled_actions(
				array(
					'hook'     => self::SYNC,
					'group'    => self::GROUP,
					'status'   => array( \ActionScheduler_Store::STATUS_PENDING, \ActionScheduler_Store::STATUS_RUNNING ),
					'per_page' => 1,
					'orderby'  => 'none',
				),
				'ids'
			);
		}
		return false !== wp_next_scheduled( self::SYNC );
	}

	/**
	 * One single run of a hook, unless one is already waiting.
	 *
	 * Only a PENDING action counts as waiting. as_has_scheduled_action() and the
	 * $unique flag also count the action that is running right now, so a delivery
	 * run or a history batch could never schedule its own next run (history sync
	 * stopped after one batch; delivery waited for the sweep after an outage).
	 * WP-Cron needs no such care: it unschedules an event before running it.
	 *
	 * @param string $hook  Hook.
	 * @param int    $delay Seconds from now.
	 * @return void
	 */
	private function schedule( $hook, $delay ) {
		if ( self::has_action_scheduler() ) {
			if ( ! $this->pending_action_ids( $hook ) ) {
				as_schedule_single_action( time() + $delay, $hook, array(), self::GROUP );
			}
			return;
		}
		if ( ! wp_next_scheduled( $hook ) ) {
			wp_schedule_single_event( time() + $delay, $hook );
		}
	}

	/**
	 * Ids of the pending (not running) Action Scheduler actions of a hook in our group.
	 *
	 * @param string $hook Hook.
	 * @return int[]
	 */
	private function pending_action_ids( $hook ) {
		return (array) as_get_scheduled_actions(
			array(
				'hook'     => $hook,
				'group'    => self::GROUP,
				'status'   => \ActionScheduler_Store::STATUS_PENDING,
				'per_page' => 1,
				'orderby'  => 'none',
			),
			'ids'
		);
	}

	/**
	 * When delivery will next run: a waiting delivery run, else the five-minute
	 * sweep, else 0 (nothing is scheduled).
	 *
	 * @return int Unix time, or 0.
	 */
	public function next_delivery() {
		$next = 0;
		if ( self::has_action_scheduler() && function_exists( 'as_next_scheduled_action' ) ) {
			$found = as_next_scheduled_action( self::DELIVER, null, self::GROUP );
			$next  = true === $found ? time() : (int) $found;
		}
		if ( ! $next ) {
			$next = (int) wp_next_scheduled( self::DELIVER );
		}
		if ( ! $next ) {
			$next = (int) wp_next_scheduled( self::SWEEP );
		}
		return $next;
	}

	/**
	 * The every-five-minutes sweep that delivers whatever still waits. Reads the
	 * autoloaded cron option only, so it is cheap on every request.
	 *
	 * @return void
	 */
	public function ensure_recurring() {
		if ( ! wp_next_scheduled( self::SWEEP ) ) {
			wp_schedule_event( time() + 300, self::INTERVAL, self::SWEEP );
		}
	}

	/**
	 * The cron_schedules filter.
	 *
	 * @param array $schedules Schedules.
	 * @return array
	 */
	public function add_interval( $schedules ) {
		$schedules[ self::INTERVAL ] = array(
			'interval' => 300,
			'display'  => __( 'Every five minutes (Sales Companion)', 'sales-companion' ),
		);
		return $schedules;
	}

	/**
	 * Removes every scheduled run (deactivation, uninstall).
	 *
	 * @return void
	 */
	public static function clear_all() {
		delete_option( self::LEGACY_DELIVERY_DUE );
		// Nothing is scheduled any more: the first events after reactivation ask for a run.
		self::set_waiting( false );
		foreach ( array( self::DELIVER, self::SWEEP, self::SYNC ) as $hook ) {
			wp_clear_scheduled_hook( $hook );
			if ( function_exists( 'as_unschedule_all_actions' ) ) {
				as_unschedule_all_actions( $hook, array(), self::GROUP );
			}
		}
	}
}
