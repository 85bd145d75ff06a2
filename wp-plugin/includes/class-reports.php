<?php
/**
 * Sales Companion -> Reports: headline metrics fetched server-side.
 *
 * @package SalesCompanion
 */

namespace SalesCompanion;

if ( ! defined( 'ABSPATH' ) ) {
	exit;
}

/**
 * Reads GET /v1/sites/<id>/metrics with the API token on the server; the token
 * never reaches the browser.
 */
class Reports {

	const PAGE  = 'sales-companion-reports';
	const CARDS = array( 'total_revenue', 'net_revenue', 'orders', 'aov', 'refunds', 'conversion_rate', 'cart_abandonment_rate', 'email_revenue' );

	/**
	 * Settings.
	 *
	 * @var Settings
	 */
	private $settings;

	/**
	 * Client.
	 *
	 * @var Client
	 */
	private $client;

	/**
	 * Constructor.
	 *
	 * @param Settings $settings Settings.
	 * @param Client   $client   Client.
	 */
	public function __construct( Settings $settings, Client $client ) {
		$this->settings = $settings;
		$this->client   = $client;
	}

	/**
	 * The period asked for (last 30 days by default).
	 *
	 * @return array{0: string, 1: string}
	 */
	private function period() {
		$valid = static function ( $key, $fallback ) {
			$value = isset( $_GET[ $key ] ) ? sanitize_text_field( wp_unslash( $_GET[ $key ] ) ) : ''; // phpcs:ignore WordPress.Security.NonceVerification.Recommended -- read-only view.
			return preg_match( '/^\d{4}-\d{2}-\d{2}$/', $value ) ? $value : $fallback;
		};
		return array( $valid( 'from', gmdate( 'Y-m-d', time() - 29 * DAY_IN_SECONDS ) ), $valid( 'to', gmdate( 'Y-m-d' ) ) );
	}

	/**
	 * Metrics for a period, cached five minutes.
	 *
	 * @param string $from Date.
	 * @param string $to   Date.
	 * @return array{status: int, body: mixed, error: string}
	 */
	public function metrics( $from, $to ) {
		$key    = 'sales_companion_metrics_' . md5( $from . $to . $this->settings->get( 'site_id' ) );
		$cached = get_transient( $key );
		if ( is_array( $cached ) ) {
			return $cached;
		}
		$result = $this->client->api(
			'GET',
			'metrics?' . http_build_query(
				array(
					'from'    => $from,
					'to'      => $to,
					'compare' => 'previous',
				)
			)
		);
		if ( 200 === $result['status'] ) {
			set_transient( $key, $result, 300 );
		}
		return $result;
	}

	/**
	 * The page.
	 *
	 * @return void
	 */
	public function render() {
		if ( ! current_user_can( 'manage_options' ) ) {
			return;
		}
		list( $from, $to ) = $this->period();
		echo '<div class="wrap"><h1>' . esc_html__( 'Sales Companion reports', 'sales-companion' ) . '</h1>';
		printf(
			'<form method="get"><input type="hidden" name="page" value="%1$s"><label>%2$s <input type="date" name="from" value="%3$s"></label> <label>%4$s <input type="date" name="to" value="%5$s"></label> <button class="button">%6$s</button></form>',
			esc_attr( self::PAGE ),
			esc_html__( 'From', 'sales-companion' ),
			esc_attr( $from ),
			esc_html__( 'to', 'sales-companion' ),
			esc_attr( $to ),
			esc_html__( 'Show', 'sales-companion' )
		);
		$this->cards( $this->metrics( $from, $to ) );
		printf(
			'<form method="post" action="%1$s" target="_blank"><input type="hidden" name="action" value="sales_companion_dashboard">%2$s<p><button class="button button-primary">%3$s</button> %4$s</p></form>',
			esc_url( admin_url( 'admin-post.php' ) ),
			wp_nonce_field( 'sales_companion_dashboard', '_wpnonce', true, false ),
			esc_html__( 'Open the full dashboard', 'sales-companion' ),
			esc_html__( '(signs you in with a link that works for 15 minutes)', 'sales-companion' )
		);
		echo '</div>';
	}

	/**
	 * Headline cards, or a message that says what is wrong.
	 *
	 * @param array $result Metrics answer.
	 * @return void
	 */
	private function cards( array $result ) {
		if ( 404 === $result['status'] ) {
			echo '<div class="notice notice-warning"><p>' . esc_html__( 'The service does not offer reports for this site yet (it answered 404). Check the site id, or update the service.', 'sales-companion' ) . '</p></div>';
			return;
		}
		if ( 200 !== $result['status'] || ! is_array( $result['body'] ) ) {
			$explained = Client::explain( $result, '' );
			echo '<div class="notice notice-error"><p>' . esc_html( $explained['message'] ) . '</p></div>';
			return;
		}
		$metrics = isset( $result['body']['metrics'] ) ? $result['body']['metrics'] : $result['body'];
		echo '<div style="display:flex;flex-wrap:wrap;gap:12px;margin-top:16px">';
		foreach ( self::CARDS as $key ) {
			if ( array_key_exists( $key, (array) $metrics ) ) {
				$this->card( $key, $metrics[ $key ] );
			}
		}
		echo '</div>';
	}

	/**
	 * One card: value and the previous period.
	 *
	 * @param string $key    Metric.
	 * @param mixed  $metric Value or {value, previous, change}.
	 * @return void
	 */
	private function card( $key, $metric ) {
		$value    = is_array( $metric ) ? ( $metric['value'] ?? null ) : $metric;
		$previous = is_array( $metric ) ? ( $metric['previous'] ?? null ) : null;
		printf(
			'<div class="card" style="min-width:180px;margin:0"><h3>%1$s</h3><p style="font-size:22px;margin:0">%2$s</p><p class="description">%3$s %4$s</p></div>',
			esc_html( ucwords( str_replace( '_', ' ', $key ) ) ),
			esc_html( null === $value ? '—' : ( is_scalar( $value ) ? (string) $value : wp_json_encode( $value ) ) ),
			esc_html__( 'previous period:', 'sales-companion' ),
			esc_html( null === $previous ? '—' : ( is_scalar( $previous ) ? (string) $previous : wp_json_encode( $previous ) ) )
		);
	}
}
