<?php
/**
 * The settings page: sanitised settings, secrets never shown, guarded actions.
 *
 * @package SalesCompanion\Tests
 */

namespace SalesCompanion\Tests;

use SalesCompanion\Admin;
use SalesCompanion\Client;
use SalesCompanion\Settings;

final class AdminTest extends TestCase {

	/** @var int */
	private static $admin_id;

	/** @var int */
	private static $editor_id;

	public static function setUpBeforeClass(): void {
		require_once ABSPATH . 'wp-admin/includes/template.php';
		self::$admin_id  = self::user( 'sc_admin', 'administrator' );
		self::$editor_id = self::user( 'sc_editor', 'editor' );
	}

	private static function user( $login, $role ) {
		$user = get_user_by( 'login', $login );
		return $user ? $user->ID : wp_insert_user( array( 'user_login' => $login, 'user_pass' => wp_generate_password(), 'role' => $role, 'user_email' => $login . '@shop.test' ) );
	}

	protected function setUp(): void {
		parent::setUp();
		add_filter( 'wp_die_handler', array( $this, 'die_handler' ) );
		add_filter( 'wp_redirect', array( $this, 'stop_redirect' ) );
	}

	protected function tearDown(): void {
		remove_filter( 'wp_die_handler', array( $this, 'die_handler' ) );
		remove_filter( 'wp_redirect', array( $this, 'stop_redirect' ) );
		$_REQUEST = array();
		parent::tearDown();
	}

	public function die_handler() {
		return static function ( $message ) {
			throw new \RuntimeException( 'died: ' . ( is_string( $message ) ? $message : 'wp_die' ) );
		};
	}

	public function stop_redirect( $location ) {
		throw new \RuntimeException( 'redirect: ' . $location );
	}

	/** Calls an admin-post handler and returns how it ended. */
	private function post( $method, $nonce_action = null ) {
		if ( null !== $nonce_action ) {
			$_REQUEST['_wpnonce'] = wp_create_nonce( $nonce_action );
		}
		try {
			Plugin()->get( 'admin' )->$method();
		} catch ( \RuntimeException $e ) {
			return $e->getMessage();
		}
		return 'returned';
	}

	private function notice() {
		return get_transient( Admin::NOTICE . get_current_user_id() );
	}

	public function test_a_blank_secret_keeps_the_saved_one_and_a_new_one_replaces_it(): void {
		$settings = Plugin()->get( 'settings' );
		$kept     = $settings->sanitize( array( 'service_url' => 'https://c.example.com/', 'site_id' => 'site_1', 'secret' => '', 'api_token' => '' ) );
		$this->assertSame( self::secret(), $kept['secret'] );
		$this->assertSame( 'token_1', $kept['api_token'] );
		$this->assertSame( 'https://c.example.com', $kept['service_url'] );
		$new = $settings->sanitize( array( 'secret' => " whsec_bmV3<script>\n", 'api_token' => 'tok_2' ) );
		$this->assertSame( 'whsec_bmV3script', $new['secret'] );
		$this->assertSame( 'tok_2', $new['api_token'] );
	}

	public function test_settings_are_sanitised_to_known_values(): void {
		$clean = Plugin()->get( 'settings' )->sanitize(
			array(
				'site_id'      => '<b>site</b>',
				'sources'      => array( 'edd', 'shopify' ),
				'flows'        => array( 'abandoned_cart' => array( 'enabled' => '1', 'delay_hours' => '99999' ), 'spam' => array( 'enabled' => '1' ) ),
				'sender_email' => 'not an email',
				'track_views'  => '1',
			)
		);
		$this->assertSame( 'site', $clean['site_id'] );
		$this->assertSame( array( 'edd' ), $clean['sources'] );
		$this->assertSame( array( 'enabled' => true, 'delay_hours' => 8760, 'subject_b' => '', 'coupon' => Settings::COUPON_DEFAULTS ), $clean['flows']['abandoned_cart'] );
		$this->assertFalse( $clean['flows']['post_purchase']['enabled'] );
		$this->assertArrayNotHasKey( 'spam', $clean['flows'] );
		$this->assertSame( '', $clean['sender_email'] );
		$this->assertTrue( $clean['track_views'] );
		$this->assertFalse( $clean['track_carts'] );
	}

	public function test_the_page_shows_the_status_but_never_the_secret_or_the_token(): void {
		wp_set_current_user( self::$admin_id );
		Plugin()->get( 'events' )->record( 'page.viewed', 'custom', array( 'url' => 'http://shop.test/' ) );
		ob_start();
		Plugin()->get( 'admin' )->render();
		$html = ob_get_clean();
		$this->assertStringContainsString( 'Events waiting', $html );
		$this->assertStringContainsString( 'Retry now', $html );
		$this->assertStringContainsString( 'whsec_', $html );
		$this->assertStringNotContainsString( base64_encode( self::KEY ), $html );
		$this->assertStringNotContainsString( 'token_1', $html );
	}

	public function test_the_page_prints_nothing_for_users_who_may_not_manage_options(): void {
		wp_set_current_user( self::$editor_id );
		ob_start();
		Plugin()->get( 'admin' )->render();
		$this->assertSame( '', ob_get_clean() );
	}

	public function test_actions_refuse_users_without_manage_options(): void {
		wp_set_current_user( self::$editor_id );
		$this->assertStringStartsWith( 'died: You are not allowed', $this->post( 'handle_retry', 'sales_companion_retry' ) );
	}

	public function test_actions_refuse_a_missing_or_wrong_nonce(): void {
		wp_set_current_user( self::$admin_id );
		$_REQUEST['_wpnonce'] = wp_create_nonce( 'something_else' );
		$this->assertStringStartsWith( 'died:', $this->post( 'handle_sync' ) );
	}

	public function test_test_connection_says_in_words_that_both_credentials_work(): void {
		wp_set_current_user( self::$admin_id );
		// The service answers a signed empty batch with 200 (companion/api/events.py receive_events).
		FakeService::$answers = array( array( 200, array( 'accepted' => 0, 'duplicates' => 0, 'rejected' => array(), 'connected' => true ) ), array( 200, array( 'contacts' => array() ) ) );
		$this->assertSame( 'redirect: http://shop.test/wp-admin/admin.php?page=sales-companion', $this->post( 'handle_test_connection', 'sales_companion_test' ) );
		$this->assertTrue( $this->notice()['ok'] );
		$this->assertStringContainsString( 'accepted our signature', $this->notice()['message'] );
		$this->assertStringContainsString( 'API token: accepted', $this->notice()['message'] );
	}

	public function test_test_connection_explains_a_wrong_secret_or_an_unreachable_service(): void {
		wp_set_current_user( self::$admin_id );
		FakeService::$answers = array( array( 401, array( 'error' => 'bad signature' ) ) );
		$this->post( 'handle_test_connection', 'sales_companion_test' );
		$this->assertStringContainsString( 'check the secret', $this->notice()['message'] );
		FakeService::$answers = array( new \WP_Error( 'http_request_failed', 'Connection refused' ) );
		$this->post( 'handle_test_connection', 'sales_companion_test' );
		$this->assertFalse( $this->notice()['ok'] );
		$this->assertStringContainsString( 'Could not reach the service: Connection refused', $this->notice()['message'] );
	}

	public function test_open_dashboard_asks_the_service_for_a_link_and_sends_the_browser_there(): void {
		wp_set_current_user( self::$admin_id );
		FakeService::$answers = array( array( 200, array( 'url' => 'http://companion.test/dashboard/login/abc.def', 'expires_in' => 900 ) ) );
		$this->assertSame( 'redirect: http://companion.test/dashboard/login/abc.def', $this->post( 'handle_open_dashboard', 'sales_companion_dashboard' ) );
		$request = FakeService::$requests[0];
		$this->assertSame( 'POST', $request['method'] );
		$this->assertSame( 'http://companion.test/v1/sites/site_1/dashboard-link', $request['url'] );
		$this->assertSame( 'Bearer token_1', $request['headers']['Authorization'] );
	}

	public function test_open_dashboard_explains_a_refusal_and_goes_back_to_the_reports(): void {
		wp_set_current_user( self::$admin_id );
		FakeService::$answers = array( array( 404, array( 'error' => 'No such site for this token.' ) ) );
		$this->assertSame( 'redirect: http://shop.test/wp-admin/admin.php?page=sales-companion-reports', $this->post( 'handle_open_dashboard', 'sales_companion_dashboard' ) );
		$this->assertFalse( $this->notice()['ok'] );
		$this->assertStringContainsString( 'Could not open the dashboard', $this->notice()['message'] );
		wp_set_current_user( self::$editor_id );
		$this->assertStringStartsWith( 'died: You are not allowed', $this->post( 'handle_open_dashboard', 'sales_companion_dashboard' ) );
	}

	public function test_a_coupon_is_checked_as_the_service_checks_it_and_pushed_in_its_contract(): void {
		$settings = Plugin()->get( 'settings' );
		$unique   = array( 'kind' => 'unique', 'discount_type' => 'percent', 'amount' => '10', 'days_valid' => '7', 'minimum_amount' => '30.00', 'code' => '' );
		$clean    = $settings->sanitize( array( 'flows' => array( 'win_back' => array( 'enabled' => '1', 'coupon' => $unique ) ) ) );
		$this->assertSame( array_merge( Settings::COUPON_DEFAULTS, $unique ), $clean['flows']['win_back']['coupon'] );
		$this->assertSame(
			array( 'kind' => 'unique', 'discount_type' => 'percent', 'amount' => '10', 'days_valid' => 7, 'minimum_amount' => '30.00' ),
			Admin::flows_payload( array_merge( $settings->all(), $clean ) )['flows']['win_back']['coupon']
		);
		$this->assertArrayNotHasKey( 'coupon', Admin::flows_payload( $settings->all() )['flows']['abandoned_cart'], 'left to the dashboard: not pushed' );
		$this->assertArrayNotHasKey( 'coupon', Admin::flows_payload( $settings->all() )['flows']['post_purchase'] );
		$this->assertSame(
			array(
				'amount'     => 'A percentage is at most 100.',
				'days_valid' => 'Must be greater than or equal to 1 and less than or equal to 365.',
			),
			Settings::coupon_problems( array_merge( $unique, array( 'amount' => '150', 'days_valid' => '0' ) ) )
		);
		$this->assertSame( array( 'code' ), array_keys( Settings::coupon_problems( array_merge( Settings::COUPON_DEFAULTS, array( 'kind' => 'static' ) ) ) ) );
		$this->assertSame( array( 'amount' ), array_keys( Settings::coupon_problems( array_merge( $unique, array( 'amount' => '10.5.1' ) ) ) ) );
		global $wp_settings_errors;
		$wp_settings_errors = array(); // phpcs:ignore WordPress.WP.GlobalVariablesOverride.Prohibited
		update_option( Settings::OPTION, array_merge( $settings->all(), $clean ) );
		$refused = $settings->sanitize( array( 'flows' => array( 'win_back' => array( 'coupon' => array_merge( $unique, array( 'amount' => '150' ) ) ) ) ) );
		$this->assertSame( '10', $refused['flows']['win_back']['coupon']['amount'], 'a refused coupon keeps the saved one' );
		$this->assertStringContainsString( 'A percentage is at most 100.', wp_json_encode( get_settings_errors( Settings::OPTION ) ) );
		$none = $settings->sanitize( array( 'flows' => array( 'win_back' => array( 'coupon' => array( 'kind' => 'none' ) ) ) ) );
		$this->assertNull( Admin::flows_payload( array_merge( $settings->all(), $none ) )['flows']['win_back']['coupon'] );
		ob_start();
		wp_set_current_user( self::$admin_id );
		Plugin()->get( 'admin' )->render();
		$page = ob_get_clean();
		$this->assertStringContainsString( 'name="sales_companion_settings[flows][win_back][coupon][kind]"', $page );
		$this->assertStringContainsString( '<option value="unique" selected=\'selected\'>', $page );
	}

	public function test_changed_flow_settings_are_pushed_to_the_service(): void {
		wp_set_current_user( self::$admin_id );
		FakeService::$answers = array( array( 200, array( 'ok' => true ) ) );
		$input                = array(
			'sender_name'  => 'Shop',
			'sender_email' => 'hello@shop.test',
			'flows'        => array( 'abandoned_cart' => array( 'enabled' => '1', 'delay_hours' => '2' ) ),
		);
		update_option( Settings::OPTION, Plugin()->get( 'settings' )->sanitize( $input ) );
		$request = end( FakeService::$requests );
		$this->assertSame( 'PUT', $request['method'] );
		$this->assertSame( 'http://companion.test/v1/sites/site_1/flows', $request['url'] );
		$this->assertSame( 'Bearer token_1', $request['headers']['Authorization'] );
		$body = json_decode( $request['body'], true );
		// The service's contract (companion/api/schemas/flows.py FlowsUpdateSchema): the sender is
		// the shared settings, a flow's delay its first step's, a renewal reminder's before expiry.
		$this->assertSame( array( 'from_name' => 'Shop', 'from_email' => 'hello@shop.test' ), $body['settings'] );
		$this->assertSame( array( 'enabled' => true, 'steps' => array( array( 'step' => 1, 'delay_hours' => 2 ) ) ), $body['flows']['abandoned_cart'] );
		$this->assertSame( array( 'enabled' => false, 'steps' => array( array( 'step' => 1, 'delay_hours' => 1 ) ) ), $body['flows']['post_purchase'] );
		$this->assertSame( -168, $body['flows']['renewal_reminder']['steps'][0]['delay_hours'] );
		$this->assertArrayNotHasKey( 'sender', $body );
	}

	public function test_the_flow_push_carries_woocommerces_store_address_for_the_mail_footer(): void {
		wp_set_current_user( self::$admin_id );
		$this->assertArrayNotHasKey( 'postal_address', Admin::flows_payload( Plugin()->get( 'settings' )->all() )['settings'], 'no address: none sent, so one set on the service stays' );
		// The options of WooCommerce > Settings > General (woocommerce/includes/admin/settings/class-wc-settings-general.php).
		update_option( 'woocommerce_store_address', '1 Harbour Street' );
		update_option( 'woocommerce_store_address_2', 'Unit 2' );
		update_option( 'woocommerce_store_city', 'Bristol' );
		update_option( 'woocommerce_store_postcode', 'BS1 4QA' );
		update_option( 'woocommerce_default_country', 'US:CA' );
		FakeService::$answers = array( array( 200, array( 'ok' => true ) ) );
		$this->post( 'handle_push_flows', 'sales_companion_flows' );
		$body = json_decode( end( FakeService::$requests )['body'], true );
		$this->assertSame( '1 Harbour Street, Unit 2, Bristol, CA BS1 4QA, US', $body['settings']['postal_address'] );
		foreach ( array( 'woocommerce_store_address', 'woocommerce_store_address_2', 'woocommerce_store_city', 'woocommerce_store_postcode', 'woocommerce_default_country' ) as $option ) {
			delete_option( $option );
		}
	}

	public function test_a_refused_flow_push_is_shown_as_the_failure_it_is_with_the_services_field_messages(): void {
		wp_set_current_user( self::$admin_id );
		// companion/api/errors.py: a ValidationError answers 422 {"error": "Invalid request.", "fields": {...}}.
		FakeService::$answers = array( array( 422, array( 'error' => 'Invalid request.', 'fields' => array( 'settings' => array( 'from_email' => array( 'Not a valid email address.' ) ), 'flows' => array( 'vip' => array( 'value' => array( 'steps' => array( '0' => array( 'delay_hours' => array( 'Must be greater than or equal to -8760 and less than or equal to 8760.' ) ) ) ) ) ) ) ) ) );
		$this->post( 'handle_push_flows', 'sales_companion_flows' );
		$notice = $this->notice();
		$this->assertFalse( $notice['ok'] );
		$this->assertStringNotContainsString( 'saved', $notice['message'] );
		$this->assertStringContainsString( 'Invalid request.', $notice['message'] );
		$this->assertStringContainsString( 'settings.from_email: Not a valid email address.', $notice['message'] );
		$this->assertStringContainsString( 'flows.vip.value.steps.0.delay_hours: Must be greater than or equal to -8760', $notice['message'] );
	}

	public function test_a_first_email_subject_b_is_pushed_and_emptying_it_ends_the_test(): void {
		wp_set_current_user( self::$admin_id );
		FakeService::$answers = array( array( 200, array( 'ok' => true ) ) );
		$settings             = Plugin()->get( 'settings' );
		$flows                = array( 'abandoned_cart' => array( 'enabled' => '1', 'delay_hours' => '1', 'subject_b' => ' {{ contact.first_name }}, still thinking? ' ) );
		update_option( Settings::OPTION, $settings->sanitize( array( 'flows' => $flows ) ) );
		$body = json_decode( end( FakeService::$requests )['body'], true );
		// companion/flows/settings_schema.py StepSettingsSchema: subject_b, checked as a subject is.
		$this->assertSame( array( 'step' => 1, 'delay_hours' => 1, 'subject_b' => '{{ contact.first_name }}, still thinking?' ), $body['flows']['abandoned_cart']['steps'][0] );
		$this->assertArrayNotHasKey( 'subject_b', $body['flows']['win_back']['steps'][0], 'empty and untouched: a test set in the dashboard stays' );
		$flows['abandoned_cart']['subject_b'] = '';
		update_option( Settings::OPTION, $settings->sanitize( array( 'flows' => $flows ) ) );
		$body = json_decode( end( FakeService::$requests )['body'], true );
		$this->assertArrayHasKey( 'subject_b', $body['flows']['abandoned_cart']['steps'][0] );
		$this->assertNull( $body['flows']['abandoned_cart']['steps'][0]['subject_b'], 'emptied in this save: the test ends' );
		$this->post( 'handle_push_flows', 'sales_companion_flows' );
		$body = json_decode( end( FakeService::$requests )['body'], true );
		$this->assertArrayNotHasKey( 'subject_b', $body['flows']['abandoned_cart']['steps'][0], 'a later push leaves the service alone' );
	}

	public function test_a_subject_b_the_service_cannot_render_is_named_in_the_notice(): void {
		wp_set_current_user( self::$admin_id );
		// companion/api/flows.py _save: template problems answer 422 with the field under flows.<key>.
		FakeService::$answers = array( array( 422, array( 'error' => 'Invalid request.', 'fields' => array( 'flows' => array( 'win_back' => array( 'steps' => array( '0' => array( 'subject_b' => array( "template error: 'dict object' has no attribute 'frist_name'" ) ) ) ) ) ) ) ) );
		update_option( Settings::OPTION, Plugin()->get( 'settings' )->sanitize( array( 'flows' => array( 'win_back' => array( 'enabled' => '1', 'subject_b' => 'Hi {{ contact.frist_name }}' ) ) ) ) );
		$notice = $this->notice();
		$this->assertFalse( $notice['ok'] );
		$this->assertStringContainsString( 'flows.win_back.steps.0.subject_b: template error', $notice['message'] );
	}

	public function test_the_backlog_is_started_over_the_days_the_owner_chose(): void {
		wp_set_current_user( self::$admin_id );
		// companion/api/flow_backlog.py: GET answers the count, POST {"per_day"} starts them (202).
		FakeService::$answers = array(
			array( 200, array( 'flow' => 'win_back', 'waiting' => 120, 'default_per_day' => 50 ) ),
			array( 202, array( 'flow' => 'win_back', 'started' => 120, 'per_day' => 18, 'days' => 7 ) ),
		);
		$_POST = array( 'flow' => 'win_back', 'days' => '7' );
		$this->assertStringStartsWith( 'redirect:', $this->post( 'handle_release_backlog', 'sales_companion_backlog' ) );
		$this->assertSame( array( 'GET', 'POST' ), array_column( FakeService::$requests, 'method' ) );
		$this->assertSame( 'http://companion.test/v1/sites/site_1/flows/win_back/backlog', FakeService::$requests[1]['url'] );
		$this->assertSame( array( 'per_day' => 18 ), json_decode( FakeService::$requests[1]['body'], true ), 'ceil(120 / 7) a day' );
		$this->assertSame( array( 'ok' => true, 'message' => 'Started 120 people: their first emails go out over 7 days.' ), $this->notice() );
		$_POST = array();
	}

	public function test_the_backlog_refuses_bad_days_an_unknown_flow_and_a_missing_nonce(): void {
		wp_set_current_user( self::$admin_id );
		foreach ( array( array( 'win_back', '0' ), array( 'win_back', '1.5' ), array( 'win_back', '400' ), array( 'post_purchase', '3' ) ) as $case ) {
			FakeService::$requests = array();
			$_POST                 = array( 'flow' => $case[0], 'days' => $case[1] );
			$this->post( 'handle_release_backlog', 'sales_companion_backlog' );
			$this->assertSame( array(), FakeService::$requests, implode( ' ', $case ) );
			$this->assertFalse( $this->notice()['ok'], implode( ' ', $case ) );
		}
		$_POST = array( 'flow' => 'win_back', 'days' => '3' );
		unset( $_REQUEST['_wpnonce'] );
		$this->assertStringStartsWith( 'died:', $this->post( 'handle_release_backlog' ) );
		wp_set_current_user( self::$editor_id );
		$this->assertStringStartsWith( 'died: You are not allowed', $this->post( 'handle_release_backlog', 'sales_companion_backlog' ) );
		$this->assertSame( array(), FakeService::$requests );
		$_POST = array();
	}

	public function test_every_answer_outside_2xx_is_a_failure(): void {
		foreach ( array( 200, 201, 202, 204 ) as $status ) {
			$this->assertTrue( Client::explain( array( 'status' => $status, 'body' => null, 'error' => '' ), 'fine' )['ok'], (string) $status );
		}
		foreach ( array( 301, 400, 401, 404, 409, 413, 422, 429, 500, 503 ) as $status ) {
			$explained = Client::explain( array( 'status' => $status, 'body' => array( 'error' => 'Nope.' ), 'error' => '' ), 'fine' );
			$this->assertFalse( $explained['ok'], (string) $status );
			$this->assertNotSame( 'fine', $explained['message'], (string) $status );
		}
	}

	public function test_the_first_settings_save_pushes_the_flows_too(): void {
		wp_set_current_user( self::$admin_id );
		delete_option( Settings::OPTION );
		FakeService::$answers = array( array( 200, array( 'ok' => true ) ) );
		// The first save of a fresh install: update_option() on a missing option calls add_option(),
		// which fires add_option_{$option}, not update_option_{$option} (wp-includes/option.php).
		$input = array(
			'service_url'  => 'http://companion.test',
			'site_id'      => 'site_1',
			'secret'       => self::secret(),
			'api_token'    => 'token_1',
			'sender_name'  => 'Shop',
			'sender_email' => 'hello@shop.test',
		);
		update_option( Settings::OPTION, Plugin()->get( 'settings' )->sanitize( $input ) );
		$this->assertNotEmpty( FakeService::$requests, 'the flows were pushed on the first save' );
		$request = end( FakeService::$requests );
		$this->assertSame( array( 'PUT', 'http://companion.test/v1/sites/site_1/flows' ), array( $request['method'], $request['url'] ) );
		$this->assertSame( array( 'from_name' => 'Shop', 'from_email' => 'hello@shop.test' ), json_decode( $request['body'], true )['settings'] );
		$this->assertTrue( $this->notice()['ok'] );
	}

	public function test_retry_now_redelivers_failed_events_and_reports_the_count(): void {
		wp_set_current_user( self::$admin_id );
		Plugin()->get( 'events' )->record( 'page.viewed', 'custom', array( 'url' => 'http://shop.test/' ) );
		FakeService::$answers = array( array( 422, array( 'error' => 'no' ) ), FakeService::accept_all() );
		$this->deliver();
		$this->post( 'handle_retry', 'sales_companion_retry' );
		$this->assertSame( '1 event delivered.', $this->notice()['message'] );
	}

	public function test_the_settings_page_and_reports_are_in_the_menu_for_admins(): void {
		global $submenu;
		wp_set_current_user( self::$admin_id );
		require_once ABSPATH . 'wp-admin/includes/plugin.php';
		do_action( 'admin_menu' );
		$this->assertContains( 'sales-companion', array_column( $submenu['sales-companion-reports'], 2 ) );
		$this->assertContains( 'sales-companion-reports', array_column( $submenu['sales-companion-reports'], 2 ) );
	}
}
