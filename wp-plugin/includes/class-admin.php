<?php
/**
 * Settings -> Sales Companion: connection, sources, tracking, flows, status.
 *
 * @package SalesCompanion
 */

namespace SalesCompanion;

if ( ! defined( 'ABSPATH' ) ) {
	exit;
}

/**
 * The settings page and its admin-post actions. Every action checks
 * manage_options and its nonce; every output is escaped.
 */
class Admin {

	const PAGE   = 'sales-companion';
	const NOTICE = 'sales_companion_notice_';

	/**
	 * Flows found by scanning, whose first start holds who already qualifies (the backlog;
	 * companion/flows/backlog.py SCANNED_FLOWS).
	 */
	const BACKLOG_FLOWS = array( 'win_back', 'vip', 'replenishment' );

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
	 * Outbox.
	 *
	 * @var Outbox
	 */
	private $outbox;

	/**
	 * Constructor.
	 *
	 * @param Settings $settings Settings.
	 * @param Client   $client   Client.
	 * @param Outbox   $outbox   Outbox.
	 */
	public function __construct( Settings $settings, Client $client, Outbox $outbox ) {
		$this->settings = $settings;
		$this->client   = $client;
		$this->outbox   = $outbox;
	}

	/**
	 * Hook admin_menu: one "Sales Companion" menu holding Reports and Settings (it used to be
	 * two entries of that name: a top-level menu and one under Settings).
	 *
	 * @return void
	 */
	public function add_pages() {
		$reports = Plugin::instance()->get( 'reports' );
		add_menu_page( __( 'Sales Companion reports', 'sales-companion' ), __( 'Sales Companion', 'sales-companion' ), 'manage_options', Reports::PAGE, array( $reports, 'render' ), 'dashicons-chart-area', 56 );
		add_submenu_page( Reports::PAGE, __( 'Sales Companion reports', 'sales-companion' ), __( 'Reports', 'sales-companion' ), 'manage_options', Reports::PAGE, array( $reports, 'render' ) );
		add_submenu_page( Reports::PAGE, __( 'Sales Companion settings', 'sales-companion' ), __( 'Settings', 'sales-companion' ), 'manage_options', self::PAGE, array( $this, 'render' ) );
		$this->forward_old_address();
	}

	/**
	 * The settings page lived at Settings -> Sales Companion (options-general.php?page=sales-companion);
	 * bookmarks and older docs still go there. admin_menu runs before WordPress checks that the page
	 * exists under that parent, so the old address can still forward to the new one.
	 *
	 * @return void
	 */
	private function forward_old_address() {
		global $pagenow;
		$page = isset( $_GET['page'] ) ? sanitize_key( wp_unslash( $_GET['page'] ) ) : ''; // phpcs:ignore WordPress.Security.NonceVerification.Recommended -- a redirect, no action.
		if ( 'options-general.php' === $pagenow && self::PAGE === $page && current_user_can( 'manage_options' ) ) {
			wp_safe_redirect( self::settings_url() );
			exit;
		}
	}

	/**
	 * Where the settings page is.
	 *
	 * @return string
	 */
	public static function settings_url() {
		return admin_url( 'admin.php?page=' . self::PAGE );
	}

	/**
	 * Hook admin_init: the option and its sanitiser.
	 *
	 * @return void
	 */
	public function register_settings() {
		register_setting(
			'sales_companion',
			Settings::OPTION,
			array(
				'type'              => 'array',
				'sanitize_callback' => array( $this->settings, 'sanitize' ),
				'default'           => array(),
			)
		);
	}

	/**
	 * Stops unless the user may manage options and the nonce matches.
	 *
	 * @param string $action Nonce action.
	 * @return void
	 */
	private function guard( $action ) {
		if ( ! current_user_can( 'manage_options' ) ) {
			wp_die( esc_html__( 'You are not allowed to do this.', 'sales-companion' ), '', array( 'response' => 403 ) );
		}
		check_admin_referer( $action );
	}

	/**
	 * Keeps a message for the next page load of this user.
	 *
	 * @param bool   $ok      Success.
	 * @param string $message Text.
	 * @return void
	 */
	public function notice( $ok, $message ) {
		set_transient(
			self::NOTICE . get_current_user_id(),
			array(
				'ok'      => (bool) $ok,
				'message' => (string) $message,
			),
			300
		);
	}

	/**
	 * Back to the settings page.
	 *
	 * @return void
	 */
	private function back() {
		wp_safe_redirect( self::settings_url() );
		exit;
	}

	/**
	 * "Test connection".
	 *
	 * @return void
	 */
	public function handle_test_connection() {
		$this->guard( 'sales_companion_test' );
		$result = $this->client->test_connection();
		$this->notice( $result['ok'], $result['message'] );
		$this->back();
	}

	/**
	 * "Open the dashboard": asks the service for a short-lived sign-in link with the API token
	 * (server to server) and sends the browser there; the token never reaches the browser.
	 *
	 * @return void
	 */
	public function handle_open_dashboard() {
		$this->guard( 'sales_companion_dashboard' );
		$result = $this->client->api( 'POST', 'dashboard-link', array(), 10 );
		$url    = is_array( $result['body'] ) && isset( $result['body']['url'] ) ? (string) $result['body']['url'] : '';
		if ( 200 !== $result['status'] || ! preg_match( '#^https?://#', $url ) ) {
			$words = Client::explain( $result, '' );
			$this->notice( false, __( 'Could not open the dashboard.', 'sales-companion' ) . ' ' . $words['message'] );
			wp_safe_redirect( admin_url( 'admin.php?page=' . Reports::PAGE ) );
			exit;
		}
		$next = $this->dashboard_page( $_REQUEST ); // phpcs:ignore WordPress.Security.NonceVerification.Recommended -- guard() checked the nonce.
		if ( '' !== $next ) {
			$url = add_query_arg( 'next', rawurlencode( $next ), $url );
		}
		wp_redirect( esc_url_raw( $url ) ); // phpcs:ignore WordPress.Security.SafeRedirect.wp_redirect_wp_redirect -- the service's own host, from its answer.
		exit;
	}

	/**
	 * Which dashboard page to land on after signing in (the service's `next`, which it only
	 * follows within this site's dashboard): a known page, and the period the owner was looking at.
	 *
	 * @param array $request Request fields.
	 * @return string Path on the service, '' for its home page.
	 */
	public function dashboard_page( array $request ) {
		$pages = array(
			'overview'  => '',
			'products'  => 'products',
			'flows'     => 'flows',
			'customers' => 'customers',
		);
		$view  = isset( $request['view'] ) ? sanitize_key( wp_unslash( $request['view'] ) ) : '';
		if ( ! isset( $pages[ $view ] ) ) {
			return '';
		}
		$path  = '/dashboard/' . rawurlencode( (string) $this->settings->get( 'site_id' ) ) . '/' . $pages[ $view ];
		$dates = array();
		foreach ( array( 'from', 'to' ) as $key ) {
			$value = isset( $request[ $key ] ) ? sanitize_text_field( wp_unslash( $request[ $key ] ) ) : '';
			if ( preg_match( '/^\d{4}-\d{2}-\d{2}$/', $value ) ) {
				$dates[ $key ] = $value;
			}
		}
		if ( 2 === count( $dates ) ) {
			$path .= '?' . http_build_query( array_merge( array( 'range' => 'custom' ), $dates ) );
		}
		return $path;
	}

	/**
	 * "Retry now".
	 *
	 * @return void
	 */
	public function handle_retry() {
		$this->guard( 'sales_companion_retry' );
		$delivery = Plugin::instance()->get( 'delivery' );
		$sent     = $delivery->retry_now();
		$result   = self::retry_outcome( $sent, $delivery->state(), $this->outbox->counts(), $this->outbox->failures( 1 ) );
		$this->notice( $result['ok'], $result['message'] );
		$this->back();
	}

	/**
	 * What "Retry now" did, in words: green only when nothing is left failed or waiting
	 * on an error. Events the service rejected again are a failure, with its reason.
	 *
	 * @param int   $sent     Events accepted by this run.
	 * @param array $state    Delivery state after the run.
	 * @param array $counts   Outbox counts after the run (pending, failed).
	 * @param array $failures The latest failed row, if any.
	 * @return array{ok: bool, message: string}
	 */
	public static function retry_outcome( $sent, array $state, array $counts, array $failures ) {
		/* translators: %d: events delivered */
		$parts   = array( sprintf( _n( '%d event delivered.', '%d events delivered.', $sent, 'sales-companion' ), $sent ) );
		$ok      = true;
		$backing = (int) $state['retry_at'] > time();
		if ( $backing ) {
			$ok      = false;
			$parts[] = $state['last_error'];
		}
		$failed = (int) $counts['failed'];
		if ( $failed > 0 ) {
			$ok = false;
			/* translators: %d: events the service refused */
			$parts[] = sprintf( _n( '%d event was rejected again by the service.', '%d events were rejected again by the service.', $failed, 'sales-companion' ), $failed );
			if ( $failures && '' !== (string) $failures[0]->last_error ) {
				/* translators: %s: the service's reason */
				$parts[] = sprintf( __( 'Latest reason: %s', 'sales-companion' ), Client::readable_reason( (string) $failures[0]->last_error ) );
			}
		}
		if ( 0 === $sent && $ok && 0 === (int) $counts['pending'] ) {
			$parts = array( __( 'Nothing was waiting: every event has been delivered.', 'sales-companion' ) );
		}
		return array(
			'ok'      => $ok,
			'message' => implode( ' ', $parts ),
		);
	}

	/**
	 * "Sync history".
	 *
	 * @return void
	 */
	public function handle_sync() {
		$this->guard( 'sales_companion_sync' );
		$state = Plugin::instance()->get( 'history' )->start( $this->settings->active_sources() );
		/* translators: %d: orders */
		$this->notice( true, sprintf( __( 'History sync started: %d orders will be sent in the background.', 'sales-companion' ), $state['total'] ) );
		$this->back();
	}

	/**
	 * "Push flows".
	 *
	 * @return void
	 */
	public function handle_push_flows() {
		$this->guard( 'sales_companion_flows' );
		$result = $this->push_flows();
		$this->notice( $result['ok'], $result['message'] );
		$this->back();
	}

	/**
	 * "Also send to these N people": who qualified before a scanned flow started (its backlog,
	 * GET /v1/sites/<id>/flows/<key>/backlog) is started over the days the owner chose, as
	 * ceil(N / days) a day (POST .../backlog {"per_day"}).
	 *
	 * @return void
	 */
	public function handle_release_backlog() {
		$this->guard( 'sales_companion_backlog' );
		$flow = isset( $_POST['flow'] ) ? sanitize_key( wp_unslash( $_POST['flow'] ) ) : ''; // phpcs:ignore WordPress.Security.NonceVerification.Missing -- guard() checked the nonce.
		$days = isset( $_POST['days'] ) ? trim( sanitize_text_field( wp_unslash( $_POST['days'] ) ) ) : ''; // phpcs:ignore WordPress.Security.NonceVerification.Missing -- guard() checked the nonce.
		if ( ! in_array( $flow, self::BACKLOG_FLOWS, true ) || ! ctype_digit( $days ) || (int) $days < 1 || (int) $days > 365 ) {
			$this->notice( false, __( 'Nobody was started: choose a whole number of days from 1 to 365.', 'sales-companion' ) );
			$this->back();
		}
		$result = self::release_backlog( $this->client, $flow, (int) $days );
		$this->notice( $result['ok'], $result['message'] );
		$this->back();
	}

	/**
	 * Reads how many wait, then starts them over `$days` days.
	 *
	 * @param Client $client Client.
	 * @param string $flow   win_back, vip or replenishment.
	 * @param int    $days   Days to spread them over.
	 * @return array{ok: bool, message: string}
	 */
	public static function release_backlog( Client $client, $flow, $days ) {
		$waiting = $client->api( 'GET', 'flows/' . $flow . '/backlog', null, 10 );
		if ( 200 !== $waiting['status'] ) {
			return Client::explain( $waiting, '' );
		}
		$count = (int) ( $waiting['body']['waiting'] ?? 0 );
		if ( $count < 1 ) {
			return array(
				'ok'      => true,
				'message' => __( 'Nobody was waiting any more.', 'sales-companion' ),
			);
		}
		$result = $client->api( 'POST', 'flows/' . $flow . '/backlog', array( 'per_day' => (int) ceil( $count / $days ) ), 10 );
		$body   = is_array( $result['body'] ) ? $result['body'] : array();
		/* translators: 1: people started, 2: days */
		$done = sprintf( __( 'Started %1$d people: their first emails go out over %2$d days.', 'sales-companion' ), (int) ( $body['started'] ?? 0 ), (int) ( $body['days'] ?? 0 ) );
		return Client::explain( $result, $done );
	}

	/**
	 * After the settings were saved: flows go to the service at once.
	 *
	 * @param mixed $old_value Old settings.
	 * @param mixed $value     New settings.
	 * @return void
	 */
	public function after_settings_saved( $old_value, $value ) {
		$defaults = $this->settings->defaults();
		$before   = array_merge( $defaults, is_array( $old_value ) ? $old_value : array() );
		$after    = array_merge( $defaults, is_array( $value ) ? $value : array() );
		$changed  = false;
		foreach ( array( 'flows', 'sender_name', 'sender_email' ) as $key ) {
			$changed = $changed || $before[ $key ] !== $after[ $key ];
		}
		if ( $changed && $this->settings->is_connected() ) {
			$result = $this->push_flows( self::cleared_subjects( (array) $before['flows'], (array) $after['flows'] ) );
			$this->notice( $result['ok'], $result['message'] );
		}
	}

	/**
	 * Flows whose first-email subject B the owner emptied in this save: only those send
	 * `subject_b: null` (the test ends); an empty field otherwise sends nothing, so a test
	 * started or ended in the dashboard is left as it is.
	 *
	 * @param array $before Flows before the save.
	 * @param array $after  Flows after it.
	 * @return string[] Flow keys.
	 */
	public static function cleared_subjects( array $before, array $after ) {
		$cleared = array();
		foreach ( $after as $key => $flow ) {
			$was = isset( $before[ $key ]['subject_b'] ) ? (string) $before[ $key ]['subject_b'] : '';
			if ( '' !== $was && '' === (string) ( $flow['subject_b'] ?? '' ) ) {
				$cleared[] = (string) $key;
			}
		}
		return $cleared;
	}

	/**
	 * The first save of the settings: WordPress's update_option() adds a missing option
	 * with add_option(), which fires add_option_{$option} and not update_option_{$option}.
	 * The service knows nothing of this shop's flows yet, so they are pushed whatever
	 * they are.
	 *
	 * @param string $option Option name.
	 * @param mixed  $value  Saved settings.
	 * @return void
	 */
	public function after_settings_added( $option, $value ) {
		if ( $this->settings->is_connected() ) {
			$result = $this->push_flows();
			$this->notice( $result['ok'], $result['message'] );
		}
	}

	/**
	 * PUT /v1/sites/<id>/flows with the flow switches, delays, first-email subject B and sender.
	 *
	 * @param string[] $cleared Flows whose subject B was just emptied (cleared_subjects()).
	 * @return array{ok: bool, message: string}
	 */
	public function push_flows( array $cleared = array() ) {
		$result = $this->client->api( 'PUT', 'flows', self::flows_payload( $this->settings->all(), $cleared ) );
		return Client::explain( $result, __( 'Flow settings saved on the service.', 'sales-companion' ) );
	}

	/**
	 * The flows body, in the service's contract (docs/flows.md, "Settings"; the
	 * OpenAPI document's FlowsUpdate): the sender is the shared `settings`, an empty
	 * field sent as null so the service's default (the store's name, shop@<domain>)
	 * applies; a flow's delay is its first step's. The service refuses fields it does not
	 * know, so this shape is the only one that saves.
	 *
	 * A first email's subject B (a subject A/B test, docs/flows.md) is sent when set, and as
	 * null only for the flows in `$cleared`; the service checks it as it checks a subject and
	 * answers 422 naming `flows.<key>.steps.0.subject_b` when it cannot be rendered.
	 *
	 * @param array    $settings Settings.
	 * @param string[] $cleared  Flows whose subject B the owner just emptied.
	 * @return array
	 */
	public static function flows_payload( array $settings, array $cleared = array() ) {
		$flows = array();
		foreach ( (array) $settings['flows'] as $key => $flow ) {
			$first     = array(
				'step'        => 1,
				'delay_hours' => self::first_delay( (string) $key, (int) $flow['delay_hours'] ),
			);
			$subject_b = (string) ( $flow['subject_b'] ?? '' );
			if ( '' !== $subject_b ) {
				$first['subject_b'] = $subject_b;
			} elseif ( in_array( (string) $key, $cleared, true ) ) {
				$first['subject_b'] = null;
			}
			$flows[ $key ] = array(
				'enabled' => (bool) $flow['enabled'],
				'steps'   => array( $first ),
			);
			$kind = (string) ( $flow['coupon']['kind'] ?? '' );
			if ( '' !== $kind ) {
				$flows[ $key ]['coupon'] = self::coupon_payload( (array) $flow['coupon'] );
			}
		}
		$shared  = array(
			'from_name'  => '' === (string) $settings['sender_name'] ? null : (string) $settings['sender_name'],
			'from_email' => '' === (string) $settings['sender_email'] ? null : (string) $settings['sender_email'],
		);
		$address = self::store_address();
		if ( '' !== $address ) {
			// Left out when WooCommerce has none, so an address set on the service stays.
			$shared['postal_address'] = $address;
		}
		return array(
			'settings' => $shared,
			'flows'    => $flows,
		);
	}

	/**
	 * A flow's coupon in the service's contract (docs/flows.md, "Coupons"): null for none,
	 * one static code, or a single-use template.
	 *
	 * @param array $coupon Coupon as the settings page keeps it.
	 * @return array|null
	 */
	public static function coupon_payload( array $coupon ) {
		if ( 'static' === $coupon['kind'] ) {
			return array(
				'kind' => 'static',
				'code' => (string) $coupon['code'],
			);
		}
		if ( 'unique' !== $coupon['kind'] ) {
			return null;
		}
		return array(
			'kind'           => 'unique',
			'discount_type'  => (string) $coupon['discount_type'],
			'amount'         => (string) $coupon['amount'],
			'days_valid'     => (int) $coupon['days_valid'],
			'minimum_amount' => '' === (string) $coupon['minimum_amount'] ? null : (string) $coupon['minimum_amount'],
		);
	}

	/**
	 * WooCommerce's store address (WooCommerce > Settings > General) on one line, for the
	 * footer of every mail (US CAN-SPAM Act). Read the way WC_Countries reads it
	 * (woocommerce/includes/class-wc-countries.php, get_base_address(), get_base_address_2(),
	 * get_base_city(), get_base_postcode(), get_base_country(), get_base_state(): get_option()
	 * of woocommerce_store_address, woocommerce_store_address_2, woocommerce_store_city,
	 * woocommerce_store_postcode and woocommerce_default_country "CC:STATE", each through its
	 * woocommerce_countries_base_* filter).
	 *
	 * @return string Empty when the store has no address (or no WooCommerce).
	 */
	public static function store_address() {
		$part    = static function ( $option, $filter ) {
			return trim( (string) apply_filters( 'woocommerce_countries_base_' . $filter, get_option( $option, '' ) ) );
		};
		$street  = $part( 'woocommerce_store_address', 'address' );
		$street2 = $part( 'woocommerce_store_address_2', 'address_2' );
		$city    = $part( 'woocommerce_store_city', 'city' );
		$code    = $part( 'woocommerce_store_postcode', 'postcode' );
		$place   = explode( ':', (string) get_option( 'woocommerce_default_country', '' ) . ':' );
		$country = trim( (string) apply_filters( 'woocommerce_countries_base_country', $place[0] ) );
		$state   = trim( (string) apply_filters( 'woocommerce_countries_base_state', $place[1] ) );
		if ( '' === $street . $city ) {
			return '';
		}
		$names = function_exists( 'WC' ) && isset( WC()->countries->countries ) ? (array) WC()->countries->countries : array();
		$lines = array( $street, $street2, $city, trim( $state . ' ' . $code ), $names[ $country ] ?? $country );
		return implode( ', ', array_filter( $lines, 'strlen' ) );
	}

	/**
	 * The service counts a step's delay from the trigger's moment: a renewal reminder's
	 * trigger is the expiry, and its first email goes before it, so the hours the owner
	 * typed ("before expiry") are negative there.
	 *
	 * @param string $key   Flow key.
	 * @param int    $hours Hours as typed on the settings page.
	 * @return int
	 */
	private static function first_delay( $key, $hours ) {
		return 'renewal_reminder' === $key ? -$hours : $hours;
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
		$view = new Admin_View( $this->settings, $this->outbox );
		$view->render( get_transient( self::NOTICE . get_current_user_id() ) );
		delete_transient( self::NOTICE . get_current_user_id() );
	}
}
