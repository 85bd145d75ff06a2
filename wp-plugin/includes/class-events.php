<?php
/**
 * Builds events in the service's contract (DESIGN 3.1) and records them.
 *
 * @package SalesCompanion
 */

namespace SalesCompanion;

if ( ! defined( 'ABSPATH' ) ) {
	exit;
}

/**
 * Event factory and recorder. Recording is one INSERT; nothing is sent here.
 */
class Events {

	const SESSION_COOKIE = 'sc_sid';

	/**
	 * Settings.
	 *
	 * @var Settings
	 */
	private $settings;

	/**
	 * Events recorded since the last take_recorded_count().
	 *
	 * @var int
	 */
	private $recorded = 0;

	/**
	 * Constructor.
	 *
	 * @param Settings $settings Settings.
	 */
	public function __construct( Settings $settings ) {
		$this->settings = $settings;
	}

	/**
	 * Settings (for collectors that need an option).
	 *
	 * @return Settings
	 */
	public function settings() {
		return $this->settings;
	}

	/**
	 * Records one event into the outbox.
	 *
	 * @param string     $type    Event type, e.g. order.updated.
	 * @param string     $source  woocommerce, edd, fluentcart or custom.
	 * @param array      $data    Event data.
	 * @param array|null $contact Contact fields, empty ones dropped.
	 * @return string The event's UUID.
	 */
	public function record( $type, $source, array $data, $contact = null ) {
		$event   = array(
			'id'          => wp_generate_uuid4(),
			'type'        => $type,
			'source'      => $source,
			'occurred_at' => self::iso( time() ),
			'data'        => $data ? $data : new \stdClass(), // `{}`, never `[]`: the service wants a mapping.
		);
		$session = self::session_id();
		if ( '' !== $session ) {
			$event['session_id'] = $session;
		}
		$contact = self::clean_contact( (array) $contact );
		if ( $contact ) {
			$event['contact'] = $contact;
		}
		Outbox::add( $event );
		++$this->recorded;
		return $event['id'];
	}

	/**
	 * How many events were recorded since the last call, then zero.
	 *
	 * @return int
	 */
	public function take_recorded_count() {
		$count          = $this->recorded;
		$this->recorded = 0;
		return $count;
	}

	/**
	 * The tracker's first-party session id, when the browser sent one.
	 *
	 * @return string
	 */
	public static function session_id() {
		if ( empty( $_COOKIE[ self::SESSION_COOKIE ] ) ) {
			return '';
		}
		$sid = sanitize_text_field( wp_unslash( $_COOKIE[ self::SESSION_COOKIE ] ) );
		return preg_match( '/^[A-Za-z0-9_-]{8,64}$/', $sid ) ? $sid : '';
	}

	/**
	 * A contact without empty fields; the email lower-cased.
	 *
	 * @param array $contact Raw fields.
	 * @return array
	 */
	public static function clean_contact( array $contact ) {
		$allowed = array( 'email', 'first_name', 'last_name', 'phone', 'wp_user_id', 'marketing_consent' );
		$out     = array();
		foreach ( $allowed as $key ) {
			if ( isset( $contact[ $key ] ) && '' !== $contact[ $key ] && 0 !== $contact[ $key ] ) {
				$out[ $key ] = $contact[ $key ];
			}
		}
		if ( isset( $out['email'] ) ) {
			$out['email'] = strtolower( trim( (string) $out['email'] ) );
			if ( ! is_email( $out['email'] ) ) {
				unset( $out['email'] );
			}
		}
		if ( isset( $out['wp_user_id'] ) ) {
			$out['wp_user_id'] = (int) $out['wp_user_id'];
		}
		if ( ! isset( $out['marketing_consent'] ) ) {
			$consent = self::marketing_consent();
			if ( null !== $consent ) {
				$out['marketing_consent'] = $consent;
			}
		}
		return $out;
	}

	/**
	 * Marketing consent from the WP Consent API, null where it is not present.
	 *
	 * @return bool|null
	 */
	public static function marketing_consent() {
		if ( ! function_exists( 'wp_has_consent' ) || is_admin() || wp_doing_cron() ) {
			return null;
		}
		return (bool) wp_has_consent( 'marketing' );
	}

	/**
	 * A decimal string with two places: money is never a float on the wire.
	 *
	 * @param mixed $amount A number or numeric string.
	 * @return string
	 */
	public static function money( $amount ) {
		return number_format( round( (float) $amount, 2 ), 2, '.', '' );
	}

	/**
	 * Integer cents (FluentCart) as a decimal string, exact.
	 *
	 * @param mixed $cents Amount in cents.
	 * @return string
	 */
	public static function cents( $cents ) {
		$cents = (int) round( (float) $cents );
		$sign  = $cents < 0 ? '-' : '';
		$abs   = abs( $cents );
		return $sign . intdiv( $abs, 100 ) . '.' . str_pad( (string) ( $abs % 100 ), 2, '0', STR_PAD_LEFT );
	}

	/**
	 * ISO 8601 UTC from a timestamp, DateTimeInterface or 'Y-m-d H:i:s' UTC string.
	 *
	 * @param mixed $when Time value.
	 * @return string|null
	 */
	public static function iso( $when ) {
		if ( $when instanceof \DateTimeInterface ) {
			$when = $when->getTimestamp();
		} elseif ( is_string( $when ) && '' !== $when && ! is_numeric( $when ) ) {
			if ( 0 === strpos( $when, '0000-00-00' ) ) {
				return null;
			}
			$parsed = strtotime( $when . ( preg_match( '/(Z|[+-]\d\d:?\d\d)$/', $when ) ? '' : ' UTC' ) );
			$when   = false === $parsed ? null : $parsed;
		}
		if ( null === $when || '' === $when || false === $when ) {
			return null;
		}
		return gmdate( 'Y-m-d\TH:i:s\Z', (int) $when );
	}
}
