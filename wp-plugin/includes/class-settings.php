<?php
/**
 * The plugin's settings: one option, sanitised on save.
 *
 * @package SalesCompanion
 */

namespace SalesCompanion;

if ( ! defined( 'ABSPATH' ) ) {
	exit;
}

/**
 * Reads and sanitises the `sales_companion_settings` option.
 */
class Settings {

	const OPTION = 'sales_companion_settings';

	/**
	 * Each flow's first delay in hours, the service's defaults (companion/flows/definitions.py);
	 * a renewal reminder's counts before the expiry.
	 */
	const FLOWS = array(
		'post_purchase'      => 1,
		'abandoned_cart'     => 1,
		'browse_abandonment' => 2,
		'cross_sell'         => 120,
		'win_back'           => 0,
		'vip'                => 0,
		'replenishment'      => 0,
		'renewal_reminder'   => 168,
	);

	/**
	 * The flows whose mails offer a coupon (companion/flows/coupons.py COUPON_STEPS).
	 */
	const COUPON_FLOWS = array( 'abandoned_cart', 'win_back' );

	/**
	 * A flow's coupon as the settings page keeps it. Kind '' leaves the service's coupon
	 * alone (set in its dashboard); 'none', 'static' and 'unique' are pushed.
	 */
	const COUPON_DEFAULTS = array(
		'kind'           => '',
		'code'           => '',
		'discount_type'  => 'percent',
		'amount'         => '',
		'days_valid'     => '',
		'minimum_amount' => '',
	);

	/**
	 * All settings with defaults filled in.
	 *
	 * @return array<string, mixed>
	 */
	public function all() {
		$saved = get_option( self::OPTION, array() );
		return array_merge( $this->defaults(), is_array( $saved ) ? $saved : array() );
	}

	/**
	 * One setting.
	 *
	 * @param string $key Setting name.
	 * @return mixed
	 */
	public function get( $key ) {
		$all = $this->all();
		return isset( $all[ $key ] ) ? $all[ $key ] : null;
	}

	/**
	 * Whether the service connection is filled in.
	 *
	 * @return bool
	 */
	public function is_connected() {
		return '' !== $this->get( 'service_url' ) && '' !== $this->get( 'site_id' ) && '' !== $this->get( 'secret' );
	}

	/**
	 * Defaults: tracking on, every flow on with the design's delays.
	 *
	 * @return array<string, mixed>
	 */
	public function defaults() {
		$flows = array();
		foreach ( self::FLOWS as $key => $hours ) {
			$flows[ $key ] = array(
				'enabled'     => true,
				'delay_hours' => $hours,
				'subject_b'   => '',
			);
			if ( in_array( $key, self::COUPON_FLOWS, true ) ) {
				$flows[ $key ]['coupon'] = self::COUPON_DEFAULTS;
			}
		}
		return array(
			'service_url'     => '',
			'site_id'         => '',
			'secret'          => '',
			'api_token'       => '',
			'sources'         => Hooks::SOURCES,
			'track_views'     => true,
			'track_carts'     => true,
			'capture_email'   => true,
			'respect_consent' => true,
			'flows'           => $flows,
			'sender_name'     => '',
			'sender_email'    => '',
		);
	}

	/**
	 * Store sources that are installed here.
	 *
	 * @return string[]
	 */
	public function detected_sources() {
		$found = array();
		if ( class_exists( 'WooCommerce' ) ) {
			$found[] = 'woocommerce';
		}
		if ( function_exists( 'EDD' ) || class_exists( 'Easy_Digital_Downloads' ) ) {
			$found[] = 'edd';
		}
		if ( class_exists( 'FluentCart\\App\\App' ) ) {
			$found[] = 'fluentcart';
		}
		return $found;
	}

	/**
	 * Detected sources the owner left switched on.
	 *
	 * @return string[]
	 */
	public function active_sources() {
		$enabled = (array) $this->get( 'sources' );
		return array_values( array_intersect( $this->detected_sources(), $enabled ) );
	}

	/**
	 * The signing key: the base64 part of the whsec_ secret, decoded.
	 *
	 * @return string Raw key bytes, '' when the secret is not set.
	 */
	public function signing_key() {
		$secret = (string) $this->get( 'secret' );
		if ( 0 === strpos( $secret, 'whsec_' ) ) {
			$secret = substr( $secret, 6 );
		}
		$key = base64_decode( $secret, true ); // phpcs:ignore WordPress.PHP.DiscouragedPHPFunctions.obfuscation_base64_decode -- Standard Webhooks key.
		return false === $key ? '' : $key;
	}

	/**
	 * The secret as shown in admin: never in full.
	 *
	 * @param string $secret A secret or token.
	 * @return string
	 */
	public static function mask( $secret ) {
		$secret = (string) $secret;
		if ( '' === $secret ) {
			return '';
		}
		return substr( $secret, 0, 6 ) . str_repeat( '•', 8 ) . substr( $secret, -4 );
	}

	/**
	 * The register_setting sanitize callback. Blank secrets keep the saved ones,
	 * so the form never has to print them.
	 *
	 * @param mixed $input Submitted values.
	 * @return array<string, mixed>
	 */
	public function sanitize( $input ) {
		$input = is_array( $input ) ? wp_unslash( $input ) : array();
		$old   = $this->all();
		$out   = array(
			'service_url'     => untrailingslashit( esc_url_raw( trim( (string) ( $input['service_url'] ?? $old['service_url'] ) ) ) ),
			'site_id'         => sanitize_text_field( (string) ( $input['site_id'] ?? $old['site_id'] ) ),
			'secret'          => $this->keep_secret( $input, 'secret', $old ),
			'api_token'       => $this->keep_secret( $input, 'api_token', $old ),
			'sources'         => array_values( array_intersect( Hooks::SOURCES, array_map( 'strval', (array) ( $input['sources'] ?? array() ) ) ) ),
			'track_views'     => ! empty( $input['track_views'] ),
			'track_carts'     => ! empty( $input['track_carts'] ),
			'capture_email'   => ! empty( $input['capture_email'] ),
			'respect_consent' => ! empty( $input['respect_consent'] ),
			'flows'           => $this->sanitize_flows( (array) ( $input['flows'] ?? array() ), (array) $old['flows'] ),
			'sender_name'     => sanitize_text_field( (string) ( $input['sender_name'] ?? '' ) ),
			'sender_email'    => (string) sanitize_email( (string) ( $input['sender_email'] ?? '' ) ),
		);
		return $out;
	}

	/**
	 * A submitted secret, or the saved one when the field came back blank.
	 *
	 * @param array  $input Submitted values.
	 * @param string $key   Field.
	 * @param array  $old   Saved settings.
	 * @return string
	 */
	private function keep_secret( array $input, $key, array $old ) {
		$value = isset( $input[ $key ] ) ? trim( (string) $input[ $key ] ) : '';
		$value = preg_replace( '/[^A-Za-z0-9_+\/=.\-]/', '', $value );
		return '' === $value ? (string) $old[ $key ] : $value;
	}

	/**
	 * Flow switches, delays and first-email subject B, only for the known flow keys.
	 *
	 * @param array $flows Submitted flows.
	 * @param array $old   Saved flows (a refused coupon keeps the saved one).
	 * @return array<string, array{enabled: bool, delay_hours: int, subject_b: string}>
	 */
	private function sanitize_flows( array $flows, array $old = array() ) {
		$out = array();
		foreach ( self::FLOWS as $key => $hours ) {
			$row         = isset( $flows[ $key ] ) && is_array( $flows[ $key ] ) ? $flows[ $key ] : array();
			$out[ $key ] = array(
				'enabled'     => ! empty( $row['enabled'] ),
				'delay_hours' => isset( $row['delay_hours'] ) ? min( 8760, absint( $row['delay_hours'] ) ) : $hours,
				// The first email's second subject (a subject A/B test); the service checks the
				// template when the flows are pushed and names the field if it cannot render.
				'subject_b'   => isset( $row['subject_b'] ) ? mb_substr( sanitize_text_field( (string) $row['subject_b'] ), 0, 2000 ) : '',
			);
			if ( in_array( $key, self::COUPON_FLOWS, true ) ) {
				$saved                 = array_merge( self::COUPON_DEFAULTS, (array) ( $old[ $key ]['coupon'] ?? array() ) );
				$out[ $key ]['coupon'] = $this->sanitize_coupon( $key, (array) ( $row['coupon'] ?? $saved ), $saved );
			}
		}
		return $out;
	}

	/**
	 * A submitted coupon, checked as the service checks it (settings_schema.CouponSchema);
	 * a refused one keeps the saved coupon and says why on the settings page.
	 *
	 * @param string $key   Flow key.
	 * @param array  $input Submitted coupon.
	 * @param array  $saved Saved coupon.
	 * @return array
	 */
	private function sanitize_coupon( $key, array $input, array $saved ) {
		$coupon = array();
		foreach ( self::COUPON_DEFAULTS as $name => $default ) {
			$coupon[ $name ] = trim( sanitize_text_field( (string) ( $input[ $name ] ?? $default ) ) );
		}
		$problems = self::coupon_problems( $coupon );
		if ( ! $problems ) {
			return $coupon;
		}
		foreach ( $problems as $field => $message ) {
			if ( function_exists( 'add_settings_error' ) ) {
				/* translators: 1: flow key, 2: field, 3: what is wrong */
				add_settings_error( self::OPTION, 'coupon-' . $key . '-' . $field, sprintf( __( 'Coupon of %1$s, %2$s: %3$s Nothing of this coupon was saved.', 'sales-companion' ), $key, $field, $message ) );
			}
		}
		return $saved;
	}

	/**
	 * What the service would refuse in a coupon, by field (its messages).
	 *
	 * @param array $coupon Coupon as the page keeps it.
	 * @return array<string, string>
	 */
	public static function coupon_problems( array $coupon ) {
		$found = array();
		$kind  = $coupon['kind'];
		if ( ! in_array( $kind, array( '', 'none', 'static', 'unique' ), true ) ) {
			return array( 'kind' => __( 'Must be one of: none, static, unique.', 'sales-companion' ) );
		}
		if ( 'static' === $kind && ( '' === $coupon['code'] || strlen( $coupon['code'] ) > 60 ) ) {
			$found['code'] = __( 'A static coupon needs its code (at most 60 characters).', 'sales-companion' );
		}
		if ( 'unique' !== $kind ) {
			return $found;
		}
		$decimal = '/^[0-9]+(\.[0-9]{1,4})?$/';
		if ( ! in_array( $coupon['discount_type'], array( 'percent', 'fixed_cart' ), true ) ) {
			$found['discount_type'] = __( 'Must be one of: percent, fixed_cart.', 'sales-companion' );
		}
		if ( '' === $coupon['amount'] ) {
			$found['amount'] = __( 'Required for a unique coupon.', 'sales-companion' );
		} elseif ( ! preg_match( $decimal, $coupon['amount'] ) ) {
			$found['amount'] = __( 'Not a decimal amount; send a string such as "19.90".', 'sales-companion' );
		} elseif ( (float) $coupon['amount'] <= 0 ) {
			$found['amount'] = __( 'Must be more than 0.', 'sales-companion' );
		} elseif ( 'percent' === $coupon['discount_type'] && (float) $coupon['amount'] > 100 ) {
			$found['amount'] = __( 'A percentage is at most 100.', 'sales-companion' );
		}
		if ( '' === $coupon['days_valid'] ) {
			$found['days_valid'] = __( 'Required for a unique coupon.', 'sales-companion' );
		} elseif ( ! ctype_digit( $coupon['days_valid'] ) || (int) $coupon['days_valid'] < 1 || (int) $coupon['days_valid'] > 365 ) {
			$found['days_valid'] = __( 'Must be greater than or equal to 1 and less than or equal to 365.', 'sales-companion' );
		}
		if ( '' !== $coupon['minimum_amount'] && ! preg_match( $decimal, $coupon['minimum_amount'] ) ) {
			$found['minimum_amount'] = __( 'Not a decimal amount; send a string such as "19.90".', 'sales-companion' );
		}
		return $found;
	}
}
