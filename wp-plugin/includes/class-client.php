<?php
/**
 * The one seam to the Sales Companion service.
 *
 * @package SalesCompanion
 */

namespace SalesCompanion;

if ( ! defined( 'ABSPATH' ) ) {
	exit;
}

/**
 * HTTP calls to the service. Event batches are signed as Standard Webhooks
 * says; reads use the site's API token. Never called on a shopper's request.
 */
class Client {

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
	 * Standard Webhooks headers for a body.
	 *
	 * @param string   $body      Exact bytes sent.
	 * @param string   $key       Raw signing key.
	 * @param int|null $timestamp Unix time (now when null).
	 * @param string   $msg_id    Message id (random when '').
	 * @return array<string, string>
	 */
	public static function signature_headers( $body, $key, $timestamp = null, $msg_id = '' ) {
		$timestamp = null === $timestamp ? time() : (int) $timestamp;
		$msg_id    = '' === $msg_id ? 'msg_' . str_replace( '-', '', wp_generate_uuid4() ) : $msg_id;
		$signature = base64_encode( hash_hmac( 'sha256', $msg_id . '.' . $timestamp . '.' . $body, $key, true ) ); // phpcs:ignore WordPress.PHP.DiscouragedPHPFunctions.obfuscation_base64_encode
		return array(
			'webhook-id'        => $msg_id,
			'webhook-timestamp' => (string) $timestamp,
			'webhook-signature' => 'v1,' . $signature,
		);
	}

	/**
	 * Sends one signed batch.
	 *
	 * @param array $events Events in the wire format.
	 * @param int   $timeout Seconds.
	 * @return array{status: int, body: mixed, error: string}
	 */
	public function send_events( array $events, $timeout = 15 ) {
		$body    = wp_json_encode( array( 'events' => array_map( array( self::class, 'wire_event' ), array_values( $events ) ) ) );
		$headers = self::signature_headers( $body, $this->settings->signing_key() );
		return $this->request( 'POST', 'events', $body, $headers, $timeout );
	}

	/**
	 * An event as the service reads it: `data` is always a JSON object. An empty PHP
	 * array encodes as `[]`, which the service refuses ("Not a valid mapping type"),
	 * and a payload read back from the outbox with json_decode( ..., true ) turns a
	 * stored `{}` into an empty array again.
	 *
	 * @param array $event Event.
	 * @return array
	 */
	public static function wire_event( $event ) {
		$event = (array) $event;
		if ( ! isset( $event['data'] ) || array() === $event['data'] ) {
			$event['data'] = new \stdClass();
		}
		return $event;
	}

	/**
	 * A request with the API token (reads, flows, privacy).
	 *
	 * @param string     $method  HTTP method.
	 * @param string     $path    Path below /v1/sites/<id>/.
	 * @param array|null $payload JSON body.
	 * @param int        $timeout Seconds.
	 * @return array{status: int, body: mixed, error: string}
	 */
	public function api( $method, $path, $payload = null, $timeout = 10 ) {
		$headers = array( 'Authorization' => 'Bearer ' . $this->settings->get( 'api_token' ) );
		$body    = null === $payload ? null : wp_json_encode( $payload );
		return $this->request( $method, $path, $body, $headers, $timeout );
	}

	/**
	 * Performs the request and decodes the answer.
	 *
	 * @param string      $method  HTTP method.
	 * @param string      $path    Path below /v1/sites/<id>/.
	 * @param string|null $body    Raw body.
	 * @param array       $headers Extra headers.
	 * @param int         $timeout Seconds.
	 * @return array{status: int, body: mixed, error: string}
	 */
	private function request( $method, $path, $body, array $headers, $timeout ) {
		if ( ! $this->settings->is_connected() ) {
			return array(
				'status' => 0,
				'body'   => null,
				'error'  => __( 'The service URL, site id and secret are not set.', 'sales-companion' ),
			);
		}
		$args = array(
			'method'     => $method,
			'timeout'    => $timeout,
			'headers'    => array_merge( array( 'Content-Type' => 'application/json' ), $headers ),
			'user-agent' => 'SalesCompanion/' . Plugin::version() . '; ' . home_url( '/' ),
		);
		if ( null !== $body ) {
			$args['body'] = $body;
		}
		$response = wp_remote_request( $this->url( $path ), $args );
		if ( is_wp_error( $response ) ) {
			return array(
				'status' => 0,
				'body'   => null,
				'error'  => $response->get_error_message(),
			);
		}
		$raw = wp_remote_retrieve_body( $response );
		return array(
			'status' => (int) wp_remote_retrieve_response_code( $response ),
			'body'   => json_decode( $raw, true ),
			'error'  => '',
		);
	}

	/**
	 * Full URL of a site route.
	 *
	 * @param string $path Path below /v1/sites/<id>/.
	 * @return string
	 */
	public function url( $path ) {
		return $this->settings->get( 'service_url' ) . '/v1/sites/' . rawurlencode( (string) $this->settings->get( 'site_id' ) ) . '/' . ltrim( $path, '/' );
	}

	/**
	 * "Test connection": a signed empty batch and a token read, explained in words.
	 *
	 * @return array{ok: bool, message: string}
	 */
	public function test_connection() {
		$signed = $this->send_events( array(), 5 );
		$words  = self::explain( $signed, __( 'Events: the service accepted our signature.', 'sales-companion' ) );
		if ( ! $words['ok'] ) {
			return $words;
		}
		// The site exists (the signed call proved it), so a 404 here means the token is wrong.
		$read = $this->api( 'GET', 'contacts?page=1', null, 5 );
		if ( 404 === $read['status'] || 401 === $read['status'] ) {
			return array(
				'ok'      => false,
				'message' => $words['message'] . ' ' . __( 'API token: refused; paste the token printed by `companion sites add`.', 'sales-companion' ),
			);
		}
		$token = self::explain( $read, __( 'API token: accepted.', 'sales-companion' ) );
		return array(
			'ok'      => $token['ok'],
			'message' => $words['message'] . ' ' . $token['message'],
		);
	}

	/**
	 * An answer in words a store owner can act on. Only a 2xx is a success; every
	 * other answer is a failure, with the service's own reason and field messages
	 * (companion/api/errors.py answers {"error": ..., "fields": {...}}).
	 *
	 * @param array  $result  Result of request().
	 * @param string $success Message when it worked.
	 * @return array{ok: bool, message: string}
	 */
	public static function explain( array $result, $success ) {
		$status = (int) $result['status'];
		if ( 0 === $status ) {
			return array(
				'ok'      => false,
				/* translators: %s: transport error */
				'message' => sprintf( __( 'Could not reach the service: %s', 'sales-companion' ), $result['error'] ),
			);
		}
		if ( $status >= 200 && $status < 300 ) {
			return array(
				'ok'      => true,
				'message' => $success,
			);
		}
		$messages = array(
			401 => __( 'The service refused the signature or token: check the secret and the API token.', 'sales-companion' ),
			403 => __( 'The API token is not allowed to do this.', 'sales-companion' ),
			404 => __( 'The service does not know this site id (or this route): check the site id.', 'sales-companion' ),
			413 => __( 'The batch was too large for the service.', 'sales-companion' ),
		);
		if ( isset( $messages[ $status ] ) ) {
			$message = $messages[ $status ];
		} elseif ( $status >= 500 ) {
			/* translators: %d: HTTP status */
			$message = sprintf( __( 'The service answered with status %d; it may be down.', 'sales-companion' ), $status );
		} else {
			/* translators: %d: HTTP status */
			$message = sprintf( __( 'The service refused this (HTTP %d).', 'sales-companion' ), $status );
		}
		$reason = self::reason( $result['body'] ?? null );
		return array(
			'ok'      => false,
			'message' => '' === $reason ? $message : $message . ' ' . $reason,
		);
	}

	/**
	 * The service's reason from an error body: its "error" and each field message
	 * as "path.to.field: message".
	 *
	 * @param mixed $body Decoded body.
	 * @return string
	 */
	private static function reason( $body ) {
		if ( ! is_array( $body ) ) {
			return '';
		}
		$parts = array();
		if ( isset( $body['error'] ) && is_scalar( $body['error'] ) && '' !== (string) $body['error'] ) {
			$parts[] = (string) $body['error'];
		}
		if ( isset( $body['fields'] ) && is_array( $body['fields'] ) ) {
			foreach ( self::field_messages( $body['fields'], '' ) as $line ) {
				$parts[] = $line;
			}
		}
		return implode( ' ', $parts );
	}

	/**
	 * A stored rejection (the service's field messages as JSON, see Delivery::rejections) in
	 * words: "data.total: Not a decimal amount ..."; any other text as it is.
	 *
	 * @param string $stored Stored reason.
	 * @return string
	 */
	public static function readable_reason( $stored ) {
		$decoded = json_decode( (string) $stored, true );
		if ( ! is_array( $decoded ) ) {
			return (string) $stored;
		}
		$lines = self::field_messages( $decoded );
		return $lines ? implode( ' ', $lines ) : (string) $stored;
	}

	/**
	 * Nested field messages (marshmallow's shape) flattened to "a.b: message" lines.
	 *
	 * @param array  $fields Field messages.
	 * @param string $prefix Path so far.
	 * @return string[]
	 */
	public static function field_messages( array $fields, $prefix = '' ) {
		$lines = array();
		foreach ( $fields as $key => $value ) {
			// A list of messages has integer keys that name nothing; a list of objects (steps)
			// has integer keys that name the item.
			$path = is_int( $key ) && ! is_array( $value ) ? $prefix : ( '' === $prefix ? (string) $key : $prefix . '.' . $key );
			if ( is_array( $value ) ) {
				$lines = array_merge( $lines, self::field_messages( $value, $path ) );
			} elseif ( is_scalar( $value ) ) {
				$lines[] = ( '' === $path ? '' : $path . ': ' ) . $value;
			}
		}
		return $lines;
	}
}
