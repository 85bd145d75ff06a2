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

	const DB_VERSION = '1';

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
		update_option( 'sales_companion_db_version', self::DB_VERSION, true ); // Autoloaded: read on every recording request.
	}

	/**
	 * Appends one event.
	 *
	 * @param array $event Event in the wire format.
	 * @return void
	 */
	public static function add( array $event ) {
		global $wpdb;
		if ( get_option( 'sales_companion_db_version' ) !== self::DB_VERSION ) {
			self::install();
		}
		$table = self::table();
		// A prepared INSERT rather than $wpdb->insert(): that one asks MariaDB for the
		// table's column charsets first (SHOW FULL COLUMNS), a second round trip on every
		// shopper request that records. The JSON is ASCII (wp_json_encode escapes Unicode).
		$wpdb->query( // phpcs:ignore WordPress.DB.DirectDatabaseQuery
			$wpdb->prepare(
				"INSERT INTO {$table} (event_id, event_type, payload, status, created_at) VALUES (%s, %s, %s, 'pending', %d)", // phpcs:ignore WordPress.DB.PreparedSQL.InterpolatedNotPrepared
				$event['id'],
				$event['type'],
				wp_json_encode( $event ),
				time()
			)
		);
	}

	/**
	 * The oldest pending rows, in the order they were recorded.
	 *
	 * @param int $limit Rows.
	 * @return array<int, object{id: string, event_id: string, payload: string, attempts: string}>
	 */
	public function pending( $limit ) {
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
		global $wpdb;
		$table = self::table();
		$wpdb->query( "TRUNCATE TABLE {$table}" ); // phpcs:ignore WordPress.DB
	}
}
