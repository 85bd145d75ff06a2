<?php
/**
 * The settings page as the owner sees it (issue 17, "WP admin, as the owner sees it").
 *
 * @package SalesCompanion\Tests
 */

namespace SalesCompanion\Tests;

use SalesCompanion\Admin;

final class SettingsPageTest extends TestCase {

	public static function setUpBeforeClass(): void {
		require_once ABSPATH . 'wp-admin/includes/template.php';
	}

	private function page() {
		wp_set_current_user( get_user_by( 'login', 'admin' )->ID );
		ob_start();
		Plugin()->get( 'admin' )->render();
		return ob_get_clean();
	}

	private function delivery_state( array $state ) {
		update_option( 'sales_companion_delivery', array_merge( Plugin()->get( 'delivery' )->state(), $state ), false );
	}

	public function test_only_the_save_button_has_the_id_submit(): void {
		$html = $this->page();
		$this->assertSame( 1, substr_count( $html, 'id="submit"' ), 'a click aimed at #submit (Save) must not land on an action button' );
		preg_match_all( '/\bid="([^"]+)"/', $html, $ids );
		$this->assertSame( array(), array_keys( array_filter( array_count_values( $ids[1] ), static function ( $n ) { return $n > 1; } ) ), 'every id on the page is unique' );
		$this->assertStringContainsString( 'value="Retry now"', $html );
		$this->assertStringContainsString( 'value="Test connection"', $html );
	}

	public function test_a_save_says_settings_saved_on_the_page_under_the_sales_companion_menu(): void {
		global $wp_settings_errors;
		// What options.php leaves after a save (wp-admin/options.php: add_settings_error( 'general', 'settings_updated', ... )).
		add_settings_error( 'general', 'settings_updated', 'Settings saved.', 'success' );
		$html               = $this->page();
		$wp_settings_errors = array();
		$this->assertStringContainsString( 'Settings saved.', $html );
	}

	public function test_saved_secrets_are_described_in_full_words_outside_the_input(): void {
		$html = $this->page();
		$this->assertDoesNotMatchRegularExpression( '/placeholder="[^"]*leave blank/', $html, 'a placeholder is cut off by the input width' );
		$this->assertStringContainsString( 'Leave the field blank to keep it; type a new one to replace it.', $html );
		$this->assertStringContainsString( 'id="sc-secret-saved"', $html );
		$this->assertStringContainsString( 'id="sc-api_token-saved"', $html );
	}

	public function test_each_flow_has_a_subject_b_field_and_the_backlog_offers_its_button(): void {
		// companion/api/flow_backlog.py: GET /flows/<key>/backlog answers how many wait.
		FakeService::$answers = array(
			static function ( $request ) {
				$waiting = false !== strpos( $request['url'], '/flows/win_back/backlog' ) ? 253 : 0;
				return array( 200, array( 'flow' => 'x', 'waiting' => $waiting, 'default_per_day' => 50 ) );
			},
		);
		$html = $this->page();
		$this->assertStringContainsString( 'name="sales_companion_settings[flows][abandoned_cart][subject_b]"', $html );
		$this->assertStringContainsString( 'Subject B of the first email (A/B test):', $html );
		$this->assertStringContainsString( 'Win-back: 253 people wait.', $html );
		$this->assertStringContainsString( 'value="Also send to these 253 people"', $html );
		$this->assertMatchesRegularExpression( '/name="days" value="6"/', $html, '50 a day by default: 6 days' );
		$this->assertStringNotContainsString( 'data-flow="vip"', $html, 'nobody waits for VIP: no button' );
		$this->assertStringContainsString( 'name="action" value="sales_companion_backlog"', $html );
	}

	public function test_flows_have_their_proper_names(): void {
		$html = $this->page();
		$this->assertStringContainsString( '<th scope="row">VIP</th>', $html );
		$this->assertStringContainsString( '<th scope="row">Win-back</th>', $html );
		$this->assertStringNotContainsString( 'Vip', $html );
	}

	public function test_each_delay_says_what_it_counts_from(): void {
		$html = $this->page();
		$this->assertStringNotContainsString( 'first email after (hours)', $html );
		$this->assertStringContainsString( 'hours after the customer is found lapsing', $html );
		$this->assertStringContainsString( 'hours after the customer becomes a VIP', $html );
		$this->assertStringContainsString( '0 = on the day they are found', $html );
		$this->assertStringContainsString( 'hours before the subscription or licence expires', $html );
	}

	public function test_an_error_followed_by_a_successful_delivery_is_not_shown_as_current(): void {
		$this->delivery_state( array( 'last_error' => 'Could not reach the service: Connection refused', 'last_error_at' => time() - 600, 'last_delivery_at' => time() - 60 ) );
		$html = $this->page();
		$this->assertStringNotContainsString( 'Connection refused', $html );
		$this->assertStringContainsString( 'none since the last delivery', $html );
	}

	public function test_an_error_after_the_last_delivery_is_shown(): void {
		$this->delivery_state( array( 'last_error' => 'Could not reach the service: Connection refused', 'last_error_at' => time() - 60, 'last_delivery_at' => time() - 600 ) );
		$this->assertStringContainsString( 'Connection refused', $this->page() );
	}

	public function test_retry_now_is_a_failure_when_the_service_rejects_the_events_again(): void {
		wp_set_current_user( get_user_by( 'login', 'admin' )->ID );
		Plugin()->get( 'events' )->record( 'page.viewed', 'custom', array( 'url' => 'http://shop.test/' ) );
		$this->end_request();
		// companion/api/events.py answers 422 when nothing in the batch was valid.
		FakeService::$answers = array( array( 422, array( 'error' => 'No valid events', 'rejected' => array( array( 'index' => 0, 'fields' => array( 'data' => array( 'Not a valid mapping type.' ) ) ) ) ) ) );
		Plugin()->get( 'delivery' )->run();
		$this->assertSame( 1, Plugin()->get( 'outbox' )->counts()['failed'] );
		$_REQUEST['_wpnonce'] = wp_create_nonce( 'sales_companion_retry' );
		add_filter( 'wp_redirect', array( $this, 'stop' ) );
		try {
			Plugin()->get( 'admin' )->handle_retry();
		} catch ( \RuntimeException $e ) {
			$this->assertStringStartsWith( 'redirect:', $e->getMessage() );
		} finally {
			remove_filter( 'wp_redirect', array( $this, 'stop' ) );
			$_REQUEST = array();
		}
		$notice = get_transient( Admin::NOTICE . get_current_user_id() );
		$this->assertFalse( $notice['ok'], 'no green "0 events delivered" when all were rejected again' );
		$this->assertStringContainsString( '1 event was rejected again by the service.', $notice['message'] );
		$this->assertStringContainsString( 'Latest reason: data: Not a valid mapping type.', $notice['message'], 'the reason in words, not JSON' );
		$this->assertStringContainsString( '<td>data: Not a valid mapping type.</td>', $this->page() );
	}

	public function test_retry_now_with_everything_delivered_says_so(): void {
		$result = Admin::retry_outcome( 0, array( 'retry_at' => 0, 'last_error' => '' ), array( 'pending' => 0, 'failed' => 0 ), array() );
		$this->assertTrue( $result['ok'] );
		$this->assertSame( 'Nothing was waiting: every event has been delivered.', $result['message'] );
		$sent = Admin::retry_outcome( 3, array( 'retry_at' => 0, 'last_error' => '' ), array( 'pending' => 0, 'failed' => 0 ), array() );
		$this->assertSame( array( 'ok' => true, 'message' => '3 events delivered.' ), $sent );
	}

	public function stop( $location ) {
		throw new \RuntimeException( 'redirect: ' . $location );
	}
}
