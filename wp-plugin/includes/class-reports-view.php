<?php
/**
 * HTML of the Reports page and the Dashboard widget. Every value printed goes through esc_*.
 *
 * @package SalesCompanion
 */

namespace SalesCompanion;

if ( ! defined( 'ABSPATH' ) ) {
	exit;
}

/**
 * Cards with currency and reasons, a revenue chart (inline SVG: no script, nothing third-party
 * shipped), alerts, top products and flow revenue, each with a link into the full dashboard.
 */
class Reports_View {

	const CARDS = array( 'total_revenue', 'net_revenue', 'orders', 'aov', 'refunds', 'conversion_rate', 'cart_abandonment_rate', 'email_revenue' );

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
	 * Metric names as an owner reads them.
	 *
	 * @return array<string, string>
	 */
	public static function metric_titles() {
		return array(
			'total_revenue'         => __( 'Total revenue', 'sales-companion' ),
			'net_revenue'           => __( 'Net revenue', 'sales-companion' ),
			'orders'                => __( 'Orders', 'sales-companion' ),
			'aov'                   => __( 'Average order value', 'sales-companion' ),
			'refunds'               => __( 'Refunds', 'sales-companion' ),
			'conversion_rate'       => __( 'Conversion rate', 'sales-companion' ),
			'cart_abandonment_rate' => __( 'Cart abandonment rate', 'sales-companion' ),
			'email_revenue'         => __( 'Email revenue', 'sales-companion' ),
		);
	}

	/**
	 * A value as the owner reads it: money with its currency, ratios in percent.
	 *
	 * @param mixed  $value    Number, decimal string or null.
	 * @param string $unit     money, ratio or count.
	 * @param string $currency ISO 4217 code.
	 * @return string
	 */
	public static function format( $value, $unit, $currency ) {
		if ( null === $value || ! is_numeric( $value ) ) {
			return '—';
		}
		if ( 'ratio' === $unit ) {
			return number_format_i18n( (float) $value * 100, 1 ) . ' %';
		}
		if ( 'money' === $unit ) {
			return self::money( $value, $currency );
		}
		return number_format_i18n( (float) $value );
	}

	/**
	 * An amount with its currency: WooCommerce's symbol where WooCommerce knows it, else the code.
	 *
	 * @param mixed  $amount   Decimal string.
	 * @param string $currency ISO 4217 code.
	 * @return string
	 */
	public static function money( $amount, $currency ) {
		$number = number_format_i18n( (float) $amount, 2 );
		if ( '' !== $currency && function_exists( 'get_woocommerce_currency_symbol' ) ) {
			$symbol = html_entity_decode( (string) get_woocommerce_currency_symbol( $currency ), ENT_QUOTES, 'UTF-8' );
			if ( '' !== $symbol && $symbol !== $currency ) {
				return $symbol . $number;
			}
		}
		return trim( $number . ' ' . $currency );
	}

	/**
	 * Before the connection is filled in: say so, and where to fill it in.
	 *
	 * @param string $title Page title ('' inside the widget).
	 * @return void
	 */
	public function not_connected( $title ) {
		if ( '' !== $title ) {
			echo '<div class="wrap"><h1>' . esc_html( $title ) . '</h1>';
		}
		printf(
			'<div class="notice notice-info inline"><p><strong>%1$s</strong> %2$s <a href="%3$s">%4$s</a></p></div>',
			esc_html__( 'Sales Companion is not connected yet.', 'sales-companion' ),
			esc_html__( 'Reports appear here once the service URL, site id, signing secret and API token are saved.', 'sales-companion' ),
			esc_url( Admin::settings_url() ),
			esc_html__( 'Open the settings', 'sales-companion' )
		);
		if ( '' !== $title ) {
			echo '</div>';
		}
	}

	/**
	 * A link that signs the owner in to one page of the full dashboard (a GET with a nonce,
	 * handled by Admin::handle_open_dashboard).
	 *
	 * @param string $view  Dashboard page (overview, products, flows, customers).
	 * @param string $label Link text.
	 * @param string $from  Period start ('' for the dashboard's default).
	 * @param string $to    Period end.
	 * @return string HTML.
	 */
	public static function dashboard_link( $view, $label, $from = '', $to = '' ) {
		$args = array(
			'action' => 'sales_companion_dashboard',
			'view'   => $view,
		);
		if ( '' !== $from ) {
			$args['from'] = $from;
			$args['to']   = $to;
		}
		$url = wp_nonce_url( add_query_arg( $args, admin_url( 'admin-post.php' ) ), 'sales_companion_dashboard' );
		return sprintf( '<a href="%1$s" target="_blank" rel="noopener">%2$s &rarr;</a>', esc_url( $url ), esc_html( $label ) );
	}

	/**
	 * The Reports page.
	 *
	 * @param string $from    Period start.
	 * @param string $to      Period end.
	 * @param array  $answers Service answers by part.
	 * @return void
	 */
	public function page( $from, $to, array $answers ) {
		echo '<div class="wrap"><h1>' . esc_html__( 'Sales Companion reports', 'sales-companion' ) . '</h1>';
		$this->period_form( $from, $to );
		if ( ! $this->usable( $answers['metrics'] ) ) {
			echo '</div>';
			return;
		}
		$currency = (string) ( $answers['metrics']['body']['currency'] ?? '' );
		$this->cards( $answers['metrics']['body'], $currency );
		echo '<div style="display:grid;grid-template-columns:repeat(auto-fit,minmax(420px,1fr));gap:16px;margin-top:16px">';
		$this->section( __( 'Revenue', 'sales-companion' ), 'overview', __( 'Revenue in the dashboard', 'sales-companion' ), $from, $to, array( $this, 'chart' ), $answers['series'], $currency );
		$this->section( __( 'Open alerts', 'sales-companion' ), 'overview', __( 'Alerts in the dashboard', 'sales-companion' ), '', '', array( $this, 'alert_list' ), $answers['alerts'], $currency );
		$this->section( __( 'Top products', 'sales-companion' ), 'products', __( 'All products', 'sales-companion' ), $from, $to, array( $this, 'product_table' ), $answers['products'], $currency );
		$this->section( __( 'Revenue from email flows', 'sales-companion' ), 'flows', __( 'Flows in the dashboard', 'sales-companion' ), $from, $to, array( $this, 'flow_table' ), $answers['flows'], $currency );
		if ( isset( $answers['ab_tests'] ) && ! empty( $answers['ab_tests']['body']['tests'] ) ) {
			$this->section( __( 'Subject A/B tests', 'sales-companion' ), 'flows', __( 'Keep a subject in the dashboard', 'sales-companion' ), '', '', array( $this, 'ab_table' ), $answers['ab_tests'], $currency );
		}
		echo '</div>';
		echo '<p style="margin-top:16px">' . self::dashboard_link( 'overview', __( 'Open the full dashboard', 'sales-companion' ), $from, $to ) . ' <span class="description">' . esc_html__( '(signs you in with a link that works for 15 minutes)', 'sales-companion' ) . '</span></p>'; // phpcs:ignore WordPress.Security.EscapeOutput.OutputNotEscaped -- built escaped.
		echo '</div>';
	}

	/**
	 * The period form.
	 *
	 * @param string $from Date.
	 * @param string $to   Date.
	 * @return void
	 */
	private function period_form( $from, $to ) {
		printf(
			'<form method="get"><input type="hidden" name="page" value="%1$s"><label>%2$s <input type="date" name="from" value="%3$s"></label> <label>%4$s <input type="date" name="to" value="%5$s"></label> <button class="button">%6$s</button></form>',
			esc_attr( Reports::PAGE ),
			esc_html__( 'From', 'sales-companion' ),
			esc_attr( $from ),
			esc_html__( 'to', 'sales-companion' ),
			esc_attr( $to ),
			esc_html__( 'Show', 'sales-companion' )
		);
	}

	/**
	 * Whether an answer can be shown; if not, says why.
	 *
	 * @param array $result Service answer.
	 * @return bool
	 */
	private function usable( array $result ) {
		if ( 200 === $result['status'] && is_array( $result['body'] ) ) {
			return true;
		}
		if ( 404 === $result['status'] ) {
			$message = __( 'The service does not offer reports for this site yet (it answered 404). Check the site id, or update the service.', 'sales-companion' );
		} else {
			$message = Client::explain( $result, '' )['message'];
		}
		echo '<div class="notice notice-error inline"><p>' . esc_html( $message ) . '</p></div>';
		return false;
	}

	/**
	 * A boxed section with its link into the dashboard.
	 *
	 * @param string   $title    Heading.
	 * @param string   $view     Dashboard page.
	 * @param string   $label    Link text.
	 * @param string   $from     Period start ('' for none).
	 * @param string   $to       Period end.
	 * @param callable $body     Prints the content from the answer.
	 * @param array    $result   Service answer.
	 * @param string   $currency Currency.
	 * @return void
	 */
	private function section( $title, $view, $label, $from, $to, $body, array $result, $currency ) {
		echo '<div class="card" style="max-width:none;margin:0"><h2 style="display:flex;justify-content:space-between;align-items:baseline">' . esc_html( $title ) . ' <span style="font-size:13px;font-weight:normal">' . self::dashboard_link( $view, $label, $from, $to ) . '</span></h2>'; // phpcs:ignore WordPress.Security.EscapeOutput.OutputNotEscaped -- built escaped.
		if ( $this->usable( $result ) ) {
			call_user_func( $body, $result['body'], $currency );
		}
		echo '</div>';
	}

	/**
	 * The headline cards.
	 *
	 * @param array  $body     metrics answer.
	 * @param string $currency Currency.
	 * @return void
	 */
	private function cards( array $body, $currency ) {
		$metrics = isset( $body['metrics'] ) && is_array( $body['metrics'] ) ? $body['metrics'] : array();
		$titles  = self::metric_titles();
		echo '<div style="display:flex;flex-wrap:wrap;gap:12px;margin-top:16px">';
		foreach ( self::CARDS as $key ) {
			if ( isset( $metrics[ $key ] ) && is_array( $metrics[ $key ] ) ) {
				$this->card( $titles[ $key ], $metrics[ $key ], $currency );
			}
		}
		echo '</div>';
	}

	/**
	 * One card: the value, or "—" with the service's reason; the previous period and the change.
	 *
	 * @param string $title    Metric name.
	 * @param array  $metric   {value, unit, reason, previous, change_percent}.
	 * @param string $currency Currency.
	 * @return void
	 */
	private function card( $title, array $metric, $currency ) {
		$unit     = (string) ( $metric['unit'] ?? 'count' );
		$value    = $metric['value'] ?? null;
		$previous = self::format( $metric['previous'] ?? null, $unit, $currency );
		$change   = isset( $metric['change_percent'] ) && is_numeric( $metric['change_percent'] ) ? sprintf( ' (%s%s %%)', $metric['change_percent'] > 0 ? '+' : '', number_format_i18n( (float) $metric['change_percent'], 1 ) ) : '';
		echo '<div class="card" style="min-width:180px;max-width:260px;margin:0;padding:8px 14px"><h3 style="margin:6px 0">' . esc_html( $title ) . '</h3>';
		echo '<p style="font-size:22px;margin:0">' . esc_html( self::format( $value, $unit, $currency ) ) . '</p>';
		if ( null === $value && ! empty( $metric['reason'] ) ) {
			echo '<p class="description" style="margin:4px 0">' . esc_html( (string) $metric['reason'] ) . '</p>';
		}
		/* translators: %s: the value in the previous period of the same length */
		echo '<p class="description" style="margin:4px 0">' . esc_html( sprintf( __( 'Previous period: %s', 'sales-companion' ), $previous . $change ) ) . '</p></div>';
	}

	/**
	 * Revenue per day as an SVG bar chart, each bar titled with its day and amount.
	 *
	 * @param array  $body     metrics/series answer.
	 * @param string $currency Currency.
	 * @return void
	 */
	public function chart( array $body, $currency ) {
		$points = isset( $body['points'] ) && is_array( $body['points'] ) ? $body['points'] : array();
		$top    = 0.0;
		foreach ( $points as $point ) {
			$top = max( $top, (float) ( $point['value'] ?? 0 ) );
		}
		if ( ! $points || $top <= 0 ) {
			echo '<p>' . esc_html__( 'No revenue in this period yet.', 'sales-companion' ) . '</p>';
			return;
		}
		$width = 600;
		$high  = 180;
		$slot  = $width / count( $points );
		/* translators: 1: first day, 2: last day */
		$label = sprintf( __( 'Revenue from %1$s to %2$s', 'sales-companion' ), $points[0]['from'], end( $points )['to'] );
		printf( '<svg class="sc-revenue-chart" viewBox="0 0 %1$d %2$d" width="100%%" role="img" aria-label="%3$s" style="max-height:220px">', (int) $width, (int) ( $high + 20 ), esc_attr( $label ) );
		foreach ( array_values( $points ) as $i => $point ) {
			$amount = (float) ( $point['value'] ?? 0 );
			$bar    = $amount / $top * $high;
			printf(
				'<rect x="%1$.1f" y="%2$.1f" width="%3$.1f" height="%4$.1f" fill="#2271b1"><title>%5$s</title></rect>',
				$i * $slot + $slot * 0.1,
				$high - $bar,
				max( 1, $slot * 0.8 ),
				$bar,
				esc_html( $point['from'] . ': ' . self::money( $point['value'] ?? 0, $currency ) )
			);
		}
		printf( '<line x1="0" y1="%1$d" x2="%2$d" y2="%1$d" stroke="#8c8f94"/>', (int) $high, (int) $width );
		printf( '<text x="0" y="%1$d" font-size="11" fill="#50575e">%2$s</text>', (int) ( $high + 15 ), esc_html( (string) $points[0]['from'] ) );
		printf( '<text x="%1$d" y="%2$d" font-size="11" fill="#50575e" text-anchor="end">%3$s</text>', (int) $width, (int) ( $high + 15 ), esc_html( (string) end( $points )['from'] ) );
		printf( '<text x="2" y="11" font-size="11" fill="#50575e">%s</text>', esc_html( self::money( $top, $currency ) ) );
		echo '</svg>';
	}

	/**
	 * Open alerts, newest first.
	 *
	 * @param array  $body     alerts answer.
	 * @param string $currency Currency.
	 * @param int    $limit    Alerts shown.
	 * @return void
	 */
	public function alert_list( array $body, $currency, $limit = 5 ) {
		$alerts = isset( $body['alerts'] ) && is_array( $body['alerts'] ) ? $body['alerts'] : array();
		if ( ! $alerts ) {
			echo '<p>' . esc_html__( 'No open alerts: revenue, conversion and refunds are within their usual range.', 'sales-companion' ) . '</p>';
			return;
		}
		echo '<ul class="sc-alerts" style="margin:0">';
		foreach ( array_slice( $alerts, 0, $limit ) as $alert ) {
			printf( '<li><span class="dashicons dashicons-warning" style="color:#d63638"></span> <strong>%1$s</strong> <span class="description">(%2$s)</span><br>%3$s</li>', esc_html( (string) ( $alert['title'] ?? '' ) ), esc_html( (string) ( $alert['started_on'] ?? '' ) ), esc_html( (string) ( $alert['detail'] ?? '' ) ) );
		}
		echo '</ul>';
		if ( count( $alerts ) > $limit ) {
			/* translators: %d: alerts not listed */
			echo '<p class="description">' . esc_html( sprintf( _n( 'and %d more', 'and %d more', count( $alerts ) - $limit, 'sales-companion' ), count( $alerts ) - $limit ) ) . '</p>';
		}
	}

	/**
	 * The best-selling products of the period.
	 *
	 * @param array  $body     metrics/breakdown answer (by product).
	 * @param string $currency Currency.
	 * @return void
	 */
	public function product_table( array $body, $currency ) {
		// The service names a product only once it has received its product.updated; until then its
		// label is the store's id, and this shop knows the name (WooCommerce, EDD and FluentCart
		// products are all posts).
		$names = array();
		foreach ( (array) ( $body['groups'] ?? array() ) as $group ) {
			$key = (string) ( $group['key'] ?? '' );
			$title = ctype_digit( $key ) && (string) ( $group['label'] ?? $key ) === $key ? (string) get_post_field( 'post_title', (int) $key, 'raw' ) : '';
			if ( '' !== $title ) {
				$names[ $key ] = $title;
			}
		}
		$this->group_table( $body, $currency, __( 'Product', 'sales-companion' ), __( 'No product sold in this period.', 'sales-companion' ), $names );
	}

	/**
	 * Revenue attributed to each email flow in the period (net of refunds).
	 *
	 * @param array  $body     metrics/breakdown answer (by email_flow).
	 * @param string $currency Currency.
	 * @return void
	 */
	public function flow_table( array $body, $currency ) {
		$names = array();
		foreach ( Admin_View::flow_texts() as $key => $text ) {
			$names[ $key ] = $text[0];
		}
		$this->group_table( $body, $currency, __( 'Flow', 'sales-companion' ), __( 'No order was attributed to an email in this period yet (an order counts when it follows a click in an email within 5 days).', 'sales-companion' ), $names );
	}

	/**
	 * Each tested step: per subject, sent, click rate, orders and revenue, then the verdict
	 * (the service's winner rule, docs/flows.md "Subject A/B tests").
	 *
	 * @param array  $body     {"tests": [...]} from Reports::ab_tests().
	 * @param string $currency Currency.
	 * @return void
	 */
	public function ab_table( array $body, $currency ) {
		$names = array();
		foreach ( Admin_View::flow_texts() as $key => $text ) {
			$names[ $key ] = $text[0];
		}
		foreach ( (array) $body['tests'] as $test ) {
			$flow = isset( $names[ $test['flow'] ] ) ? $names[ $test['flow'] ] : $test['flow'];
			/* translators: 1: flow name, 2: email number */
			printf( '<h3 data-ab="%1$s-%2$d">%3$s</h3>', esc_attr( $test['flow'] ), (int) $test['step'], esc_html( sprintf( __( '%1$s, email %2$d', 'sales-companion' ), $flow, (int) $test['step'] ) ) );
			$ab = is_array( $test['ab_test'] ) ? $test['ab_test'] : null;
			if ( null === $ab ) {
				echo '<p>' . esc_html__( 'No mail sent with either subject yet.', 'sales-companion' ) . '</p>';
				continue;
			}
			printf( '<table class="widefat striped"><thead><tr><th>%1$s</th><th style="text-align:right">%2$s</th><th style="text-align:right">%3$s</th><th style="text-align:right">%4$s</th><th style="text-align:right">%5$s</th></tr></thead><tbody>', esc_html__( 'Subject', 'sales-companion' ), esc_html__( 'Sent', 'sales-companion' ), esc_html__( 'Click rate', 'sales-companion' ), esc_html__( 'Orders', 'sales-companion' ), esc_html__( 'Revenue', 'sales-companion' ) );
			foreach ( (array) ( $ab['variants'] ?? array() ) as $v ) {
				$name   = (string) ( $v['variant'] ?? '' );
				$label  = 'B' === $name ? $name . ': ' . $test['subject_b'] : $name;
				$winner = ( $ab['winner'] ?? null ) === $name ? ' ' . __( '(winner)', 'sales-companion' ) : '';
				$rate   = null === ( $v['click_rate'] ?? null ) ? '–' : number_format_i18n( 100 * (float) $v['click_rate'], 1 ) . '%';
				printf( '<tr data-variant="%1$s"><td>%2$s</td><td style="text-align:right">%3$s</td><td style="text-align:right">%4$s</td><td style="text-align:right">%5$s</td><td style="text-align:right">%6$s</td></tr>', esc_attr( $name ), esc_html( $label . $winner ), esc_html( number_format_i18n( (int) ( $v['sent'] ?? 0 ) ) ), esc_html( $rate ), esc_html( number_format_i18n( (int) ( $v['orders'] ?? 0 ) ) ), esc_html( self::money( $v['revenue'] ?? 0, $currency ) ) );
			}
			echo '</tbody></table>';
			echo '<p class="description">' . esc_html( (string) ( $ab['reason'] ?? '' ) ) . '</p>';
		}
	}

	/**
	 * A breakdown as a table: name, orders, revenue.
	 *
	 * @param array  $body     Breakdown answer.
	 * @param string $currency Currency.
	 * @param string $heading  First column.
	 * @param string $empty    Text when there are no groups.
	 * @param array  $names    Names by key (else the service's label).
	 * @return void
	 */
	private function group_table( array $body, $currency, $heading, $empty, array $names ) {
		$groups = isset( $body['groups'] ) && is_array( $body['groups'] ) ? $body['groups'] : array();
		if ( ! $groups ) {
			echo '<p>' . esc_html( $empty ) . '</p>';
			return;
		}
		printf( '<table class="widefat striped"><thead><tr><th>%1$s</th><th style="text-align:right">%2$s</th><th style="text-align:right">%3$s</th></tr></thead><tbody>', esc_html( $heading ), esc_html__( 'Orders', 'sales-companion' ), esc_html__( 'Revenue', 'sales-companion' ) );
		foreach ( $groups as $group ) {
			$key  = (string) ( $group['key'] ?? '' );
			$name = isset( $names[ $key ] ) ? $names[ $key ] : (string) ( $group['label'] ?? $key );
			printf( '<tr><td>%1$s</td><td style="text-align:right">%2$s</td><td style="text-align:right">%3$s</td></tr>', esc_html( $name ), esc_html( number_format_i18n( (int) ( $group['orders'] ?? 0 ) ) ), esc_html( self::money( $group['revenue'] ?? 0, $currency ) ) );
		}
		echo '</tbody></table>';
	}

	/**
	 * The Dashboard widget: today and the last 7 days, open alerts, links.
	 *
	 * @param array $answers today, week (metrics answers), alerts.
	 * @return void
	 */
	public function widget( array $answers ) {
		if ( ! $this->usable( $answers['week'] ) || ! $this->usable( $answers['today'] ) ) {
			return;
		}
		$currency = (string) ( $answers['week']['body']['currency'] ?? '' );
		$columns  = array(
			__( 'Today', 'sales-companion' )       => $answers['today']['body'],
			__( 'Last 7 days', 'sales-companion' ) => $answers['week']['body'],
		);
		echo '<table class="widefat" style="border:0"><thead><tr><th></th>';
		foreach ( array_keys( $columns ) as $label ) {
			echo '<th style="text-align:right">' . esc_html( $label ) . '</th>';
		}
		echo '</tr></thead><tbody>';
		$titles = self::metric_titles();
		foreach ( array( 'total_revenue', 'orders', 'net_revenue' ) as $key ) {
			echo '<tr><td>' . esc_html( $titles[ $key ] ) . '</td>';
			foreach ( $columns as $body ) {
				$metric = isset( $body['metrics'][ $key ] ) && is_array( $body['metrics'][ $key ] ) ? $body['metrics'][ $key ] : array();
				echo '<td style="text-align:right">' . esc_html( self::format( $metric['value'] ?? null, (string) ( $metric['unit'] ?? 'count' ), $currency ) ) . '</td>';
			}
			echo '</tr>';
		}
		echo '</tbody></table><h3 style="margin-top:12px">' . esc_html__( 'Open alerts', 'sales-companion' ) . '</h3>';
		if ( $this->usable( $answers['alerts'] ) ) {
			$this->alert_list( $answers['alerts']['body'], $currency, 3 );
		}
		printf(
			'<p><a href="%1$s">%2$s</a> &nbsp;|&nbsp; %3$s</p>',
			esc_url( admin_url( 'admin.php?page=' . Reports::PAGE ) ),
			esc_html__( 'Reports', 'sales-companion' ),
			self::dashboard_link( 'overview', __( 'Full dashboard', 'sales-companion' ) ) // phpcs:ignore WordPress.Security.EscapeOutput.OutputNotEscaped -- built escaped.
		);
	}
}
