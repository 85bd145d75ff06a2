<?php
/**
 * The outer edge: the Sales Companion service as seen through WordPress's HTTP
 * API (pre_http_request), recording every request and answering as told.
 *
 * @package SalesCompanion\Tests
 */

namespace SalesCompanion\Tests;

/**
 * A scripted service.
 */
final class FakeService {

	/**
	 * Requests seen: method, url, headers, body.
	 *
	 * @var array<int, array>
	 */
	public static $requests = array();

	/**
	 * Answers to give, in order; the last one repeats. Each: [status, body] or a WP_Error.
	 *
	 * @var array<int, mixed>
	 */
	public static $answers = array();

	/**
	 * Wakes the plugin sent to its own site (Wake::send through sales_companion_pre_wake): url,
	 * body. They are not requests to the service, and no socket is opened.
	 *
	 * @var array<int, array{url: string, body: string}>
	 */
	public static $wakes = array();

	/**
	 * Starts answering.
	 *
	 * @return void
	 */
	public static function install() {
		self::$requests = array();
		self::$answers  = array();
		self::$wakes    = array();
		add_filter( 'pre_http_request', array( self::class, 'answer' ), 10, 3 );
		add_filter( 'sales_companion_pre_wake', array( self::class, 'wake' ), 10, 3 );
	}

	/**
	 * Stops answering.
	 *
	 * @return void
	 */
	public static function uninstall() {
		remove_filter( 'pre_http_request', array( self::class, 'answer' ), 10 );
		remove_filter( 'sales_companion_pre_wake', array( self::class, 'wake' ), 10 );
	}

	/**
	 * The sales_companion_pre_wake filter: keeps the wake, reports it sent.
	 *
	 * @param bool|null $pre  Null.
	 * @param string    $url  URL.
	 * @param string    $body Body.
	 * @return bool
	 */
	public static function wake( $pre, $url, $body ) {
		self::$wakes[] = array(
			'url'  => $url,
			'body' => $body,
		);
		return true;
	}

	/**
	 * The pre_http_request filter.
	 *
	 * @param mixed  $pre  False.
	 * @param array  $args Request args.
	 * @param string $url  URL.
	 * @return array|\WP_Error
	 */
	public static function answer( $pre, $args, $url ) {
		self::$requests[] = array(
			'method'  => $args['method'],
			'url'     => $url,
			'headers' => $args['headers'],
			'body'    => isset( $args['body'] ) ? $args['body'] : null,
		);
		$answer = count( self::$answers ) > 1 ? array_shift( self::$answers ) : ( self::$answers ? self::$answers[0] : self::accept_all() );
		if ( is_callable( $answer ) ) {
			$answer = $answer( end( self::$requests ) );
		}
		if ( is_wp_error( $answer ) ) {
			return $answer;
		}
		return array(
			'headers'  => array(),
			'body'     => wp_json_encode( $answer[1] ),
			'response' => array( 'code' => $answer[0], 'message' => '' ),
			'cookies'  => array(),
			'filename' => null,
		);
	}

	/**
	 * The default answer: 202, everything accepted.
	 *
	 * @return callable
	 */
	public static function accept_all() {
		return static function ( $request ) {
			$body = json_decode( (string) $request['body'], true );
			$n    = isset( $body['events'] ) ? count( $body['events'] ) : 0;
			return array( 202, array( 'accepted' => $n, 'duplicates' => 0, 'rejected' => array() ) );
		};
	}

	/**
	 * Events of every batch sent, in order.
	 *
	 * @return array<int, array>
	 */
	public static function sent_events() {
		$events = array();
		foreach ( self::$requests as $request ) {
			if ( '/events' === substr( wp_parse_url( $request['url'], PHP_URL_PATH ), -7 ) ) {
				$body   = json_decode( (string) $request['body'], true );
				$events = array_merge( $events, (array) $body['events'] );
			}
		}
		return $events;
	}
}
