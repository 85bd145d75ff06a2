<?php
/**
 * Sales Companion -> Reports and the WordPress Dashboard widget: figures read from the
 * service on the server, with the API token; the token never reaches the browser.
 *
 * @package SalesCompanion
 */

namespace SalesCompanion;

if ( ! defined( 'ABSPATH' ) ) {
	exit;
}

/**
 * Reads the service's reading API (DESIGN 3.3: metrics, metrics/series, metrics/breakdown,
 * alerts), each answer cached five minutes, and hands it to Reports_View.
 */
class Reports {

	const PAGE   = 'sales-companion-reports';
	const WIDGET = 'sales_companion_widget';
	const TTL    = 300;

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
	 * Today in the shop's time zone (the service counts days in the site's time zone too).
	 *
	 * @return string Y-m-d.
	 */
	public static function today() {
		return wp_date( 'Y-m-d' );
	}

	/**
	 * A day some days before today.
	 *
	 * @param int $days Days back.
	 * @return string Y-m-d.
	 */
	public static function days_ago( $days ) {
		return wp_date( 'Y-m-d', time() - (int) $days * DAY_IN_SECONDS );
	}

	/**
	 * The period asked for (the last 30 days by default).
	 *
	 * @return array{0: string, 1: string}
	 */
	private function period() {
		$valid = static function ( $key, $fallback ) {
			$value = isset( $_GET[ $key ] ) ? sanitize_text_field( wp_unslash( $_GET[ $key ] ) ) : ''; // phpcs:ignore WordPress.Security.NonceVerification.Recommended -- read-only view.
			return preg_match( '/^\d{4}-\d{2}-\d{2}$/', $value ) ? $value : $fallback;
		};
		return array( $valid( 'from', self::days_ago( 29 ) ), $valid( 'to', self::today() ) );
	}

	/**
	 * One GET of the reading API, cached for a few minutes when it worked.
	 *
	 * @param string $path  Path and query below /v1/sites/<id>/.
	 * @return array{status: int, body: mixed, error: string}
	 */
	public function read( $path ) {
		$key    = 'sales_companion_read_' . md5( $path . '|' . $this->settings->get( 'site_id' ) );
		$cached = get_transient( $key );
		if ( is_array( $cached ) ) {
			return $cached;
		}
		$result = $this->client->api( 'GET', $path, null, 5 );
		if ( 200 === $result['status'] ) {
			set_transient( $key, $result, self::TTL );
		}
		return $result;
	}

	/**
	 * Headline metrics of a period, with the previous period.
	 *
	 * @param string $from Date.
	 * @param string $to   Date.
	 * @return array{status: int, body: mixed, error: string}
	 */
	public function metrics( $from, $to ) {
		return $this->read( 'metrics?' . http_build_query( array( 'from' => $from, 'to' => $to, 'compare' => 'previous' ) ) ); // phpcs:ignore WordPress.Arrays.ArrayDeclarationSpacing
	}

	/**
	 * Revenue per day (per week past two months, as the dashboard does).
	 *
	 * @param string $from Date.
	 * @param string $to   Date.
	 * @return array{status: int, body: mixed, error: string}
	 */
	public function revenue_series( $from, $to ) {
		$days     = (int) ( ( strtotime( $to ) - strtotime( $from ) ) / DAY_IN_SECONDS ) + 1;
		$interval = $days > 62 ? ( $days > 370 ? 'month' : 'week' ) : 'day';
		return $this->read( 'metrics/series?' . http_build_query( array( 'metric' => 'total_revenue', 'interval' => $interval, 'from' => $from, 'to' => $to ) ) ); // phpcs:ignore WordPress.Arrays.ArrayDeclarationSpacing
	}

	/**
	 * Revenue by product or by email flow, largest first.
	 *
	 * @param string $by    Dimension (product, email_flow).
	 * @param string $from  Date.
	 * @param string $to    Date.
	 * @param int    $limit Groups.
	 * @return array{status: int, body: mixed, error: string}
	 */
	public function breakdown( $by, $from, $to, $limit ) {
		return $this->read( 'metrics/breakdown?' . http_build_query( array( 'by' => $by, 'from' => $from, 'to' => $to, 'limit' => $limit ) ) ); // phpcs:ignore WordPress.Arrays.ArrayDeclarationSpacing
	}

	/**
	 * Subject A/B tests: the flows whose steps test two subjects (GET flows), and per tested
	 * step its numbers and verdict from the flow's report (all its mail sent with a variant,
	 * as the dashboard's flow page shows them).
	 *
	 * @return array{status: int, body: mixed, error: string}
	 */
	public function ab_tests() {
		$flows = $this->read( 'flows' );
		if ( 200 !== $flows['status'] || ! is_array( $flows['body'] ) ) {
			return $flows;
		}
		$tests = array();
		foreach ( (array) ( $flows['body']['flows'] ?? array() ) as $flow ) {
			$tested = array();
			foreach ( (array) ( $flow['steps'] ?? array() ) as $step ) {
				if ( '' !== (string) ( $step['subject_b'] ?? '' ) ) {
					$tested[ (int) $step['step'] ] = $step;
				}
			}
			if ( ! $tested ) {
				continue;
			}
			$report = $this->read( 'flows/' . rawurlencode( (string) $flow['key'] ) . '/report' );
			foreach ( (array) ( $report['body']['steps'] ?? array() ) as $figures ) {
				$number = (int) ( $figures['step'] ?? 0 );
				if ( isset( $tested[ $number ] ) ) {
					$tests[] = array(
						'flow'      => (string) $flow['key'],
						'step'      => $number,
						'subject_b' => (string) $tested[ $number ]['subject_b'],
						'ab_test'   => is_array( $figures['ab_test'] ?? null ) ? $figures['ab_test'] : null,
					);
				}
			}
		}
		return array(
			'status' => 200,
			'body'   => array( 'tests' => $tests ),
			'error'  => '',
		);
	}

	/**
	 * Open alerts.
	 *
	 * @return array{status: int, body: mixed, error: string}
	 */
	public function alerts() {
		return $this->read( 'alerts' );
	}

	/**
	 * The Reports page.
	 *
	 * @return void
	 */
	public function render() {
		if ( ! current_user_can( 'manage_options' ) ) {
			return;
		}
		$view = new Reports_View( $this->settings );
		if ( ! $this->settings->is_connected() ) {
			$view->not_connected( __( 'Sales Companion reports', 'sales-companion' ) );
			return;
		}
		list( $from, $to ) = $this->period();
		$view->page(
			$from,
			$to,
			array(
				'metrics'  => $this->metrics( $from, $to ),
				'series'   => $this->revenue_series( $from, $to ),
				'alerts'   => $this->alerts(),
				'products' => $this->breakdown( 'product', $from, $to, 5 ),
				'flows'    => $this->breakdown( 'email_flow', $from, $to, 10 ),
				'ab_tests' => $this->ab_tests(),
			)
		);
	}

	/**
	 * Hook wp_dashboard_setup: the widget, for those who may see the reports.
	 *
	 * @return void
	 */
	public function add_dashboard_widget() {
		if ( current_user_can( 'manage_options' ) ) {
			// 'high': first in its column, where the owner looks first.
			wp_add_dashboard_widget( self::WIDGET, __( 'Sales Companion', 'sales-companion' ), array( $this, 'render_widget' ), null, null, 'normal', 'high' );
		}
	}

	/**
	 * The Dashboard widget: today, the last 7 days, open alerts.
	 *
	 * @return void
	 */
	public function render_widget() {
		$view = new Reports_View( $this->settings );
		if ( ! $this->settings->is_connected() ) {
			$view->not_connected( '' );
			return;
		}
		$today = self::today();
		$view->widget(
			array(
				'today'  => $this->metrics( $today, $today ),
				'week'   => $this->metrics( self::days_ago( 6 ), $today ),
				'alerts' => $this->alerts(),
			)
		);
	}
}
