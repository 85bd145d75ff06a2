<?php
/**
 * The outbox table: events wait here until the service has them.
 *
 * @package SalesCompanion
 */

namespace SalesCompanion;

if ( ! defined( 'ABSPATH' ) ) {
	exit;
}

/**
 * Rows are `pending` until delivered (then deleted) or `failed` (the service
 * rejected that one event; the reason is kept for the admin).
 */
class Outbox {

	const DB_VERSION = '3';

	/**
	 * Bytes of one INSERT statement before the rest goes into another.
	 */
	const MAX_STATEMENT = 4194304;

	/**
	 * Table name.
	 *
	 * @return string
	 */
	public static function table() {
		global $wpdb;
		return $wpdb->prefix . 'sales_companion_outbox';
	}

	/**
	 * Creates or upgrades the table (activation, and lazily when missing).
	 *
	 * @return void
	 */
	public static function install() {
		global $wpdb;
		require_once ABSPATH . 'wp-admin/includes/upgrade.php';
		$table   = self::table();
		$charset = $wpdb->get_charset_collate();
		dbDelta(
			"CREATE TABLE {$table} (
			id bigint(20) unsigned NOT NULL AUTO_INCREMENT,
			event_id char(36) NOT NULL,
			event_type varchar(40) NOT NULL,
			payload longtext NOT NULL,
			status varchar(10) NOT NULL DEFAULT 'pending',
			attempts int(10) unsigned NOT NULL DEFAULT 0,
			last_error text NULL,
			created_at bigint(20) unsigned NOT NULL,
			PRIMARY KEY  (id),
			UNIQUE KEY event_id (event_id),
			KEY status_id (status, id)
			) {$charset};"
		);
		// Autoloaded, and never missing (a missing option is a query on every read): read on every
		// recording request. Version 2 added Scheduler::WAITING, '1' when events wait already
		// (the first delivery run, or the five-minute sweep, brings it back to '0').
		$waiting = $wpdb->get_var( "SELECT id FROM {$table} WHERE status = 'pending' LIMIT 1" ); // phpcs:ignore WordPress.DB
		Scheduler::set_waiting( null !== $waiting );
		// Version 3: Scheduler::WAKE_OFF, '0' until the sweep finds wakes lost.
		add_option( Scheduler::WAKE_OFF, '0', '', true );
		delete_option( Scheduler::LEGACY_DELIVERY_DUE );
		update_option( 'sales_companion_db_version', self::DB_VERSION, true );
	}

	/**
	 * When the oldest pending event was recorded (Unix time), 0 when none waits.
	 *
	 * @return int
	 */
	public function oldest_pending() {
		global $wpdb;
		$table = self::table();
		return (int) $wpdb->get_var( "SELECT MIN(created_at) FROM {$table} WHERE status = 'pending'" ); // phpcs:ignore WordPress.DB
	}

	/**
	 * Events recorded in this request, not yet written.
	 *
	 * @var array<int, array>
	 */
	private static $buffer = array();

	/**
	 * Queues one event. It is written with everything else the request records in one INSERT
	 * (write_buffered(), which Plugin::flush calls at shutdown), or before the outbox is read
	 * in the same request, so readers always see it.
	 *
	 * @param array $event Event in the wire format.
	 * @return void
	 */
	public static function add( array $event ) {
		self::$buffer[] = $event;
	}

	/**
	 * Whether events wait to be written.
	 *
	 * @return bool
	 */
	public static function has_buffered() {
		return (bool) self::$buffer;
	}

	/**
	 * Writes the queued events.
	 *
	 * @return int Events written.
	 */
	public static function write_buffered() {
		$events       = self::$buffer;
		self::$buffer = array();
		self::add_all( $events );
		return count( $events );
	}

	/**
	 * Writes events to the outbox: one multi-row INSERT for everything a request recorded
	 * (split only past MAX_STATEMENT bytes, far below MariaDB's max_allowed_packet).
	 *
	 * @param array<int, array> $events Events in the wire format.
	 * @return void
	 */
	public static function add_all( array $events ) {
		global $wpdb;
		if ( ! $events ) {
			return;
		}
		if ( get_option( 'sales_companion_db_version' ) !== self::DB_VERSION ) {
			self::install();
		}
		$rows = array();
		$size = 0;
		foreach ( $events as $event ) {
			// A prepared row rather than $wpdb->insert(): that one asks MariaDB for the table's
			// column charsets first (SHOW FULL COLUMNS), a second round trip on every shopper
			// request that records. The JSON is ASCII (wp_json_encode escapes Unicode).
			$row = $wpdb->prepare( "(%s, %s, %s, 'pending', %d)", $event['id'], $event['type'], wp_json_encode( $event ), time() );
			if ( $rows && $size + strlen( $row ) > self::MAX_STATEMENT ) {
				self::insert_rows( $rows );
				$rows = array();
				$size = 0;
			}
			$rows[] = $row;
			$size  += strlen( $row );
		}
		self::insert_rows( $rows );
	}

	/**
	 * One INSERT of prepared value lists, in the order given (ids keep the recording order).
	 *
	 * @param string[] $rows Prepared "(...)" value lists.
	 * @return void
	 */
	private static function insert_rows( array $rows ) {
		global $wpdb;
		$table = self::table();
		$wpdb->query( "INSERT INTO {$table} (event_id, event_type, payload, status, created_at) VALUES " . implode( ', ', $rows ) ); // phpcs:ignore WordPress.DB -- every value list was prepared above.
	}

	/**
	 * The oldest pending rows, in the order they were recorded.
	 *
	 * @param int $limit Rows.
	 * @return array<int, object{id: string, event_id: string, payload: string, attempts: string}>
	 */
	public function pending( $limit ) {
		self::write_buffered();
		global $wpdb;
		$table = self::table();
		return (array) $wpdb->get_results( // phpcs:ignore WordPress.DB.DirectDatabaseQuery
			$wpdb->prepare( "SELECT id, event_id, payload, attempts FROM {$table} WHERE status = 'pending' ORDER BY id ASC LIMIT %d", $limit ) // phpcs:ignore WordPress.DB.PreparedSQL.InterpolatedNotPrepared
		);
	}

	/**
	 * Removes delivered rows.
	 *
	 * @param int[] $ids Row ids.
	 * @return void
	 */
	public function delete( array $ids ) {
		self::write_buffered();
		global $wpdb;
		if ( ! $ids ) {
			return;
		}
		$table = self::table();
		$in    = implode( ',', array_map( 'intval', $ids ) );
		$wpdb->query( "DELETE FROM {$table} WHERE id IN ({$in})" ); // phpcs:ignore WordPress.DB
	}

	/**
	 * Marks one row failed with the service's reason; it is not retried.
	 *
	 * @param int    $id     Row id.
	 * @param string $reason Why.
	 * @return void
	 */
	public function fail( $id, $reason ) {
		self::write_buffered();
		global $wpdb;
		$wpdb->update( // phpcs:ignore WordPress.DB.DirectDatabaseQuery -- the plugin's own table, never cached.
			self::table(),
			array(
				'status'     => 'failed',
				'last_error' => $reason,
			),
			array( 'id' => (int) $id ),
			array( '%s', '%s' ),
			array( '%d' )
		); // phpcs:ignore WordPress.DB.DirectDatabaseQuery
	}

	/**
	 * Counts one more attempt on rows that stay pending.
	 *
	 * @param int[] $ids Row ids.
	 * @return void
	 */
	public function count_attempt( array $ids ) {
		self::write_buffered();
		global $wpdb;
		if ( ! $ids ) {
			return;
		}
		$table = self::table();
		$in    = implode( ',', array_map( 'intval', $ids ) );
		$wpdb->query( "UPDATE {$table} SET attempts = attempts + 1 WHERE id IN ({$in})" ); // phpcs:ignore WordPress.DB
	}

	/**
	 * Rows per status.
	 *
	 * @return array{pending: int, failed: int}
	 */
	public function counts() {
		self::write_buffered();
		global $wpdb;
		$table = self::table();
		$rows  = (array) $wpdb->get_results( "SELECT status, COUNT(*) AS n FROM {$table} GROUP BY status" ); // phpcs:ignore WordPress.DB
		$out   = array(
			'pending' => 0,
			'failed'  => 0,
		);
		foreach ( $rows as $row ) {
			$out[ $row->status ] = (int) $row->n;
		}
		return $out;
	}

	/**
	 * The latest failed rows, for the status panel.
	 *
	 * @param int $limit Rows.
	 * @return array<int, object>
	 */
	public function failures( $limit = 10 ) {
		self::write_buffered();
		global $wpdb;
		$table = self::table();
		return (array) $wpdb->get_results( // phpcs:ignore WordPress.DB.DirectDatabaseQuery
			$wpdb->prepare( "SELECT id, event_id, event_type, last_error, created_at FROM {$table} WHERE status = 'failed' ORDER BY id DESC LIMIT %d", $limit ) // phpcs:ignore WordPress.DB.PreparedSQL.InterpolatedNotPrepared
		);
	}

	/**
	 * Puts failed rows back in the queue ("Retry now").
	 *
	 * @return int Rows requeued.
	 */
	public function requeue_failed() {
		self::write_buffered();
		global $wpdb;
		$table = self::table();
		return (int) $wpdb->query( "UPDATE {$table} SET status = 'pending', last_error = NULL WHERE status = 'failed'" ); // phpcs:ignore WordPress.DB
	}

	/**
	 * Drops queued rows that mention an email (privacy eraser).
	 *
	 * @param string $email Address.
	 * @return int Rows removed.
	 */
	public function forget_email( $email ) {
		self::write_buffered();
		global $wpdb;
		$table = self::table();
		$like  = '%' . $wpdb->esc_like( '"email":' . wp_json_encode( strtolower( $email ) ) ) . '%';
		return (int) $wpdb->query( $wpdb->prepare( "DELETE FROM {$table} WHERE payload LIKE %s", $like ) ); // phpcs:ignore WordPress.DB
	}

	/**
	 * Empties the table (tests, uninstall uses DROP).
	 *
	 * @return void
	 */
	public function truncate() {
		self::$buffer = array();
		global $wpdb;
		$table = self::table();
		$wpdb->query( "TRUNCATE TABLE {$table}" ); // phpcs:ignore WordPress.DB
	}
}
