<?php
/**
 * What the store collectors (WooCommerce, EDD, FluentCart) share.
 *
 * @package SalesCompanion
 */

namespace SalesCompanion;

if ( ! defined( 'ABSPATH' ) ) {
	exit;
}

/**
 * A store source. Its hook methods only note what changed during the request;
 * flush() (at shutdown, or at once for the history sync) records one event per
 * noted order and refund, then whatever else the store keeps (carts, deletions).
 * Subclasses say how an order and a refund of their store become events.
 */
abstract class Source {

	/**
	 * The event source name; each subclass sets its own.
	 */
	const SOURCE = '';

	/**
	 * Events.
	 *
	 * @var Events
	 */
	protected $events;

	/**
	 * Orders changed in this request: id => true, or the store's order model
	 * when its hook hands one over.
	 *
	 * @var array<int, mixed>
	 */
	protected $orders = array();

	/**
	 * Refunds made in this request, as the subclass noted them.
	 *
	 * @var array<int, mixed>
	 */
	protected $refunds = array();

	/**
	 * Constructor.
	 *
	 * @param Events $events Events.
	 */
	public function __construct( Events $events ) {
		$this->events = $events;
	}

	/**
	 * Notes an order by id (hooks and the history sync).
	 *
	 * @param int $order_id Order.
	 * @return void
	 */
	public function note_order( $order_id ) {
		$this->orders[ (int) $order_id ] = true;
	}

	/**
	 * Notes a refund by id (hooks and the history sync).
	 *
	 * @param int $order_id  Order.
	 * @param int $refund_id Refund.
	 * @return void
	 */
	public function note_refund( $order_id, $refund_id ) {
		$this->refunds[] = array( (int) $order_id, (int) $refund_id );
	}

	/**
	 * Whether flush() has anything to record.
	 *
	 * @return bool
	 */
	public function has_pending() {
		return (bool) ( $this->orders || $this->refunds || $this->has_pending_extras() );
	}

	/**
	 * Records what this request changed: orders, then refunds, then the rest.
	 * The notes are taken first, so a hook fired while recording starts afresh.
	 *
	 * @return void
	 */
	public function flush() {
		$orders        = $this->orders;
		$refunds       = $this->refunds;
		$this->orders  = array();
		$this->refunds = array();
		foreach ( $orders as $order_id => $noted ) {
			$this->record_noted_order( $order_id, $noted );
		}
		foreach ( $refunds as $refund ) {
			$this->record_refund( $refund );
		}
		$this->flush_extras();
	}

	/**
	 * Records one event of this source.
	 *
	 * @param string     $type    Event type.
	 * @param array      $data    Event data.
	 * @param array|null $contact Contact fields.
	 * @return void
	 */
	protected function record( $type, array $data, $contact = null ) {
		$this->events->record( $type, static::SOURCE, $data, $contact );
	}

	/**
	 * Whether the owner records carts.
	 *
	 * @return bool
	 */
	protected function tracks_carts() {
		return (bool) $this->events->settings()->get( 'track_carts' );
	}

	/**
	 * Records one noted order (an order.updated snapshot, when it is a sale).
	 *
	 * @param int   $order_id Order id.
	 * @param mixed $noted    What was noted: true, or the store's order model.
	 * @return void
	 */
	abstract protected function record_noted_order( $order_id, $noted );

	/**
	 * Records one noted refund (order.refunded).
	 *
	 * @param mixed $refund What was noted about the refund.
	 * @return void
	 */
	abstract protected function record_refund( $refund );

	/**
	 * Whether the store noted anything besides orders and refunds.
	 *
	 * @return bool
	 */
	abstract protected function has_pending_extras();

	/**
	 * Records what the store noted besides orders and refunds, and forgets it.
	 *
	 * @return void
	 */
	abstract protected function flush_extras();
}
