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
 * noted product, order and refund, then whatever else the store keeps (carts, deletions).
 * Subclasses say how a product, an order and a refund of their store become events.
 */
abstract class Source {

	/**
	 * The event source name; each subclass sets its own.
	 */
	const SOURCE = '';

	/**
	 * The post type of the store's products (WordPress core's trash and delete hooks are
	 * shared by every post type).
	 */
	const PRODUCT_POST_TYPE = '';

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
	 * Refunds the store deleted in this request: refund id => order id.
	 *
	 * @var array<int, int>
	 */
	protected $deleted_refunds = array();

	/**
	 * Products changed in this request, one snapshot each: id => true (read at flush), the
	 * store's product model its hook handed over (the last one wins), or the snapshot itself
	 * (a product about to be deleted).
	 *
	 * @var array<int, mixed>
	 */
	protected $products = array();

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
	 * Notes a refund the store deleted (order.refund_deleted), and its order, whose snapshot
	 * goes again.
	 *
	 * @param int $order_id  Order.
	 * @param int $refund_id Refund.
	 * @return void
	 */
	public function note_refund_deleted( $order_id, $refund_id ) {
		$this->deleted_refunds[ (int) $refund_id ] = (int) $order_id;
		$this->note_order( $order_id );
	}

	/**
	 * Records every refund an order has in the store now (order.refunds_listed; the history sync,
	 * after the order and its refunds). The service takes a refund it holds for the order, made
	 * well before this and missing from the list, as deleted in the store: a refund deleted before
	 * the plugin sent order.refund_deleted, or by a tool that fires no hook.
	 *
	 * @param int   $order_id   Order.
	 * @param int[] $refund_ids Its refunds.
	 * @return void
	 */
	public function list_refunds( $order_id, array $refund_ids ) {
		$this->record(
			'order.refunds_listed',
			array(
				'order_id'   => (string) $order_id,
				'refund_ids' => array_values( array_map( 'strval', $refund_ids ) ),
			)
		);
	}

	/**
	 * Notes a product (hooks and the history sync): one snapshot per product per request. A
	 * model the store handed over replaces an earlier note; a bare id never replaces a model or
	 * a snapshot.
	 *
	 * @param int   $product_id Product id.
	 * @param mixed $product    The store's product model, or true to read it at flush.
	 * @return void
	 */
	public function note_product( $product_id, $product = true ) {
		$product_id = (int) $product_id;
		if ( $product_id > 0 && ( true !== $product || ! isset( $this->products[ $product_id ] ) ) ) {
			$this->products[ $product_id ] = $product;
		}
	}

	/**
	 * WordPress core's trashed_post (int $post_id) and untrashed_post (int $post_id, string
	 * $previous_status) (wp-includes/post.php, WordPress 6.1 lines 3608, 3708): a product of
	 * this store is read again at flush, with its new status.
	 *
	 * @param int $post_id Post id.
	 * @return void
	 */
	public function on_post_trashed( $post_id ) {
		if ( static::PRODUCT_POST_TYPE === get_post_type( $post_id ) ) {
			$this->products[ (int) $post_id ] = true;
		}
	}

	/**
	 * WordPress core's before_delete_post (int $post_id, WP_Post $post) (wp-includes/post.php,
	 * WordPress 6.1 line 3407): the product is still readable, so its snapshot is taken now,
	 * with the status `trash` (the service keeps its name for the reports).
	 *
	 * @param int   $post_id Post id.
	 * @param mixed $post    Post.
	 * @return void
	 */
	public function on_post_deleting( $post_id, $post = null ) {
		if ( static::PRODUCT_POST_TYPE !== get_post_type( $post_id ) ) {
			return;
		}
		$data = $this->product_snapshot( (int) $post_id, true );
		if ( $data ) {
			$data['status']                   = 'trash';
			$this->products[ (int) $post_id ] = $data;
		}
	}

	/**
	 * Whether flush() has anything to record.
	 *
	 * @return bool
	 */
	public function has_pending() {
		return (bool) ( $this->products || $this->orders || $this->refunds || $this->deleted_refunds || $this->has_pending_extras() );
	}

	/**
	 * Records what this request changed: products, orders, then refunds and deleted refunds,
	 * then the rest.
	 * The notes are taken first, so a hook fired while recording starts afresh.
	 *
	 * @return void
	 */
	public function flush() {
		$products       = $this->products;
		$orders         = $this->orders;
		$refunds        = $this->refunds;
		$this->products = array();
		$this->orders   = array();
		$this->refunds  = array();
		foreach ( $this->before_product_snapshots( $products ) as $product_id => $noted ) {
			$data = is_array( $noted ) ? $noted : $this->product_snapshot( $product_id, $noted );
			if ( $data ) {
				$this->record( 'product.updated', $data );
			}
		}
		foreach ( $orders as $order_id => $noted ) {
			$this->record_noted_order( $order_id, $noted );
		}
		foreach ( $refunds as $refund ) {
			$this->record_refund( $refund );
		}
		$deleted_refunds       = $this->deleted_refunds;
		$this->deleted_refunds = array();
		foreach ( $deleted_refunds as $refund_id => $order_id ) {
			$this->record(
				'order.refund_deleted',
				array(
					'order_id'  => (string) $order_id,
					'refund_id' => (string) $refund_id,
				)
			);
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
	 * A product.updated snapshot (DESIGN 3.1: id, name, sku, price, categories, url, image,
	 * stock_quantity, status; docs/plugin.md says what each store sends), or null when the
	 * product is gone or not worth a word (an auto-draft).
	 *
	 * @param int   $product_id Product id.
	 * @param mixed $noted      What was noted: true, or the store's product model.
	 * @return array|null
	 */
	abstract protected function product_snapshot( $product_id, $noted );

	/**
	 * A chance to read what the snapshots share in one go (WooCommerce primes the images'
	 * posts); answers the notes unchanged.
	 *
	 * @param array<int, mixed> $products Noted products.
	 * @return array<int, mixed>
	 */
	protected function before_product_snapshots( array $products ) {
		return $products;
	}

	/**
	 * What product.updated carries as `status`: a published product's stock status
	 * (instock, outofstock, onbackorder), any other product its post status (draft, pending,
	 * private, trash ...), which the service never offers in a mail.
	 *
	 * @param string $post_status  Post status.
	 * @param string $stock_status Stock status.
	 * @return string
	 */
	protected static function product_status( $post_status, $stock_status ) {
		return 'publish' === $post_status ? (string) $stock_status : (string) $post_status;
	}

	/**
	 * The names of a product's terms in a taxonomy (cached by WordPress once the post's terms
	 * were read).
	 *
	 * @param int    $product_id Product id.
	 * @param string $taxonomy   Taxonomy.
	 * @return string[]
	 */
	protected static function term_names( $product_id, $taxonomy ) {
		$terms = get_the_terms( (int) $product_id, $taxonomy );
		return is_array( $terms ) ? array_values( array_map( 'strval', wp_list_pluck( $terms, 'name' ) ) ) : array();
	}

	/**
	 * A URL or null (the service takes only http(s) URLs).
	 *
	 * @param mixed $url URL.
	 * @return string|null
	 */
	protected static function url_or_null( $url ) {
		return is_string( $url ) && preg_match( '#^https?://#', $url ) ? $url : null;
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
