<?php
/**
 * Sales Companion -> Reports reads the metrics on the server.
 *
 * @package SalesCompanion\Tests
 */

namespace SalesCompanion\Tests;

final class ReportsTest extends TestCase {

	private function render() {
		$admin = get_user_by( 'login', 'admin' );
		wp_set_current_user( $admin->ID );
		$_GET['from'] = '2026-11-01';
		$_GET['to']   = '2026-11-30';
		ob_start();
		Plugin()->get( 'reports' )->render();
		unset( $_GET['from'], $_GET['to'] );
		return ob_get_clean();
	}

	public function test_headline_cards_come_from_the_service_and_the_token_stays_on_the_server(): void {
		FakeService::$answers = array( array( 200, array( 'total_revenue' => array( 'value' => '1250.00', 'previous' => '900.00' ), 'orders' => array( 'value' => 42, 'previous' => 30 ) ) ) );
		delete_transient( 'sales_companion_metrics_' . md5( '2026-11-012026-11-30site_1' ) );
		$html    = $this->render();
		$request = FakeService::$requests[0];
		$this->assertSame( 'http://companion.test/v1/sites/site_1/metrics?from=2026-11-01&to=2026-11-30&compare=previous', $request['url'] );
		$this->assertStringContainsString( '1250.00', $html );
		$this->assertStringContainsString( '900.00', $html );
		$this->assertStringContainsString( 'Total Revenue', $html );
		$this->assertStringNotContainsString( 'token_1', $html );
		$this->assertStringContainsString( 'name="action" value="sales_companion_dashboard"', $html );
		$this->assertStringContainsString( 'Open the full dashboard', $html );
	}

	public function test_a_service_without_reports_gets_a_clear_message(): void {
		FakeService::$answers = array( array( 404, array( 'error' => 'Not found' ) ) );
		delete_transient( 'sales_companion_metrics_' . md5( '2026-11-012026-11-30site_1' ) );
		$this->assertStringContainsString( 'does not offer reports for this site yet', $this->render() );
	}
}
