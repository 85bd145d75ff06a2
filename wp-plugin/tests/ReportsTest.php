<?php
/**
 * Sales Companion -> Reports and the Dashboard widget read the service on the server.
 *
 * @package SalesCompanion\Tests
 */

namespace SalesCompanion\Tests;

use SalesCompanion\Reports;
use SalesCompanion\Reports_View;
use SalesCompanion\Settings;

final class ReportsTest extends TestCase {

	protected function setUp(): void {
		parent::setUp();
		global $wpdb;
		$wpdb->query( "DELETE FROM {$wpdb->options} WHERE option_name LIKE '\\_transient\\_%sales\\_companion\\_read\\_%'" ); // phpcs:ignore WordPress.DB
		wp_set_current_user( get_user_by( 'login', 'admin' )->ID );
	}

	private function render() {
		$_GET['from'] = '2026-11-01';
		$_GET['to']   = '2026-11-30';
		ob_start();
		Plugin()->get( 'reports' )->render();
		unset( $_GET['from'], $_GET['to'] );
		return ob_get_clean();
	}

	/** One metric as companion/metrics/headline.py answers it with compare=previous. */
	private static function metric( $value, $unit, $previous, $reason = null, $change = null ) {
		return array( 'value' => $value, 'unit' => $unit, 'reason' => $reason, 'previous' => $previous, 'previous_reason' => null, 'change_percent' => $change );
	}

	private static function metrics_answer() {
		return array(
			'currency' => 'EUR',
			'period'   => array( 'from' => '2026-11-01', 'to' => '2026-11-30' ),
			'previous' => array( 'from' => '2026-10-02', 'to' => '2026-10-31' ),
			'metrics'  => array(
				'total_revenue'   => self::metric( '1250.00', 'money', '900.00', null, 38.9 ),
				'orders'          => self::metric( 42, 'count', 30 ),
				'aov'             => self::metric( '29.76', 'money', '30.00' ),
				'conversion_rate' => self::metric( null, 'ratio', null, 'No page views received since the store was connected on 2026-11-01.' ),
				'cart_abandonment_rate' => self::metric( 0.25, 'ratio', 0.5 ),
			),
		);
	}

	/** The service, by route (companion/api/metrics.py, intelligence.py). */
	private static function service( array $overrides = array() ) {
		$answers = array_merge(
			array(
				'metrics?'           => array( 200, self::metrics_answer() ),
				'metrics/series?'    => array( 200, array( 'metric' => 'total_revenue', 'unit' => 'money', 'interval' => 'day', 'currency' => 'EUR', 'points' => array(
					array( 'from' => '2026-11-01', 'to' => '2026-11-01', 'value' => '100.00', 'reason' => null ),
					array( 'from' => '2026-11-02', 'to' => '2026-11-02', 'value' => '0.00', 'reason' => null ),
					array( 'from' => '2026-11-03', 'to' => '2026-11-03', 'value' => '250.50', 'reason' => null ),
				) ) ),
				'alerts'             => array( 200, array( 'alerts' => array( array( 'id' => 1, 'kind' => 'revenue_drop', 'title' => 'Revenue is down 60 %', 'detail' => 'Yesterday 40.00 against a usual 100.00.', 'started_on' => '2026-11-29' ) ) ) ),
				'by=product'         => array( 200, array( 'by' => 'product', 'currency' => 'EUR', 'groups' => array( array( 'key' => '10', 'label' => 'Blue Mug', 'orders' => 12, 'revenue' => '150.00' ) ), 'total_groups' => 1 ) ),
				'by=email_flow'      => array( 200, array( 'by' => 'email_flow', 'currency' => 'EUR', 'groups' => array( array( 'key' => 'abandoned_cart', 'label' => 'abandoned_cart', 'orders' => 3, 'revenue' => '75.00' ) ), 'total_groups' => 1 ) ),
			),
			$overrides
		);
		FakeService::$answers = array(
			static function ( $request ) use ( $answers ) {
				$path  = substr( $request['url'], strlen( 'http://companion.test/v1/sites/site_1/' ) );
				$found = array( 404, array( 'error' => 'Not found' ) );
				foreach ( $answers as $prefix => $answer ) {
					if ( 0 === strpos( $path, $prefix ) || ( false !== strpos( $prefix, '=' ) && false !== strpos( $path, $prefix ) ) ) {
						$found = $answer;
					}
				}
				return $found;
			},
		);
	}

	public function test_headline_cards_come_from_the_service_and_the_token_stays_on_the_server(): void {
		self::service();
		$html = $this->render();
		$urls = array_column( FakeService::$requests, 'url' );
		$this->assertContains( 'http://companion.test/v1/sites/site_1/metrics?from=2026-11-01&to=2026-11-30&compare=previous', $urls );
		$this->assertStringContainsString( 'Total revenue', $html );
		$this->assertStringNotContainsString( 'token_1', $html );
		$this->assertStringContainsString( 'Open the full dashboard', $html );
	}

	public function test_money_has_its_currency_and_ratios_are_percentages(): void {
		self::service();
		$html = $this->render();
		$this->assertStringContainsString( esc_html( Reports_View::money( '1250.00', 'EUR' ) ), $html );
		$this->assertMatchesRegularExpression( '/(1,250\.00 EUR|€1,250\.00)/u', Reports_View::money( '1250.00', 'EUR' ) );
		$this->assertStringContainsString( 'Previous period: ' . esc_html( Reports_View::money( '900.00', 'EUR' ) ) . ' (+38.9 %)', $html );
		$this->assertStringContainsString( '25.0 %', $html );
		$this->assertStringContainsString( 'Average order value', $html );
		$this->assertStringNotContainsString( 'Aov', $html );
	}

	public function test_a_dash_comes_with_the_services_reason(): void {
		self::service();
		$html = $this->render();
		$this->assertMatchesRegularExpression( '/<h3[^>]*>Conversion rate<\/h3><p[^>]*>—<\/p><p class="description"[^>]*>No page views received since the store was connected on 2026-11-01\.<\/p>/u', $html );
	}

	public function test_the_revenue_of_the_period_is_drawn_bar_by_bar(): void {
		self::service();
		$html = $this->render();
		$this->assertContains( 'http://companion.test/v1/sites/site_1/metrics/series?metric=total_revenue&interval=day&from=2026-11-01&to=2026-11-30', array_column( FakeService::$requests, 'url' ) );
		$this->assertStringContainsString( '<svg class="sc-revenue-chart"', $html );
		$this->assertSame( 3, substr_count( $html, '<rect ' ) );
		$this->assertStringContainsString( '<title>2026-11-03: ' . esc_html( Reports_View::money( '250.50', 'EUR' ) ) . '</title>', $html );
	}

	public function test_alerts_top_products_and_flow_revenue_each_link_into_the_dashboard(): void {
		self::service();
		$html = $this->render();
		$this->assertStringContainsString( 'Revenue is down 60 %', $html );
		$this->assertStringContainsString( 'Blue Mug', $html );
		$this->assertStringContainsString( '<td>Abandoned cart</td>', $html );
		foreach ( array( 'overview', 'products', 'flows' ) as $view ) {
			$this->assertMatchesRegularExpression( '#href="[^"]*admin-post\.php\?action=sales_companion_dashboard(&|&amp;|&\#038;)view=' . $view . '[^"]*_wpnonce=#', $html, $view );
		}
	}

	public function test_subject_ab_tests_show_each_subjects_numbers_and_the_verdict(): void {
		// companion/api/schemas/flows.py: FlowOutSchema steps[].subject_b; ReportSchema steps[].ab_test.
		$step  = static function ( $n, $subject_b ) {
			return array( 'step' => $n, 'subject_b' => $subject_b );
		};
		$flows = array( 'flows' => array( array( 'key' => 'abandoned_cart', 'steps' => array( $step( 1, null ), $step( 2, null ), $step( 3, null ) ) ), array( 'key' => 'win_back', 'steps' => array( $step( 1, 'It has been a while' ), $step( 2, null ) ) ) ) );
		$ab    = array(
			'variants'   => array(
				array( 'variant' => 'A', 'sent' => 412, 'clicked' => 21, 'click_rate' => 0.051, 'orders' => 6, 'revenue' => '310.00', 'revenue_per_recipient' => '0.75' ),
				array( 'variant' => 'B', 'sent' => 398, 'clicked' => 37, 'click_rate' => 0.093, 'orders' => 7, 'revenue' => '288.50', 'revenue_per_recipient' => '0.72' ),
			),
			'leader'     => 'B',
			'winner'     => 'B',
			'decided_by' => 'click rate',
			'z'          => 2.32,
			'reason'     => 'Click rates differ at 95 % confidence (z = 2.32).',
		);
		self::service(
			array(
				'flows'                 => array( 200, $flows ),
				'flows/win_back/report' => array( 200, array( 'steps' => array( array( 'step' => 1, 'ab_test' => $ab ), array( 'step' => 2, 'ab_test' => null ) ) ) ),
			)
		);
		$html = $this->render();
		$urls = array_column( FakeService::$requests, 'url' );
		$this->assertContains( 'http://companion.test/v1/sites/site_1/flows/win_back/report', $urls );
		$this->assertNotContains( 'http://companion.test/v1/sites/site_1/flows/abandoned_cart/report', $urls, 'no test, no report read' );
		$this->assertStringContainsString( 'Subject A/B tests', $html );
		$this->assertStringContainsString( 'Win-back, email 1', $html );
		$this->assertMatchesRegularExpression( '#<tr data-variant="B"><td>B: It has been a while \(winner\)</td><td[^>]*>398</td><td[^>]*>9\.3%</td><td[^>]*>7</td>#', $html );
		$this->assertMatchesRegularExpression( '#<tr data-variant="A"><td>A</td><td[^>]*>412</td><td[^>]*>5\.1%</td>#', $html );
		$this->assertStringContainsString( 'Click rates differ at 95 % confidence (z = 2.32).', $html );
	}

	public function test_no_ab_test_no_section(): void {
		self::service( array( 'flows' => array( 200, array( 'flows' => array( array( 'key' => 'win_back', 'steps' => array( array( 'step' => 1, 'subject_b' => null ) ) ) ) ) ) ) );
		$this->assertStringNotContainsString( 'Subject A/B tests', $this->render() );
	}

	public function test_a_product_the_service_knows_only_by_id_is_named_from_the_shop(): void {
		$id = wp_insert_post( array( 'post_title' => 'Tea Towel & Co', 'post_type' => 'post', 'post_status' => 'publish' ) );
		self::service( array( 'by=product' => array( 200, array( 'by' => 'product', 'currency' => 'EUR', 'groups' => array( array( 'key' => (string) $id, 'label' => (string) $id, 'orders' => 2, 'revenue' => '14.50' ) ), 'total_groups' => 1 ) ) ) );
		$html = $this->render();
		wp_delete_post( $id, true );
		$this->assertStringContainsString( '<td>Tea Towel &amp; Co</td>', $html );
	}

	public function test_a_part_the_service_cannot_answer_says_why_and_the_rest_still_shows(): void {
		self::service( array( 'alerts' => array( 503, array( 'error' => 'database is down' ) ) ) );
		$html = $this->render();
		$this->assertStringContainsString( 'The service answered with status 503', $html );
		$this->assertStringContainsString( 'Blue Mug', $html );
	}

	public function test_before_setup_it_says_not_connected_and_links_to_the_settings(): void {
		update_option( Settings::OPTION, array() );
		$html = $this->render();
		$this->assertStringContainsString( 'Sales Companion is not connected yet.', $html );
		$this->assertStringContainsString( 'href="http://shop.test/wp-admin/admin.php?page=sales-companion"', $html );
		$this->assertStringNotContainsString( 'Could not reach the service', $html );
		$this->assertSame( array(), FakeService::$requests );
	}

	public function test_a_service_without_reports_gets_a_clear_message(): void {
		FakeService::$answers = array( array( 404, array( 'error' => 'Not found' ) ) );
		$this->assertStringContainsString( 'does not offer reports for this site yet', $this->render() );
	}

	public function test_there_is_one_sales_companion_menu_with_reports_and_settings(): void {
		global $menu, $submenu;
		require_once ABSPATH . 'wp-admin/includes/plugin.php';
		$menu    = array();
		$submenu = array( 'options-general.php' => array( array( 'General', 'manage_options', 'options-general.php' ) ) );
		Plugin()->get( 'admin' )->add_pages();
		$titles = array_filter(
			array_merge( array_column( $menu, 0 ), array_column( $submenu['options-general.php'], 0 ) ),
			static function ( $title ) {
				return 'Sales Companion' === $title;
			}
		);
		$this->assertCount( 1, $titles );
		$this->assertSame( array( 'Reports', 'Settings' ), array_column( $submenu[ Reports::PAGE ], 0 ) );
		$this->assertSame( 'sales-companion', $submenu[ Reports::PAGE ][1][2] );
	}

	public function test_the_old_settings_address_forwards_to_the_new_one(): void {
		global $pagenow;
		require_once ABSPATH . 'wp-admin/includes/plugin.php';
		$was          = $pagenow;
		$pagenow      = 'options-general.php';
		$_GET['page'] = 'sales-companion';
		$stop         = static function ( $location ) {
			throw new \RuntimeException( $location );
		};
		add_filter( 'wp_redirect', $stop );
		try {
			Plugin()->get( 'admin' )->add_pages();
			$this->fail( 'no redirect' );
		} catch ( \RuntimeException $e ) {
			$this->assertSame( 'http://shop.test/wp-admin/admin.php?page=sales-companion', $e->getMessage() );
		} finally {
			remove_filter( 'wp_redirect', $stop );
			$pagenow = $was;
			unset( $_GET['page'] );
		}
	}

	public function test_the_dashboard_widget_shows_today_the_last_7_days_and_open_alerts(): void {
		self::service();
		ob_start();
		Plugin()->get( 'reports' )->render_widget();
		$html  = ob_get_clean();
		$today = wp_date( 'Y-m-d' );
		$urls  = array_column( FakeService::$requests, 'url' );
		$this->assertContains( 'http://companion.test/v1/sites/site_1/metrics?from=' . $today . '&to=' . $today . '&compare=previous', $urls );
		$this->assertContains( 'http://companion.test/v1/sites/site_1/metrics?from=' . wp_date( 'Y-m-d', time() - 6 * DAY_IN_SECONDS ) . '&to=' . $today . '&compare=previous', $urls );
		$this->assertStringContainsString( 'Today', $html );
		$this->assertStringContainsString( 'Last 7 days', $html );
		$this->assertStringContainsString( esc_html( Reports_View::money( '1250.00', 'EUR' ) ), $html );
		$this->assertStringContainsString( 'Revenue is down 60 %', $html );
		$this->assertStringContainsString( 'page=sales-companion-reports', $html );
	}

	public function test_the_dashboard_widget_is_offered_to_owners_only(): void {
		global $wp_meta_boxes;
		require_once ABSPATH . 'wp-admin/includes/dashboard.php';
		require_once ABSPATH . 'wp-admin/includes/class-wp-screen.php';
		require_once ABSPATH . 'wp-admin/includes/screen.php';
		set_current_screen( 'dashboard' );
		$wp_meta_boxes = array();
		Plugin()->get( 'reports' )->add_dashboard_widget();
		$this->assertArrayHasKey( Reports::WIDGET, $wp_meta_boxes['dashboard']['normal']['high'] );
		$wp_meta_boxes = array();
		wp_set_current_user( 0 );
		Plugin()->get( 'reports' )->add_dashboard_widget();
		$this->assertEmpty( $wp_meta_boxes );
	}

	public function test_the_widget_before_setup_links_to_the_settings(): void {
		update_option( Settings::OPTION, array() );
		ob_start();
		Plugin()->get( 'reports' )->render_widget();
		$this->assertStringContainsString( 'not connected yet', ob_get_clean() );
	}
	public function test_a_dashboard_link_lands_on_the_page_and_period_it_names(): void {
		// companion/api/links.py answers {"url": ".../dashboard/login/<token>", "expires_in": 900}.
		FakeService::$answers = array( array( 200, array( 'url' => 'http://companion.test/dashboard/login/tok', 'expires_in' => 900 ) ) );
		$_REQUEST = array( '_wpnonce' => wp_create_nonce( 'sales_companion_dashboard' ), 'view' => 'products', 'from' => '2026-11-01', 'to' => '2026-11-30' );
		$stop     = static function ( $location ) {
			throw new \RuntimeException( $location );
		};
		add_filter( 'wp_redirect', $stop );
		try {
			Plugin()->get( 'admin' )->handle_open_dashboard();
			$this->fail( 'no redirect' );
		} catch ( \RuntimeException $e ) {
			$this->assertSame( 'http://companion.test/dashboard/login/tok?next=%2Fdashboard%2Fsite_1%2Fproducts%3Frange%3Dcustom%26from%3D2026-11-01%26to%3D2026-11-30', $e->getMessage() );
		} finally {
			remove_filter( 'wp_redirect', $stop );
			$_REQUEST = array();
		}
	}
}
