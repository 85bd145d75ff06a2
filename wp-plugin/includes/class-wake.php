<?php
/**
 * Wakes delivery from a shopper's request without a database query on that request.
 *
 * @package SalesCompanion
 */

namespace SalesCompanion;

if ( ! defined( 'ABSPATH' ) ) {
	exit;
}

/**
 * A signed loopback request to admin-ajax.php, sent and left at the end of the request that made
 * the outbox non-empty (what spawn_cron() does for WP-Cron). The wake request raises the
 * "waiting" flag, schedules the backstop run and delivers at once, all in its own request.
 */
class Wake {

	const ACTION  = 'sales_companion_wake';
	const CONTEXT = 'sales-companion-wake';
	const MAX_AGE = 300;

	/**
	 * Seconds the wake waits for a run holding the lock (a run stops sending after 20 s).
	 */
	const LOCK_WAIT = 25;

	/**
	 * Settings.
	 *
	 * @var Settings
	 */
	private $settings;

	/**
	 * Constructor.
	 *
	 * @param Settings $settings Settings.
	 */
	public function __construct( Settings $settings ) {
		$this->settings = $settings;
	}

	/**
	 * Sends the wake (Plugin::flush() runs once per request). No query: the signing key is in the autoloaded settings,
	 * the URL in the autoloaded siteurl. The request is written to the socket and the socket
	 * closed without waiting for an answer, so the shopper waits for no WordPress boot.
	 *
	 * @param int $now Unix time.
	 * @return bool Whether the request was handed to the network (or to the filter).
	 */
	public function send( $now ) {
		$key = $this->key();
		if ( '' === $key ) {
			return false;
		}
		$stamp = (string) (int) $now;
		$url   = add_query_arg( 'action', self::ACTION, admin_url( 'admin-ajax.php' ) );
		$body  = http_build_query(
			array(
				't' => $stamp,
				's' => hash_hmac( 'sha256', $stamp, $key ),
			)
		);
		/**
		 * Short-circuits the wake: return true (sent) or false (not sent) to send it another way
		 * (a host whose loopback needs other headers, or the tests). Null sends it.
		 *
		 * @param bool|null $pre  Null.
		 * @param string    $url  admin-ajax.php URL with ?action=sales_companion_wake.
		 * @param string    $body Form-encoded body (t, s).
		 */
		$pre = apply_filters( 'sales_companion_pre_wake', null, $url, $body );
		if ( null !== $pre ) {
			return (bool) $pre;
		}
		return self::post_and_leave( $url, $body );
	}

	/**
	 * Writes a POST to the socket and closes it. The web server runs the request as any other;
	 * the handler ignores the closed connection (ignore_user_abort), as wp-cron.php does.
	 *
	 * @param string $url  URL.
	 * @param string $body Form-encoded body.
	 * @return bool Whether the request was written.
	 */
	private static function post_and_leave( $url, $body ) {
		$parts = wp_parse_url( $url );
		if ( empty( $parts['host'] ) ) {
			return false;
		}
		$https = isset( $parts['scheme'] ) && 'https' === $parts['scheme'];
		$port  = isset( $parts['port'] ) ? (int) $parts['port'] : ( $https ? 443 : 80 );
		/** This filter is documented in wp-includes/class-wp-http-streams.php (loopback: no verification by default, as spawn_cron). */
		$verify  = (bool) apply_filters( 'https_local_ssl_verify', false );
		$context = stream_context_create(
			array(
				'ssl' => array(
					'verify_peer'      => $verify,
					'verify_peer_name' => $verify,
				),
			)
		);
		$errno  = 0;
		$errstr = '';
		// phpcs:ignore WordPress.PHP.NoSilencedErrors.Discouraged -- a dead loopback is answered by returning false.
		$socket = @stream_socket_client( ( $https ? 'ssl://' : 'tcp://' ) . $parts['host'] . ':' . $port, $errno, $errstr, 0.5, STREAM_CLIENT_CONNECT, $context );
		if ( ! $socket ) {
			return false;
		}
		$host    = $parts['host'] . ( isset( $parts['port'] ) ? ':' . $port : '' );
		$path    = ( isset( $parts['path'] ) ? $parts['path'] : '/' ) . ( isset( $parts['query'] ) ? '?' . $parts['query'] : '' );
		$request = "POST {$path} HTTP/1.1\r\nHost: {$host}\r\nUser-Agent: WordPress; Sales Companion wake\r\n"
			. "Content-Type: application/x-www-form-urlencoded\r\nContent-Length: " . strlen( $body ) . "\r\nConnection: close\r\n\r\n" . $body;
		// phpcs:ignore WordPress.WP.AlternativeFunctions.file_system_operations_fwrite -- a socket, not a file.
		$written = fwrite( $socket, $request );
		// phpcs:ignore WordPress.WP.AlternativeFunctions.file_system_operations_fclose -- a socket, not a file.
		fclose( $socket );
		return strlen( $request ) === $written;
	}

	/**
	 * Whether a wake's time and signature are this site's, sent within MAX_AGE.
	 *
	 * @param string $stamp     Unix time sent.
	 * @param string $signature Hex HMAC sent.
	 * @param int    $now       Unix time.
	 * @return bool
	 */
	public function verify( $stamp, $signature, $now ) {
		$key = $this->key();
		if ( '' === $key || ! ctype_digit( (string) $stamp ) || abs( (int) $now - (int) $stamp ) > self::MAX_AGE ) {
			return false;
		}
		return hash_equals( hash_hmac( 'sha256', (string) $stamp, $key ), (string) $signature );
	}

	/**
	 * The admin-ajax handler (wp_ajax_ and wp_ajax_nopriv_sales_companion_wake).
	 *
	 * @return void
	 */
	public function handle() {
		// phpcs:disable WordPress.Security.NonceVerification.Missing -- signed with the site's key instead (no session).
		$stamp     = isset( $_POST['t'] ) ? sanitize_text_field( wp_unslash( $_POST['t'] ) ) : '';
		$signature = isset( $_POST['s'] ) ? sanitize_text_field( wp_unslash( $_POST['s'] ) ) : '';
		// phpcs:enable
		if ( ! $this->verify( $stamp, $signature, time() ) ) {
			wp_die( '', '', array( 'response' => 403 ) );
		}
		// The sender left without reading an answer; finish what was started.
		ignore_user_abort( true );
		if ( function_exists( 'fastcgi_finish_request' ) ) {
			fastcgi_finish_request();
		}
		$this->run();
		wp_die( '', '', array( 'response' => 200 ) );
	}

	/**
	 * The wake's work, in its own request: unless a run is already asked for (the flag is up),
	 * raise the flag and schedule a run COALESCE seconds ahead (the backstop, should this request
	 * die), then deliver now, waiting for a run that holds the lock (it may have read the outbox
	 * for the last time before these events were written) for at most LOCK_WAIT seconds.
	 *
	 * @param float $lock_wait Seconds to wait for the lock.
	 * @return int Events the service accepted, or -1 when a run was already asked for.
	 */
	public function run( $lock_wait = self::LOCK_WAIT ) {
		if ( Scheduler::is_waiting() ) {
			return -1;
		}
		$plugin = Plugin::instance();
		$plugin->get( 'scheduler' )->schedule_delivery( Scheduler::COALESCE );
		return $plugin->get( 'delivery' )->run_when_free( $lock_wait );
	}

	/**
	 * The wake's key: the site's signing key bound to this one use.
	 *
	 * @return string Raw bytes, '' when not connected.
	 */
	private function key() {
		$key = $this->settings->signing_key();
		return '' === $key ? '' : hash_hmac( 'sha256', self::CONTEXT, $key, true );
	}
}
