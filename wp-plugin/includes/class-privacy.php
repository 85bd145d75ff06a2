<?php
/**
 * WordPress privacy tools: export and erase what the service holds.
 *
 * @package SalesCompanion
 */

namespace SalesCompanion;

if ( ! defined( 'ABSPATH' ) ) {
	exit;
}

/**
 * Registers an exporter and an eraser that call the service's privacy routes.
 */
class Privacy {

	const GROUP = 'sales-companion';

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
	 * @param Client $client Client.
	 * @param Outbox $outbox Outbox.
	 */
	public function __construct( Client $client, Outbox $outbox ) {
		$this->client = $client;
		$this->outbox = $outbox;
	}

	/**
	 * Hook wp_privacy_personal_data_exporters filter.
	 *
	 * @param array $exporters Exporters.
	 * @return array
	 */
	public function register_exporter( $exporters ) {
		$exporters[ self::GROUP ] = array(
			'exporter_friendly_name' => __( 'Sales Companion', 'sales-companion' ),
			'callback'               => array( $this, 'export' ),
		);
		return $exporters;
	}

	/**
	 * Hook wp_privacy_personal_data_erasers filter.
	 *
	 * @param array $erasers Erasers.
	 * @return array
	 */
	public function register_eraser( $erasers ) {
		$erasers[ self::GROUP ] = array(
			'eraser_friendly_name' => __( 'Sales Companion', 'sales-companion' ),
			'callback'             => array( $this, 'erase' ),
		);
		return $erasers;
	}

	/**
	 * Exporter callback: POST privacy/export {"email"}.
	 *
	 * @param string $email Address.
	 * @param int    $page  Page (one page holds everything).
	 * @return array{data: array, done: bool}
	 */
	public function export( $email, $page = 1 ) {
		$result = $this->client->api( 'POST', 'privacy/export', array( 'email' => $email ), 20 );
		if ( 200 !== $result['status'] || ! is_array( $result['body'] ) ) {
			$explained = Client::explain( $result, '' );
			/* translators: %s: reason */
			return new \WP_Error( 'sales_companion_export', sprintf( __( 'Sales Companion could not export this person: %s', 'sales-companion' ), $explained['message'] ) );
		}
		$data = array();
		foreach ( $result['body'] as $name => $value ) {
			$data[] = array(
				'name'  => (string) $name,
				'value' => is_scalar( $value ) ? (string) $value : (string) wp_json_encode( $value, JSON_PRETTY_PRINT ),
			);
		}
		return array(
			'data' => array(
				array(
					'group_id'    => self::GROUP,
					'group_label' => __( 'Sales Companion', 'sales-companion' ),
					'item_id'     => 'sales-companion-' . md5( strtolower( $email ) ),
					'data'        => $data,
				),
			),
			'done' => true,
		);
	}

	/**
	 * Eraser callback: POST privacy/erase {"email"}, and drops queued events
	 * that still carry the address.
	 *
	 * @param string $email Address.
	 * @param int    $page  Page.
	 * @return array{items_removed: bool, items_retained: bool, messages: string[], done: bool}
	 */
	public function erase( $email, $page = 1 ) {
		$queued    = $this->outbox->forget_email( $email );
		$result    = $this->client->api( 'POST', 'privacy/erase', array( 'email' => $email ), 20 );
		$ok        = $result['status'] >= 200 && $result['status'] < 300;
		$explained = Client::explain( $result, '' );
		return array(
			'items_removed'  => $ok || $queued > 0,
			'items_retained' => ! $ok,
			/* translators: %s: reason */
			'messages'       => $ok ? array() : array( sprintf( __( 'Sales Companion could not erase this person yet: %s', 'sales-companion' ), $explained['message'] ) ),
			'done'           => true,
		);
	}
}
