<?php
/**
 * "Sync history": past orders sent in background batches, with progress.
 *
 * @package SalesCompanion
 */

namespace SalesCompanion;

if ( ! defined( 'ABSPATH' ) ) {
	exit;
}

/**
 * Each scheduled batch records 50 products, or 50 past orders (and their refunds), into the
 * outbox and schedules the next; delivery sends them like any other event. Each source's
 * catalogue goes first (queue entry "<source>:products"), so the orders find their products.
 */
class History {

	const STATE    = 'sales_companion_sync';
	const PAGE     = 50;
	const PRODUCTS = ':products';

	/**
	 * Events.
	 *
	 * @var Events
	 */
	private $events;

	/**
	 * Constructor.
	 *
	 * @param Events $events Events.
	 */
	public function __construct( Events $events ) {
		$this->events = $events;
	}

	/**
	 * Progress for the admin panel.
	 *
	 * @return array{running: bool, queue: string[], page: int, done: int, total: int, finished_at: int}
	 */
	public function state() {
		$saved = get_option( self::STATE, array() );
		return array_merge(
			array(
				'running'     => false,
				'queue'       => array(),
				'page'        => 1,
				'done'        => 0,
				'total'       => 0,
				'finished_at' => 0,
			),
			is_array( $saved ) ? $saved : array()
		);
	}

	/**
	 * Starts a sync of the given sources.
	 *
	 * @param string[] $sources Active sources.
	 * @return array State.
	 */
	public function start( array $sources ) {
		$queue = array();
		foreach ( array_intersect( Hooks::SOURCES, $sources ) as $source ) {
			$queue[] = $source . self::PRODUCTS;
			$queue[] = $source;
		}
		$total = 0;
		foreach ( $queue as $source ) {
			$total += $this->count( $source );
		}
		$state = array(
			'running'     => (bool) $queue,
			'queue'       => $queue,
			'page'        => 1,
			'done'        => 0,
			'total'       => $total,
			'finished_at' => $queue ? 0 : time(),
		);
		update_option( self::STATE, $state, false );
		if ( $queue ) {
			( new Scheduler() )->schedule_sync();
		}
		return $state;
	}

	/**
	 * The five-minute sweep: a sync that is running with no batch waiting or running asks for its
	 * next batch. Each batch schedules the next, so a batch that never ran its code stops the chain:
	 * on a real shop a queue runner that had started before the plugin was activated claimed the
	 * first batch and failed it ("no callbacks are registered"), and the sync stayed at 0 done.
	 *
	 * @return bool Whether a batch was asked for.
	 */
	public function resume() {
		$state = $this->state();
		if ( ! $state['running'] || ! $state['queue'] ) {
			return false;
		}
		$scheduler = new Scheduler();
		if ( $scheduler->sync_scheduled() ) {
			return false;
		}
		$scheduler->schedule_sync();
		return true;
	}

	/**
	 * One batch (scheduled action).
	 *
	 * @return array State after the batch.
	 */
	public function run_batch() {
		$state = $this->state();
		if ( ! $state['running'] || ! $state['queue'] ) {
			return $state;
		}
		$entry = $state['queue'][0];
		if ( self::is_products( $entry ) ) {
			$source    = substr( $entry, 0, -strlen( self::PRODUCTS ) );
			$ids       = $this->product_ids( $source, (int) $state['page'] );
			$collector = Plugin::instance()->get( $source ); // A Source.
			foreach ( $ids as $id ) {
				$collector->note_product( $id );
			}
			$collector->flush();
		} else {
			$ids = $this->page_ids( $entry, (int) $state['page'] );
			foreach ( $ids as $id ) {
				$this->record( $entry, $id );
			}
		}
		$state['done'] += count( $ids );
		++$state['page'];
		if ( count( $ids ) < self::PAGE ) {
			array_shift( $state['queue'] );
			$state['page'] = 1;
		}
		$state['running'] = (bool) $state['queue'];
		if ( ! $state['running'] ) {
			$state['finished_at'] = time();
		}
		update_option( self::STATE, $state, false );
		$scheduler = new Scheduler();
		if ( $state['running'] ) {
			$scheduler->schedule_sync();
		}
		$scheduler->schedule_delivery();
		return $state;
	}

	/**
	 * Whether a queue entry is a source's catalogue.
	 *
	 * @param string $entry Queue entry.
	 * @return bool
	 */
	private static function is_products( $entry ) {
		return substr( $entry, -strlen( self::PRODUCTS ) ) === self::PRODUCTS;
	}

	/**
	 * The store's product post type (EDD downloads, FluentCart products).
	 *
	 * @param string $source Source.
	 * @return string
	 */
	private static function product_post_type( $source ) {
		return 'edd' === $source ? Source_EDD::PRODUCT_POST_TYPE : Source_FluentCart::PRODUCT_POST_TYPE;
	}

	/**
	 * Products of a source: WooCommerce's product query (its default statuses: draft, pending,
	 * private, publish; no variations), else the store's posts of any status but trash and
	 * auto-draft.
	 *
	 * @param string $source Source.
	 * @return int
	 */
	private function count_products( $source ) {
		if ( 'woocommerce' === $source ) {
			$result = wc_get_products(
				array(
					'limit'    => 1,
					'paginate' => true,
					'return'   => 'ids',
				)
			);
			return (int) $result->total;
		}
		$query = new \WP_Query(
			array(
				'post_type'      => self::product_post_type( $source ),
				'post_status'    => 'any',
				'fields'         => 'ids',
				'posts_per_page' => 1,
			)
		);
		return (int) $query->found_posts;
	}

	/**
	 * Product ids of one page, oldest first.
	 *
	 * @param string $source Source.
	 * @param int    $page   Page from 1.
	 * @return int[]
	 */
	private function product_ids( $source, $page ) {
		if ( 'woocommerce' === $source ) {
			$ids = wc_get_products(
				array(
					'limit'   => self::PAGE,
					'page'    => $page,
					'orderby' => 'ID',
					'order'   => 'ASC',
					'return'  => 'ids',
				)
			);
		} else {
			$ids = get_posts(
				array(
					'post_type'        => self::product_post_type( $source ),
					'post_status'      => 'any',
					'fields'           => 'ids',
					'posts_per_page'   => self::PAGE,
					'paged'            => $page,
					'orderby'          => 'ID',
					'order'            => 'ASC',
					'suppress_filters' => true,
				)
			);
		}
		return array_map( 'intval', (array) $ids );
	}

	/**
	 * Products or orders of a queue entry.
	 *
	 * @param string $entry Queue entry.
	 * @return int
	 */
	private function count( $entry ) {
		if ( self::is_products( $entry ) ) {
			return $this->count_products( substr( $entry, 0, -strlen( self::PRODUCTS ) ) );
		}
		$source = $entry;
		if ( 'woocommerce' === $source ) {
			$result = wc_get_orders(
				array(
					'type'     => 'shop_order',
					'limit'    => 1,
					'paginate' => true,
					'return'   => 'ids',
				)
			);
			return (int) $result->total;
		}
		if ( 'fluentcart' === $source ) {
			return (int) \FluentCart\App\Models\Order::query()->count();
		}
		return (int) edd_count_orders( array( 'type' => 'sale' ) );
	}

	/**
	 * Order ids of one page, oldest first.
	 *
	 * @param string $source Source.
	 * @param int    $page   Page from 1.
	 * @return int[]
	 */
	private function page_ids( $source, $page ) {
		if ( 'woocommerce' === $source ) {
			return array_map(
				'intval',
				(array) wc_get_orders(
					array(
						'type'    => 'shop_order',
						'limit'   => self::PAGE,
						'page'    => $page,
						'orderby' => 'ID',
						'order'   => 'ASC',
						'return'  => 'ids',
					)
				)
			);
		}
		if ( 'fluentcart' === $source ) {
			$orders = \FluentCart\App\Models\Order::query()->orderBy( 'id', 'ASC' )->offset( ( $page - 1 ) * self::PAGE )->limit( self::PAGE )->get();
			return self::ids( $orders );
		}
		$orders = (array) edd_get_orders(
			array(
				'type'    => 'sale',
				'number'  => self::PAGE,
				'offset'  => ( $page - 1 ) * self::PAGE,
				'orderby' => 'id',
				'order'   => 'ASC',
			)
		);
		return self::ids( $orders );
	}

	/**
	 * The ids of a list or collection of models.
	 *
	 * @param iterable $models Models.
	 * @return int[]
	 */
	private static function ids( $models ) {
		$ids = array();
		foreach ( $models as $model ) {
			$ids[] = (int) $model->id;
		}
		return $ids;
	}

	/**
	 * Records one past order, its refunds, and the list of them (order.refunds_listed).
	 *
	 * @param string $source Source.
	 * @param int    $id     Order id.
	 * @return void
	 */
	private function record( $source, $id ) {
		$collector = Plugin::instance()->get( $source ); // A Source.
		$collector->note_order( $id );
		$finders = array(
			'woocommerce' => 'woo_refunds',
			'edd'         => 'edd_refunds',
			'fluentcart'  => 'fluentcart_refunds',
		);
		$refunds = $this->{$finders[ $source ]}( $id );
		foreach ( $refunds as $refund_id ) {
			$collector->note_refund( $id, $refund_id );
		}
		$collector->flush();
		// What the service holds beyond these was deleted in the store (a sync repairs it).
		$collector->list_refunds( $id, $refunds );
	}

	/**
	 * Refund ids of an EDD order.
	 *
	 * @param int $id Order id.
	 * @return int[]
	 */
	private function edd_refunds( $id ) {
		return array_map(
			static function ( $refund ) {
				return (int) $refund->id;
			},
			(array) edd_get_order_refunds( $id )
		);
	}

	/**
	 * Refund transaction ids of a FluentCart order.
	 *
	 * @param int $id Order id.
	 * @return int[]
	 */
	private function fluentcart_refunds( $id ) {
		return self::ids(
			\FluentCart\App\Models\OrderTransaction::query()->where( 'order_id', $id )->where( 'transaction_type', 'refund' )->where( 'status', 'refunded' )->get()
		);
	}

	/**
	 * Refund ids of a WooCommerce order.
	 *
	 * @param int $id Order id.
	 * @return int[]
	 */
	private function woo_refunds( $id ) {
		$order = wc_get_order( $id );
		return $order ? array_map(
			static function ( $refund ) {
				return (int) $refund->get_id();
			},
			$order->get_refunds()
		) : array();
	}
}
