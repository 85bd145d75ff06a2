<?php
/**
 * Delivers the outbox to the service in signed batches, after the response.
 *
 * @package SalesCompanion
 */

namespace SalesCompanion;

if ( ! defined( 'ABSPATH' ) ) {
	exit;
}

/**
 * One delivery run: oldest events first, batches of up to 100, backoff on
 * transient errors, per-event failures kept with the service's reason.
 */
class Delivery {

	const STATE       = 'sales_companion_delivery';
	const LOCK        = 'sales_companion_delivery_lock';
	const BATCH       = 100;
	const MAX_BACKOFF = 3600;

	/**
	 * Seconds a run keeps reading the outbox after it lowered the waiting flag. A request that
	 * read the flag up (it started before the lowering) and records within this time of its own
	 * start is delivered by that read; a longer one wakes delivery itself (Scheduler::after_recording).
	 */
	const TAIL = 1.0;

	/**
	 * Outbox.
	 *
	 * @var Outbox
	 */
	private $outbox;

	/**
	 * Client.
	 *
	 * @var Client
	 */
	private $client;

	/**
	 * Settings.
	 *
	 * @var Settings
	 */
	private $settings;

	/**
	 * Constructor.
	 *
	 * @param Outbox   $outbox   Outbox.
	 * @param Client   $client   Client.
	 * @param Settings $settings Settings.
	 */
	public function __construct( Outbox $outbox, Client $client, Settings $settings ) {
		$this->outbox   = $outbox;
		$this->client   = $client;
		$this->settings = $settings;
	}

	/**
	 * Delivery status for the admin panel.
	 *
	 * @return array{failures: int, retry_at: int, last_delivery_at: int, last_error: string, last_error_at: int, batch_size: int}
	 */
	public function state() {
		$saved = get_option( self::STATE, array() );
		return array_merge(
			array(
				'failures'         => 0,
				'retry_at'         => 0,
				'last_delivery_at' => 0,
				'last_error'       => '',
				'last_error_at'    => 0,
				'batch_size'       => self::BATCH,
			),
			is_array( $saved ) ? $saved : array()
		);
	}

	/**
	 * Saves the status.
	 *
	 * @param array $state State.
	 * @return void
	 */
	private function save_state( array $state ) {
		update_option( self::STATE, $state, false );
	}

	/**
	 * The scheduled run. Sends batches until the outbox is empty, an error asks
	 * for a pause, or the time budget is spent.
	 *
	 * @param bool $force Ignore a running backoff ("Retry now").
	 * @return int Events the service accepted in this run.
	 */
	public function run( $force = false ) {
		return $this->run_when_free( 0, $force );
	}

	/**
	 * A run that waits up to $max_wait seconds for the lock another run holds (the wake: that run
	 * may have read the outbox for the last time before this request's events were written).
	 *
	 * @param float $max_wait Seconds.
	 * @param bool  $force    Ignore a running backoff.
	 * @return int Events accepted.
	 */
	public function run_when_free( $max_wait, $force = false ) {
		if ( ! $this->settings->is_connected() ) {
			return 0;
		}
		$until = microtime( true ) + $max_wait;
		while ( ! $this->lock() ) {
			if ( microtime( true ) >= $until ) {
				return 0;
			}
			usleep( 250000 );
			wp_cache_delete( self::LOCK, 'options' );
		}
		$delivered = 0;
		try {
			$delivered = $this->send_batches( (bool) $force );
		} finally {
			delete_option( self::LOCK );
		}
		return $delivered;
	}

	/**
	 * The loop of run().
	 *
	 * @param bool $force Ignore a running backoff.
	 * @return int Events accepted.
	 */
	private function send_batches( $force ) {
		$state = $this->state();
		if ( ! $force && $state['retry_at'] > time() ) {
			// Keep one run waiting for the end of the backoff, so requests need not schedule one.
			( new Scheduler() )->schedule_delivery( $state['retry_at'] - time() );
			return 0;
		}
		$started   = microtime( true );
		$delivered = 0;
		$lowered   = 0.0;
		while ( microtime( true ) - $started < 20 ) {
			$rows = $this->outbox->pending( $state['batch_size'] );
			if ( ! $rows && $lowered ) {
				$wait = $lowered + self::TAIL - microtime( true );
				if ( $wait <= 0 ) {
					return $delivered;
				}
				// Requests that read the flag up before it went down may still be writing.
				usleep( (int) ( $wait * 1000000 ) );
				continue;
			}
			if ( ! $rows ) {
				// Empty: requests may wake delivery again (Scheduler::after_recording). Events
				// written by a request that still saw the old flag are read here until TAIL
				// seconds after it went down; a request that ran longer wakes delivery itself.
				$lowered = Scheduler::is_waiting() ? microtime( true ) : microtime( true ) - self::TAIL;
				Scheduler::set_waiting( false );
				continue;
			}
			$outcome    = $this->send_batch( $rows, $state );
			$delivered += $outcome['accepted'];
			if ( ! $outcome['continue'] ) {
				return $delivered;
			}
		}
		( new Scheduler() )->schedule_delivery();
		return $delivered;
	}

	/**
	 * Sends one batch and applies the answer.
	 *
	 * @param array $rows  Outbox rows.
	 * @param array $state Delivery state (updated in place).
	 * @return array{accepted: int, continue: bool}
	 */
	private function send_batch( array $rows, array &$state ) {
		$events = array();
		foreach ( $rows as $row ) {
			$events[] = json_decode( $row->payload, true );
		}
		$result = $this->client->send_events( $events );
		$status = $result['status'];
		if ( 202 === $status || 200 === $status ) {
			return $this->accepted( $rows, (array) $result['body'], $state );
		}
		if ( 413 === $status && count( $rows ) > 1 ) {
			$state['batch_size'] = max( 1, intdiv( count( $rows ), 2 ) );
			$this->save_state( $state );
			return array(
				'accepted' => 0,
				'continue' => true,
			);
		}
		if ( 413 === $status || 422 === $status ) {
			$this->fail_rows( $rows, (array) $result['body'], $status );
			return array(
				'accepted' => 0,
				'continue' => true,
			);
		}
		$this->back_off( $rows, $result, $state );
		return array(
			'accepted' => 0,
			'continue' => false,
		);
	}

	/**
	 * A 202: delete what was taken, fail what was rejected.
	 *
	 * @param array $rows  Rows sent.
	 * @param array $body  Answer.
	 * @param array $state State.
	 * @return array{accepted: int, continue: bool}
	 */
	private function accepted( array $rows, array $body, array &$state ) {
		$rejected = $this->rejections( $rows, $body );
		$done     = array();
		foreach ( $rows as $row ) {
			if ( isset( $rejected[ $row->event_id ] ) ) {
				$this->outbox->fail( (int) $row->id, $rejected[ $row->event_id ] );
			} else {
				$done[] = (int) $row->id;
			}
		}
		$this->outbox->delete( $done );
		$state['failures']         = 0;
		$state['retry_at']         = 0;
		$state['batch_size']       = self::BATCH;
		$state['last_delivery_at'] = time();
		$this->save_state( $state );
		return array(
			'accepted' => count( $done ),
			'continue' => true,
		);
	}

	/**
	 * Reasons by event id from the answer's `rejected` list (matched by id, or
	 * by index when the id is missing).
	 *
	 * @param array $rows Rows sent.
	 * @param array $body Answer.
	 * @return array<string, string>
	 */
	private function rejections( array $rows, array $body ) {
		$out = array();
		foreach ( (array) ( $body['rejected'] ?? array() ) as $rejection ) {
			$rejection = (array) $rejection;
			$id        = isset( $rejection['id'] ) ? (string) $rejection['id'] : '';
			if ( '' === $id && isset( $rejection['index'], $rows[ (int) $rejection['index'] ] ) ) {
				$id = $rows[ (int) $rejection['index'] ]->event_id;
			}
			if ( '' !== $id ) {
				$out[ $id ] = (string) wp_json_encode( $rejection['fields'] ?? $rejection );
			}
		}
		return $out;
	}

	/**
	 * A 413 for a single event or a 422 for the batch: these events cannot
	 * succeed as they are, so they are marked failed with the reason.
	 *
	 * @param array $rows   Rows sent.
	 * @param array $body   Answer.
	 * @param int   $status HTTP status.
	 * @return void
	 */
	private function fail_rows( array $rows, array $body, $status ) {
		$rejected = $this->rejections( $rows, $body );
		/* translators: %d: HTTP status */
		$generic = isset( $body['error'] ) ? (string) $body['error'] : sprintf( __( 'Rejected by the service (HTTP %d).', 'sales-companion' ), $status );
		foreach ( $rows as $row ) {
			$this->outbox->fail( (int) $row->id, $rejected[ $row->event_id ] ?? $generic );
		}
	}

	/**
	 * Service down, timeout, 5xx, or a configuration error (401/404): events
	 * stay queued in order; the next run waits 1, 2, 4 ... 60 minutes.
	 *
	 * @param array $rows   Rows sent.
	 * @param array $result Request result.
	 * @param array $state  State.
	 * @return void
	 */
	private function back_off( array $rows, array $result, array &$state ) {
		$this->outbox->count_attempt( array_map( 'intval', wp_list_pluck( $rows, 'id' ) ) );
		$explained              = Client::explain( $result, '' );
		$state['failures']      = (int) $state['failures'] + 1;
		$delay                  = self::backoff_seconds( $state['failures'] );
		$state['retry_at']      = time() + $delay;
		$state['last_error']    = $explained['message'];
		$state['last_error_at'] = time();
		$this->save_state( $state );
		( new Scheduler() )->schedule_delivery( $delay );
	}

	/**
	 * Backoff after n consecutive failures.
	 *
	 * @param int $failures Consecutive failures (1 or more).
	 * @return int Seconds.
	 */
	public static function backoff_seconds( $failures ) {
		$exponent = min( 12, max( 0, (int) $failures - 1 ) );
		return (int) min( self::MAX_BACKOFF, 60 * ( 2 ** $exponent ) );
	}

	/**
	 * "Retry now": failed events go back in the queue and a run starts at once.
	 *
	 * @return int Events accepted.
	 */
	public function retry_now() {
		$this->outbox->requeue_failed();
		$state             = $this->state();
		$state['retry_at'] = 0;
		$this->save_state( $state );
		return $this->run( true );
	}

	/**
	 * A lock so two runs never send the same rows; a stale one expires.
	 *
	 * @return bool Whether this run holds the lock.
	 */
	private function lock() {
		if ( add_option( self::LOCK, time() + 120, '', false ) ) {
			return true;
		}
		if ( (int) get_option( self::LOCK ) < time() ) {
			delete_option( self::LOCK );
			return add_option( self::LOCK, time() + 120, '', false );
		}
		return false;
	}
}
