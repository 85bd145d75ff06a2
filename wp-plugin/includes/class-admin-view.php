<?php
/**
 * HTML of the settings page. Every value printed goes through esc_*.
 *
 * @package SalesCompanion
 */

namespace SalesCompanion;

if ( ! defined( 'ABSPATH' ) ) {
	exit;
}

/**
 * Renders the settings form, the status panel and the action buttons.
 */
class Admin_View {

	/**
	 * Settings.
	 *
	 * @var Settings
	 */
	private $settings;

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
	 * @param Outbox   $outbox   Outbox.
	 */
	public function __construct( Settings $settings, Outbox $outbox ) {
		$this->settings = $settings;
		$this->outbox   = $outbox;
	}

	/**
	 * The whole page.
	 *
	 * @param mixed $notice Notice from the last action.
	 * @return void
	 */
	public function render( $notice ) {
		echo '<div class="wrap"><h1>' . esc_html__( 'Sales Companion', 'sales-companion' ) . '</h1>';
		// "Settings saved." and the sanitiser's messages: WordPress prints them by itself only on
		// pages under its Settings menu (options-head.php), and this page is under Sales Companion.
		settings_errors();
		if ( is_array( $notice ) ) {
			printf( '<div class="notice notice-%1$s"><p>%2$s</p></div>', esc_attr( $notice['ok'] ? 'success' : 'error' ), esc_html( $notice['message'] ) );
		}
		$this->status_panel();
		echo '<form method="post" action="' . esc_url( admin_url( 'options.php' ) ) . '">';
		settings_fields( 'sales_companion' );
		$this->connection_fields();
		$this->source_fields();
		$this->tracking_fields();
		$this->flow_fields();
		submit_button();
		echo '</form>';
		$this->action_button( 'sales_companion_test', __( 'Test connection', 'sales-companion' ) );
		$this->action_button( 'sales_companion_flows', __( 'Push flow settings now', 'sales-companion' ) );
		if ( $this->settings->is_connected() ) {
			$this->backlog_forms( Plugin::instance()->get( 'client' ) );
		}
		echo '</div>';
	}

	/**
	 * "People from before a flow started": per scanned flow with people waiting, how many and
	 * "Also send to these N people" over the days chosen (Admin::handle_release_backlog).
	 *
	 * @param Client $client Client.
	 * @return void
	 */
	public function backlog_forms( Client $client ) {
		$texts = self::flow_texts();
		$rows  = array();
		foreach ( Admin::BACKLOG_FLOWS as $key ) {
			$answer  = $client->api( 'GET', 'flows/' . $key . '/backlog', null, 5 );
			$waiting = 200 === $answer['status'] ? (int) ( $answer['body']['waiting'] ?? 0 ) : 0;
			if ( $waiting > 0 ) {
				$rows[ $key ] = $waiting;
			}
		}
		if ( ! $rows ) {
			return;
		}
		echo '<h2>' . esc_html__( 'People from before a flow started', 'sales-companion' ) . '</h2>';
		echo '<p class="description">' . esc_html__( 'When these flows started, everyone who already qualified was held, not mailed. Reaching them is your choice; they are spread over the days you choose, never sent at once.', 'sales-companion' ) . '</p>';
		foreach ( $rows as $key => $waiting ) {
			echo '<form method="post" action="' . esc_url( admin_url( 'admin-post.php' ) ) . '" class="sc-backlog" data-flow="' . esc_attr( $key ) . '"><p>';
			echo '<input type="hidden" name="action" value="sales_companion_backlog">';
			echo '<input type="hidden" name="flow" value="' . esc_attr( $key ) . '">';
			echo '<input type="hidden" name="_wpnonce" value="' . esc_attr( wp_create_nonce( 'sales_companion_backlog' ) ) . '">';
			wp_referer_field();
			/* translators: 1: flow name, 2: people waiting */
			echo '<strong>' . esc_html( sprintf( _n( '%1$s: %2$s person waits.', '%1$s: %2$s people wait.', $waiting, 'sales-companion' ), $texts[ $key ][0], number_format_i18n( $waiting ) ) ) . '</strong> ';
			printf(
				'<label>%1$s <input type="number" min="1" max="365" step="1" class="small-text" name="days" value="%2$d"></label> ',
				esc_html__( 'Spread over days:', 'sales-companion' ),
				(int) max( 1, ceil( $waiting / 50 ) )
			);
			/* translators: %s: people waiting */
			submit_button( sprintf( _n( 'Also send to this %s person', 'Also send to these %s people', $waiting, 'sales-companion' ), number_format_i18n( $waiting ) ), 'secondary', 'sales_companion_backlog_' . $key, false );
			echo '</p></form>';
		}
	}

	/**
	 * A small admin-post form with its nonce.
	 *
	 * @param string $action Action and nonce name.
	 * @param string $label  Button label.
	 * @return void
	 */
	private function action_button( $action, $label ) {
		echo '<form method="post" action="' . esc_url( admin_url( 'admin-post.php' ) ) . '" style="display:inline-block;margin-right:8px">';
		echo '<input type="hidden" name="action" value="' . esc_attr( $action ) . '">';
		// The nonce field's id must be unique too: the page holds several of these forms.
		echo '<input type="hidden" name="_wpnonce" value="' . esc_attr( wp_create_nonce( $action ) ) . '">';
		wp_referer_field();
		// submit_button() gives the button the id of its name; "submit" is the Save button's, so
		// each action button gets its own (a label click or script aimed at #submit hit "Retry now").
		submit_button( $label, 'secondary', $action . '_button', false );
		echo '</form>';
	}

	/**
	 * A text input row.
	 *
	 * @param string $key         Setting.
	 * @param string $label       Label.
	 * @param string $type        Input type.
	 * @param string $value       Value shown.
	 * @param string $placeholder Placeholder.
	 * @return void
	 */
	private function input_row( $key, $label, $type, $value, $placeholder = '' ) {
		printf(
			'<tr><th scope="row"><label for="sc-%1$s">%2$s</label></th><td><input class="regular-text" id="sc-%1$s" type="%3$s" name="%4$s[%1$s]" value="%5$s" placeholder="%6$s" autocomplete="off"></td></tr>',
			esc_attr( $key ),
			esc_html( $label ),
			esc_attr( $type ),
			esc_attr( Settings::OPTION ),
			esc_attr( $value ),
			esc_attr( $placeholder )
		);
	}

	/**
	 * Service URL, site id, secret and token; secrets are never printed.
	 *
	 * @return void
	 */
	private function connection_fields() {
		$s = $this->settings->all();
		echo '<h2>' . esc_html__( 'Connection', 'sales-companion' ) . '</h2><table class="form-table">';
		$this->input_row( 'service_url', __( 'Service URL', 'sales-companion' ), 'url', $s['service_url'], 'https://companion.example.com' );
		$this->input_row( 'site_id', __( 'Site id', 'sales-companion' ), 'text', $s['site_id'] );
		$this->secret_row( 'secret', __( 'Signing secret', 'sales-companion' ), $s['secret'], 'whsec_...' );
		$this->secret_row( 'api_token', __( 'API token', 'sales-companion' ), $s['api_token'], '' );
		echo '</table>';
	}

	/**
	 * A secret's input, always empty; what is saved is said below it in full words (a
	 * placeholder is cut off by the input's width).
	 *
	 * @param string $key         Setting.
	 * @param string $label       Label.
	 * @param string $saved       Saved value ('' when none).
	 * @param string $placeholder Placeholder while nothing is saved.
	 * @return void
	 */
	private function secret_row( $key, $label, $saved, $placeholder ) {
		$this->input_row( $key, $label, 'password', '', '' === $saved ? $placeholder : '' );
		if ( '' === $saved ) {
			return;
		}
		printf(
			'<tr><td></td><td style="padding-top:0"><p class="description" id="sc-%1$s-saved">%2$s <code>%3$s</code>. %4$s</p></td></tr>',
			esc_attr( $key ),
			esc_html__( 'Saved:', 'sales-companion' ),
			esc_html( Settings::mask( $saved ) ),
			esc_html__( 'Leave the field blank to keep it; type a new one to replace it.', 'sales-companion' )
		);
	}

	/**
	 * A checkbox.
	 *
	 * @param string $name    Field name.
	 * @param bool   $checked Checked.
	 * @param string $label   Label.
	 * @param bool   $enabled Enabled.
	 * @param string $value   Value.
	 * @return void
	 */
	private function checkbox( $name, $checked, $label, $enabled = true, $value = '1' ) {
		printf(
			'<label style="display:block"><input type="checkbox" name="%1$s" value="%2$s"%3$s%4$s> %5$s</label>',
			esc_attr( $name ),
			esc_attr( $value ),
			checked( $checked, true, false ),
			disabled( $enabled, false, false ),
			esc_html( $label )
		);
	}

	/**
	 * Which sources are active.
	 *
	 * @return void
	 */
	private function source_fields() {
		$labels   = array(
			'woocommerce' => 'WooCommerce',
			'edd'         => 'Easy Digital Downloads',
			'fluentcart'  => 'FluentCart',
		);
		$detected = $this->settings->detected_sources();
		$enabled  = (array) $this->settings->get( 'sources' );
		echo '<h2>' . esc_html__( 'Stores', 'sales-companion' ) . '</h2><table class="form-table"><tr><th scope="row">' . esc_html__( 'Sources', 'sales-companion' ) . '</th><td>';
		foreach ( $labels as $key => $label ) {
			$found = in_array( $key, $detected, true );
			$this->checkbox( Settings::OPTION . '[sources][]', $found && in_array( $key, $enabled, true ), $found ? $label : $label . ' ' . __( '(not installed)', 'sales-companion' ), $found, $key );
		}
		echo '</td></tr></table>';
	}

	/**
	 * Tracking options.
	 *
	 * @return void
	 */
	private function tracking_fields() {
		$s    = $this->settings->all();
		$rows = array(
			'track_views'     => __( 'Product and page views (tracker script)', 'sales-companion' ),
			'track_carts'     => __( 'Carts', 'sales-companion' ),
			'capture_email'   => __( 'Checkout email capture for guest carts', 'sales-companion' ),
			'respect_consent' => __( 'Respect the WP Consent API where present', 'sales-companion' ),
		);
		echo '<h2>' . esc_html__( 'Tracking', 'sales-companion' ) . '</h2><table class="form-table"><tr><th scope="row">' . esc_html__( 'Record', 'sales-companion' ) . '</th><td>';
		foreach ( $rows as $key => $label ) {
			$this->checkbox( Settings::OPTION . '[' . $key . ']', (bool) $s[ $key ], $label );
		}
		echo '</td></tr></table>';
	}

	/**
	 * Each flow's name and what its delay counts from, in the words of docs/flows.md (the
	 * service's trigger table): "first email after 0 hours" means nothing to an owner when the
	 * flow starts from a daily check rather than from something the shopper did.
	 *
	 * @return array<string, array{0: string, 1: string, 2: string}> Title, words before and after the hours, note.
	 */
	public static function flow_texts() {
		return array(
			'post_purchase'      => array( __( 'Post-purchase', 'sales-companion' ), __( 'First email', 'sales-companion' ), __( 'hours after the order is paid', 'sales-companion' ), '' ),
			'abandoned_cart'     => array( __( 'Abandoned cart', 'sales-companion' ), __( 'First email', 'sales-companion' ), __( 'hours after the cart went idle', 'sales-companion' ), __( 'A cart with a known email counts as idle after 1 hour without changes.', 'sales-companion' ) ),
			'browse_abandonment' => array( __( 'Browse abandonment', 'sales-companion' ), __( 'Email', 'sales-companion' ), __( 'hours after the last product viewed', 'sales-companion' ), __( 'Only when no cart or order followed the views.', 'sales-companion' ) ),
			'cross_sell'         => array( __( 'Cross-sell', 'sales-companion' ), __( 'Email', 'sales-companion' ), __( 'hours after a paid order', 'sales-companion' ), '' ),
			'win_back'           => array( __( 'Win-back', 'sales-companion' ), __( 'First email', 'sales-companion' ), __( 'hours after the customer is found lapsing', 'sales-companion' ), __( 'A daily check finds customers past their usual time to reorder (or 90 days without an order when there is too little history to predict). 0 = on the day they are found.', 'sales-companion' ) ),
			'vip'                => array( __( 'VIP', 'sales-companion' ), __( 'Email', 'sales-companion' ), __( 'hours after the customer becomes a VIP', 'sales-companion' ), __( 'A daily check finds new VIPs (the top spenders; 5 orders when there is too little history). Sent once per customer. 0 = on the day they become one.', 'sales-companion' ) ),
			'replenishment'      => array( __( 'Replenishment', 'sales-companion' ), __( 'Email', 'sales-companion' ), __( 'hours after the reorder reminder is due', 'sales-companion' ), __( 'Due when 85 % of the time customers usually take to reorder that product has passed since the purchase. 0 = on that day.', 'sales-companion' ) ),
			'renewal_reminder'   => array( __( 'Renewal reminder', 'sales-companion' ), __( 'First reminder', 'sales-companion' ), __( 'hours before the subscription or licence expires', 'sales-companion' ), '' ),
		);
	}

	/**
	 * Flows on/off, delays and sender.
	 *
	 * @return void
	 */
	private function flow_fields() {
		$s     = $this->settings->all();
		$texts = self::flow_texts();
		echo '<h2>' . esc_html__( 'Email flows', 'sales-companion' ) . '</h2><table class="form-table">';
		$this->input_row( 'sender_name', __( 'Sender name', 'sales-companion' ), 'text', $s['sender_name'] );
		$this->input_row( 'sender_email', __( 'Sender address', 'sales-companion' ), 'email', $s['sender_email'] );
		foreach ( $s['flows'] as $key => $flow ) {
			$base = Settings::OPTION . '[flows][' . $key . ']';
			$text = isset( $texts[ $key ] ) ? $texts[ $key ] : array( $key, __( 'First email', 'sales-companion' ), __( 'hours later', 'sales-companion' ), '' );
			printf(
				'<tr><th scope="row">%1$s</th><td><label><input type="checkbox" name="%2$s[enabled]" value="1"%3$s> %4$s</label> &nbsp; <label>%5$s <input type="number" min="0" max="8760" class="small-text" name="%2$s[delay_hours]" value="%6$d"> %7$s</label>%8$s<p><label>%9$s <input type="text" class="regular-text" name="%2$s[subject_b]" value="%10$s" placeholder="%11$s"></label></p></td></tr>',
				esc_html( $text[0] ),
				esc_attr( $base ),
				checked( ! empty( $flow['enabled'] ), true, false ),
				esc_html__( 'On', 'sales-companion' ),
				esc_html( $text[1] ),
				(int) $flow['delay_hours'],
				esc_html( $text[2] ),
				'' === $text[3] ? '' : '<p class="description">' . esc_html( $text[3] ) . '</p>',
				esc_html__( 'Subject B of the first email (A/B test):', 'sales-companion' ),
				esc_attr( (string) ( $flow['subject_b'] ?? '' ) ),
				esc_attr__( 'empty: no test', 'sales-companion' )
			);
			if ( isset( $flow['coupon'] ) ) {
				$this->coupon_row( $base . '[coupon]', array_merge( Settings::COUPON_DEFAULTS, (array) $flow['coupon'] ) );
			}
		}
		echo '</table>';
	}

	/**
	 * A flow's coupon: left to the service's dashboard, none, one code, or a single-use
	 * code per customer that WooCommerce makes for each mail.
	 *
	 * @param string $base   Field name prefix.
	 * @param array  $coupon Saved coupon.
	 * @return void
	 */
	private function coupon_row( $base, array $coupon ) {
		$kinds = array(
			''       => __( 'As set in the Sales Companion dashboard', 'sales-companion' ),
			'none'   => __( 'No coupon', 'sales-companion' ),
			'static' => __( 'One code made in the store', 'sales-companion' ),
			'unique' => __( 'A single-use code per customer (WooCommerce)', 'sales-companion' ),
		);
		$types = array(
			'percent'    => __( 'Percentage off', 'sales-companion' ),
			'fixed_cart' => __( 'Amount off the cart', 'sales-companion' ),
		);
		$select = static function ( $name, array $options, $current ) {
			$html = '<select name="' . esc_attr( $name ) . '">';
			foreach ( $options as $value => $label ) {
				$html .= '<option value="' . esc_attr( $value ) . '"' . selected( (string) $current, (string) $value, false ) . '>' . esc_html( $label ) . '</option>';
			}
			return $html . '</select>';
		};
		$input = static function ( $name, $value, $size = 'small-text' ) {
			return '<input type="text" class="' . esc_attr( $size ) . '" name="' . esc_attr( $name ) . '" value="' . esc_attr( (string) $value ) . '">';
		};
		echo '<tr><th scope="row">' . esc_html__( 'Coupon', 'sales-companion' ) . '</th><td>';
		echo $select( $base . '[kind]', $kinds, $coupon['kind'] ); // phpcs:ignore WordPress.Security.EscapeOutput.OutputNotEscaped -- escaped above.
		echo ' <label>' . esc_html__( 'Code', 'sales-companion' ) . ' ' . $input( $base . '[code]', $coupon['code'], 'regular-text' ) . '</label>'; // phpcs:ignore WordPress.Security.EscapeOutput.OutputNotEscaped
		echo '<p>' . $select( $base . '[discount_type]', $types, $coupon['discount_type'] ); // phpcs:ignore WordPress.Security.EscapeOutput.OutputNotEscaped
		echo ' <label>' . esc_html__( 'Amount', 'sales-companion' ) . ' ' . $input( $base . '[amount]', $coupon['amount'] ) . '</label>'; // phpcs:ignore WordPress.Security.EscapeOutput.OutputNotEscaped
		echo ' <label>' . esc_html__( 'Valid for days', 'sales-companion' ) . ' ' . $input( $base . '[days_valid]', $coupon['days_valid'] ) . '</label>'; // phpcs:ignore WordPress.Security.EscapeOutput.OutputNotEscaped
		echo ' <label>' . esc_html__( 'Minimum spend', 'sales-companion' ) . ' ' . $input( $base . '[minimum_amount]', $coupon['minimum_amount'] ) . '</label></p>'; // phpcs:ignore WordPress.Security.EscapeOutput.OutputNotEscaped
		echo '<p class="description">' . esc_html__( 'Single-use: WooCommerce makes each customer their own code (usable once, only with their email address, until the end of the last valid day) before their email goes. Amount and days only count for single-use codes.', 'sales-companion' ) . '</p></td></tr>';
	}

	/**
	 * Events waiting, last delivery, last error, failed events, history sync.
	 *
	 * @return void
	 */
	private function status_panel() {
		$counts = $this->outbox->counts();
		$state  = Plugin::instance()->get( 'delivery' )->state();
		$sync   = Plugin::instance()->get( 'history' )->state();
		$never  = __( 'never', 'sales-companion' );
		$when   = static function ( $ts ) use ( $never ) {
			return $ts ? wp_date( get_option( 'date_format' ) . ' ' . get_option( 'time_format' ), (int) $ts ) : $never;
		};
		echo '<div class="card" style="max-width:none"><h2>' . esc_html__( 'Status', 'sales-companion' ) . '</h2><table class="widefat striped"><tbody>';
		$rows = array(
			__( 'Events waiting', 'sales-companion' ) => (string) $counts['pending'],
			__( 'Events failed', 'sales-companion' )  => (string) $counts['failed'],
			__( 'Last delivery', 'sales-companion' )  => $when( $state['last_delivery_at'] ),
			__( 'Last error', 'sales-companion' )     => $this->last_error( $state, $when ),
			__( 'Next attempt', 'sales-companion' )   => $this->next_attempt( (int) $counts['pending'], (int) $state['retry_at'], $when ),
			__( 'History sync', 'sales-companion' )   => $sync['running'] ? sprintf( '%d / %d', $sync['done'], $sync['total'] ) : ( $sync['finished_at'] ? sprintf( '%d / %d, %s', $sync['done'], $sync['total'], $when( $sync['finished_at'] ) ) : '—' ),
		);
		if ( Scheduler::wake_is_off( time() ) ) {
			$rows[ __( 'Delivery', 'sales-companion' ) ] = sprintf(
				/* translators: %s: date and time. */
				__( 'started by WP-Cron since %s: this site\'s requests to its own admin-ajax.php did not arrive (HTTP authentication or a firewall in front of the site?). Events still go out, within minutes instead of seconds; a day later the faster way is tried again.', 'sales-companion' ),
				$when( (int) get_option( Scheduler::WAKE_OFF ) )
			);
		}
		foreach ( $rows as $label => $value ) {
			echo '<tr><th>' . esc_html( $label ) . '</th><td>' . esc_html( $value ) . '</td></tr>';
		}
		echo '</tbody></table>';
		$this->failure_list();
		echo '<p>';
		$this->action_button( 'sales_companion_retry', __( 'Retry now', 'sales-companion' ) );
		$this->action_button( 'sales_companion_sync', __( 'Sync history', 'sales-companion' ) );
		echo '</p></div>';
	}

	/**
	 * The last delivery error, while it still holds: once a later delivery went through, the
	 * error is history and the row says so instead of showing it as current.
	 *
	 * @param array    $state Delivery state.
	 * @param callable $when  Formats a time.
	 * @return string
	 */
	private function last_error( array $state, $when ) {
		if ( '' === $state['last_error'] ) {
			return __( 'none', 'sales-companion' );
		}
		if ( (int) $state['last_delivery_at'] >= (int) $state['last_error_at'] ) {
			/* translators: %s: date and time of the last error */
			return sprintf( __( 'none since the last delivery (the previous one was on %s)', 'sales-companion' ), $when( $state['last_error_at'] ) );
		}
		return $state['last_error'] . ' (' . $when( $state['last_error_at'] ) . ')';
	}

	/**
	 * When delivery will next be tried, from what is really scheduled (never a
	 * promise with nothing scheduled behind it).
	 *
	 * @param int      $pending  Events waiting.
	 * @param int      $retry_at End of the backoff (0 when none).
	 * @param callable $when     Formats a time.
	 * @return string
	 */
	private function next_attempt( $pending, $retry_at, $when ) {
		$next = ( new Scheduler() )->next_delivery();
		if ( $next ) {
			// A run before the end of the backoff only waits for it.
			return $when( max( $next, $retry_at ) );
		}
		if ( $pending > 0 ) {
			return __( 'nothing is scheduled; press "Retry now" to deliver the waiting events', 'sales-companion' );
		}
		return __( 'as soon as events arrive', 'sales-companion' );
	}

	/**
	 * The latest failed events with the service's reason.
	 *
	 * @return void
	 */
	private function failure_list() {
		$failures = $this->outbox->failures( 10 );
		if ( ! $failures ) {
			return;
		}
		echo '<h3>' . esc_html__( 'Failed events', 'sales-companion' ) . '</h3><table class="widefat"><tbody>';
		foreach ( $failures as $row ) {
			printf( '<tr><td><code>%1$s</code></td><td>%2$s</td><td>%3$s</td></tr>', esc_html( $row->event_id ), esc_html( $row->event_type ), esc_html( Client::readable_reason( (string) $row->last_error ) ) );
		}
		echo '</tbody></table>';
	}
}
