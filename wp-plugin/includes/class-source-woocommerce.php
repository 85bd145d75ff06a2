<?php
/**
 * WooCommerce collector (HPOS and legacy storage; classic and block checkout).
 *
 * @package SalesCompanion
 */

namespace SalesCompanion;

if ( ! defined( 'ABSPATH' ) ) {
	exit;
}

/**
 * Hooks note which orders and carts changed; flush() (at shutdown) records one
 * snapshot each, so the snapshot shows the order as saved at the end of the
 * request, attribution meta included.
 */
class Source_WooCommerce extends Source {

	const SOURCE = 'woocommerce';

	const PRODUCT_POST_TYPE = 'product';

	const STATUSES = array(
		'pending'        => 'pending',
		'on-hold'        => 'on_hold',
		'processing'     => 'processing',
		'completed'      => 'completed',
		'cancelled'      => 'cancelled',
		'refunded'       => 'refunded',
		'failed'         => 'failed',
		'checkout-draft' => 'draft',
		'draft'          => 'draft',
	);

	/**
	 * Orders trashed or deleted in this request.
	 *
	 * @var array<int, true>
	 */
	private $deleted = array();

	/**
	 * The order objects WooCommerce saved in this request, by id (the last one saved wins): the
	 * end-of-request snapshot reads them instead of loading each order and its items again, which
	 * cost a real checkout 3 to 6 queries. Every save fires woocommerce_update_order with the saved
	 * object (HPOS OrdersTableDataStore::update and the posts data store alike), so the last one
	 * seen holds what was stored last; an order noted without an object is loaded as before.
	 *
	 * @var array<int, \WC_Order>
	 */
	private $saved = array();

	/**
	 * The visitor's cart.
	 *
	 * @var WooCommerce_Cart
	 */
	private $cart;

	/**
	 * Constructor.
	 *
	 * @param Events $events Events.
	 */
	public function __construct( Events $events ) {
		parent::__construct( $events );
		$this->cart = new WooCommerce_Cart( $events );
	}

	/**
	 * The visitor's cart (token, guest contact).
	 *
	 * @return WooCommerce_Cart
	 */
	public function cart() {
		return $this->cart;
	}

	/**
	 * Normalised status of a WooCommerce status; unknown custom statuses count
	 * as processing when WooCommerce treats them as paid.
	 *
	 * @param string $status WooCommerce status without the wc- prefix.
	 * @return string
	 */
	public static function normalise_status( $status ) {
		$status = preg_replace( '/^wc-/', '', (string) $status );
		if ( isset( self::STATUSES[ $status ] ) ) {
			return self::STATUSES[ $status ];
		}
		$paid = function_exists( 'wc_get_is_paid_statuses' ) ? wc_get_is_paid_statuses() : array( 'processing', 'completed' );
		return in_array( $status, $paid, true ) ? 'processing' : 'pending';
	}

	/**
	 * Notes an order (woocommerce_update_order: int $order_id, WC_Order $order).
	 *
	 * @param int   $order_id Order id.
	 * @param mixed $order    Order.
	 * @return void
	 */
	public function on_order_saved( $order_id, $order = null ) {
		if ( $order instanceof \WC_Order && ! is_a( $order, 'WC_Subscription' ) ) {
			$this->note_order( $order_id );
			$this->saved[ (int) $order_id ] = $order;
		}
	}

	/**
	 * Orders placed in this request (classic or block checkout), by id.
	 *
	 * @var array<int, true>
	 */
	private $placed = array();

	/**
	 * When an order placed in this request entered a paid status without a paid date, by id:
	 * its snapshot says so, and no order meta is written for it (see on_status_changed).
	 *
	 * @var array<int, int>
	 */
	private $paid_now = array();

	/**
	 * Either checkout, before it saves the order (classic woocommerce_checkout_create_order:
	 * WC_Order $order, array $data; Store API woocommerce_store_api_checkout_update_order_from_request:
	 * WC_Order $order, WP_REST_Request $request): the cart token goes into that save.
	 *
	 * @param mixed $order Order.
	 * @return void
	 */
	public function on_checkout_create_order( $order ) {
		$this->cart->tag_order( $order );
	}

	/**
	 * Classic checkout (int $order_id, array $posted_data, WC_Order $order).
	 *
	 * @param int   $order_id    Order id.
	 * @param array $posted_data Checkout fields.
	 * @param mixed $order       Order.
	 * @return void
	 */
	public function on_checkout_processed( $order_id, $posted_data, $order ) {
		$this->cart->link_order( $order );
		$this->placed[ (int) $order_id ] = true;
		$this->note_order( $order_id );
	}

	/**
	 * Block checkout (WC_Order $order).
	 *
	 * @param mixed $order Order.
	 * @return void
	 */
	public function on_block_checkout_processed( $order ) {
		if ( $order instanceof \WC_Order ) {
			$this->cart->link_order( $order );
			$this->placed[ $order->get_id() ] = true;
			$this->note_order( $order->get_id() );
		}
	}

	/**
	 * Status change (int $id, string $from, string $to, WC_Order $order).
	 *
	 * @param int    $order_id Order id.
	 * @param string $from     Old status.
	 * @param string $to       New status.
	 * @param mixed  $order    Order.
	 * @return void
	 */
	public function on_status_changed( $order_id, $from, $to, $order = null ) {
		$order = $order instanceof \WC_Order ? $order : wc_get_order( $order_id );
		if ( $order instanceof \WC_Order ) {
			if ( isset( $this->placed[ (int) $order_id ] ) && WooCommerce_Order_Snapshot::becomes_paid_undated( $order, (string) $from, (string) $to ) ) {
				// Paid at checkout (cash on delivery): this request's snapshot carries the time and
				// the service keeps an order's first paid time; later snapshots date it by its
				// creation, a few minutes earlier at most. No order meta write on the checkout.
				$this->paid_now[ (int) $order_id ] = time();
			} else {
				WooCommerce_Order_Snapshot::remember_paid_time( $order, (string) $from, (string) $to );
			}
		}
		$this->note_order( $order_id );
	}

	/**
	 * Payment (int $order_id, string $transaction_id).
	 *
	 * @param int    $order_id       Order id.
	 * @param string $transaction_id Gateway transaction.
	 * @return void
	 */
	public function on_payment_complete( $order_id, $transaction_id = '' ) {
		$this->note_order( $order_id );
	}

	/**
	 * Refund (int $order_id, int $refund_id).
	 *
	 * @param int $order_id  Order id.
	 * @param int $refund_id Refund id.
	 * @return void
	 */
	public function on_refunded( $order_id, $refund_id ) {
		$this->note_refund( $order_id, $refund_id );
		$this->note_order( $order_id );
	}

	/**
	 * A refund deleted in WP admin (int $refund_id, int $order_id): the delete cross on a refund
	 * line, WC_AJAX::delete_refund() (WooCommerce 8.9.1 includes/class-wc-ajax.php line 2247),
	 * after $refund->delete( true ). Neither data store fires a refund hook of its own with the
	 * order id (HPOS OrdersTableRefundDataStore::delete() fires none), so this and the REST API's
	 * hook below are where a deleted refund is seen. The order is snapshotted again.
	 *
	 * @param int $refund_id Refund id.
	 * @param int $order_id  Order id.
	 * @return void
	 */
	public function on_refund_deleted( $refund_id, $order_id ) {
		if ( ! $refund_id || ! $order_id ) {
			return;
		}
		$this->note_refund_deleted( $order_id, $refund_id );
	}

	/**
	 * A refund deleted through the REST API (DELETE /wc/v3/orders/<id>/refunds/<refund id>):
	 * WC_REST_CRUD_Controller::delete_item() deletes it (force only: refunds cannot be trashed)
	 * and fires woocommerce_rest_delete_shop_order_refund_object( $object, $response, $request )
	 * (includes/rest-api/Controllers/Version3/class-wc-rest-crud-controller.php line 505), not
	 * woocommerce_refund_deleted. The deleted object's id is 0 by then; the request names it.
	 *
	 * @param mixed $refund   The deleted WC_Order_Refund.
	 * @param mixed $response WP_REST_Response.
	 * @param mixed $request  WP_REST_Request.
	 * @return void
	 */
	public function on_rest_refund_deleted( $refund, $response = null, $request = null ) {
		if ( ! $refund instanceof \WC_Order_Refund || ! $request instanceof \WP_REST_Request ) {
			return;
		}
		$this->on_refund_deleted( (int) $request['id'], (int) $refund->get_parent_id() );
	}

	/**
	 * Trash or delete (int $order_id).
	 *
	 * @param int $order_id Order id.
	 * @return void
	 */
	public function on_deleted( $order_id ) {
		$this->deleted[ (int) $order_id ] = true;
		unset( $this->orders[ (int) $order_id ], $this->saved[ (int) $order_id ] );
	}

	/**
	 * Add to cart (string $key, int $product_id, int $quantity, int $variation_id, array $variation, array $cart_item_data).
	 *
	 * @param string $cart_item_key  Key.
	 * @param int    $product_id     Product.
	 * @param int    $quantity       Quantity.
	 * @param int    $variation_id   Variation.
	 * @param array  $variation      Attributes.
	 * @param array  $cart_item_data Extra data.
	 * @return void
	 */
	public function on_add_to_cart( $cart_item_key, $product_id, $quantity, $variation_id = 0, $variation = array(), $cart_item_data = array() ) {
		$this->cart->mark_changed();
	}

	/**
	 * Removed item (string $cart_item_key, WC_Cart $cart).
	 *
	 * @param string $cart_item_key Key.
	 * @param mixed  $cart          Cart.
	 * @return void
	 */
	public function on_cart_item_removed( $cart_item_key, $cart = null ) {
		$this->cart->mark_changed();
	}

	/**
	 * Quantity (string $key, int $quantity, int $old_quantity, WC_Cart $cart).
	 *
	 * @param string $cart_item_key Key.
	 * @param int    $quantity      New quantity.
	 * @param int    $old_quantity  Old quantity.
	 * @param mixed  $cart          Cart.
	 * @return void
	 */
	public function on_cart_quantity( $cart_item_key, $quantity, $old_quantity = 0, $cart = null ) {
		$this->cart->mark_changed();
	}

	/**
	 * Emptied (bool $clear_persistent_cart). After an order, the emptied cart is
	 * the order's, and the order event already closes it.
	 *
	 * @param bool $clear_persistent_cart Whether the saved cart goes too.
	 * @return void
	 */
	public function on_cart_emptied( $clear_persistent_cart = true ) {
		$this->cart->mark_changed();
	}

	/**
	 * Coupon applied or removed (string $coupon_code).
	 *
	 * @param string $coupon_code Code.
	 * @return void
	 */
	public function on_coupon( $coupon_code ) {
		$this->cart->mark_changed();
	}

	/**
	 * Classic checkout's order review refresh (string $post_data): the billing
	 * email a guest typed, captured before the order exists.
	 *
	 * @param string $post_data URL-encoded checkout form.
	 * @return void
	 */
	public function on_order_review( $post_data ) {
		if ( ! $this->events->settings()->get( 'capture_email' ) ) {
			return;
		}
		parse_str( (string) $post_data, $fields );
		if ( ! empty( $fields['billing_email'] ) && is_email( $fields['billing_email'] ) ) {
			$this->cart->remember_contact(
				array(
					'email'      => sanitize_email( $fields['billing_email'] ),
					'first_name' => sanitize_text_field( $fields['billing_first_name'] ?? '' ),
					'last_name'  => sanitize_text_field( $fields['billing_last_name'] ?? '' ),
				)
			);
		}
	}

	/**
	 * WooCommerce Subscriptions status (WC_Subscription $subscription, string $new_status, string $old_status).
	 *
	 * @param mixed  $subscription Subscription.
	 * @param string $new_status   New status.
	 * @param string $old_status   Old status.
	 * @return void
	 */
	public function on_subscription_status( $subscription, $new_status, $old_status = '' ) {
		if ( $subscription instanceof \WC_Order ) {
			$this->record_subscription( $subscription, $new_status );
		}
	}

	/**
	 * Renewal paid (WC_Subscription $subscription, WC_Order $last_order).
	 *
	 * @param mixed $subscription Subscription.
	 * @param mixed $last_order   Renewal order.
	 * @return void
	 */
	public function on_subscription_renewal( $subscription, $last_order ) {
		if ( $last_order instanceof \WC_Order ) {
			$this->note_order( $last_order->get_id() );
		}
		if ( $subscription instanceof \WC_Order ) {
			$this->record_subscription( $subscription, $subscription->get_status() );
		}
	}

	/**
	 * A product created or saved: woocommerce_new_product and woocommerce_update_product
	 * (int $id, WC_Product $product) (WooCommerce 8.9.1 data-stores/class-wc-product-data-store-cpt.php
	 * lines 152, 275). A stock change made by an order saves the product too.
	 *
	 * @param int   $product_id Product id.
	 * @param mixed $product    Product.
	 * @return void
	 */
	public function on_product_saved( $product_id, $product = null ) {
		$this->note_product( $product_id, $product instanceof \WC_Product ? $product : true );
	}

	/**
	 * Stock set: woocommerce_product_set_stock (WC_Product $product) (wc-stock-functions.php
	 * line 63, from wc_update_product_stock(), which an order's wc_reduce_stock_levels() calls;
	 * and the data store's handle_updated_props(), line 673).
	 *
	 * @param mixed $product Product.
	 * @return void
	 */
	public function on_stock_set( $product ) {
		if ( $product instanceof \WC_Product ) {
			$this->note_product( $product->get_id(), $product );
		}
	}

	/**
	 * Stock status set: woocommerce_product_set_stock_status (int $id, string $status,
	 * WC_Product $product) (class-wc-product-data-store-cpt.php line 681).
	 *
	 * @param int    $product_id   Product id.
	 * @param string $stock_status instock, outofstock or onbackorder.
	 * @param mixed  $product      Product.
	 * @return void
	 */
	public function on_stock_status_set( $product_id, $stock_status = '', $product = null ) {
		$this->note_product( $product_id, $product instanceof \WC_Product ? $product : true );
	}

	/**
	 * A variation saved or its stock set: woocommerce_new_product_variation,
	 * woocommerce_update_product_variation (int $id, WC_Product_Variation $variation)
	 * (class-wc-product-variation-data-store-cpt.php lines 181, 274), woocommerce_variation_set_stock
	 * (WC_Product_Variation $variation) and woocommerce_variation_set_stock_status (int $id, string
	 * $status, WC_Product_Variation $variation). The service knows products, not variations: the
	 * parent product is read at the end of the request.
	 *
	 * @param mixed $first  The variation, or its id.
	 * @param mixed $second Its object, or the stock status.
	 * @param mixed $third  Its object (stock status hook).
	 * @return void
	 */
	public function on_variation_changed( $first, $second = null, $third = null ) {
		foreach ( array( $first, $second, $third ) as $variation ) {
			if ( $variation instanceof \WC_Product ) {
				$this->note_product( $variation->get_parent_id() );
				return;
			}
		}
	}

	/**
	 * The product's images are read in one go (their posts and meta), not one query each.
	 *
	 * @param array<int, mixed> $products Noted products.
	 * @return array<int, mixed>
	 */
	protected function before_product_snapshots( array $products ) {
		$images = array();
		foreach ( $products as $noted ) {
			if ( $noted instanceof \WC_Product && $noted->get_image_id() ) {
				$images[] = (int) $noted->get_image_id();
			}
		}
		if ( count( $images ) > 1 && function_exists( '_prime_post_caches' ) ) {
			_prime_post_caches( $images, false, true );
		}
		return $products;
	}

	/**
	 * A product.updated snapshot of a WooCommerce product (the object a hook handed over, else
	 * loaded). `status`: a published product's stock status, else its post status.
	 *
	 * @param int   $product_id Product id.
	 * @param mixed $noted      Product or true.
	 * @return array|null
	 */
	protected function product_snapshot( $product_id, $noted ) {
		$product = $noted instanceof \WC_Product ? $noted : wc_get_product( $product_id );
		if ( ! $product instanceof \WC_Product || $product->is_type( 'variation' ) || 'auto-draft' === $product->get_status() ) {
			return null;
		}
		$id    = $product->get_id();
		$price = (string) $product->get_price();
		$sku   = (string) $product->get_sku();
		$image = $product->get_image_id() ? wp_get_attachment_image_url( $product->get_image_id(), 'woocommerce_thumbnail' ) : null;
		$stock = $product->managing_stock() ? $product->get_stock_quantity() : null;
		return array(
			'id'             => (string) $id,
			'name'           => mb_substr( (string) $product->get_name(), 0, 300 ),
			'sku'            => '' === $sku ? null : mb_substr( $sku, 0, 100 ),
			'price'          => '' === $price ? null : Events::money( $price ),
			'categories'     => self::term_names( $id, 'product_cat' ),
			'url'            => self::url_or_null( get_permalink( $id ) ),
			'image'          => self::url_or_null( $image ),
			'stock_quantity' => null === $stock ? null : (int) $stock,
			'status'         => self::product_status( $product->get_status(), $product->get_stock_status() ),
		);
	}

	/**
	 * Whether orders were deleted or the cart changed in this request.
	 *
	 * @return bool
	 */
	protected function has_pending_extras() {
		return $this->deleted || $this->cart->is_changed();
	}

	/**
	 * Records the deleted orders and the cart of this request.
	 *
	 * @return void
	 */
	protected function flush_extras() {
		$this->saved    = array();
		$this->placed   = array();
		$this->paid_now = array();
		$deleted        = array_keys( $this->deleted );
		$this->deleted  = array();
		foreach ( $deleted as $order_id ) {
			$this->record( 'order.deleted', array( 'order_id' => (string) $order_id ) );
		}
		$this->cart->flush();
	}

	/**
	 * Records a noted order by id.
	 *
	 * @param int   $order_id Order id.
	 * @param mixed $noted    Always true here.
	 * @return void
	 */
	protected function record_noted_order( $order_id, $noted ) {
		$this->record_order( $order_id );
	}

	/**
	 * Records one order snapshot, unless it is still an empty shell.
	 *
	 * @param int $order_id Order id.
	 * @return void
	 */
	public function record_order( $order_id ) {
		$order = isset( $this->saved[ (int) $order_id ] ) ? $this->saved[ (int) $order_id ] : wc_get_order( $order_id );
		// A WC_Subscription is a WC_Order too, but it is a contract, not a sale.
		if ( ! $order instanceof \WC_Order || is_a( $order, 'WC_Subscription' ) || ! $order->get_items() ) {
			return;
		}
		$paid_now = isset( $this->paid_now[ (int) $order_id ] ) ? $this->paid_now[ (int) $order_id ] : null;
		$this->record( 'order.updated', WooCommerce_Order_Snapshot::of( $order, $paid_now ), WooCommerce_Order_Snapshot::contact( $order ) );
	}

	/**
	 * Records a refund.
	 *
	 * @param int[] $noted [order id, refund id].
	 * @return void
	 */
	protected function record_refund( $noted ) {
		list( $order_id, $refund_id ) = $noted;
		$refund                       = wc_get_order( $refund_id );
		if ( ! $refund instanceof \WC_Order_Refund ) {
			return;
		}
		$this->record(
			'order.refunded',
			array(
				'order_id'   => (string) $order_id,
				'refund_id'  => (string) $refund_id,
				'amount'     => Events::money( $refund->get_amount() ),
				'reason'     => (string) $refund->get_reason(),
				'created_at' => Events::iso( $refund->get_date_created() ? $refund->get_date_created() : time() ),
			)
		);
	}

	/**
	 * Records a subscription snapshot.
	 *
	 * @param \WC_Order $subscription WC_Subscription.
	 * @param string    $status       Status.
	 * @return void
	 */
	private function record_subscription( $subscription, $status ) {
		$items   = $subscription->get_items();
		$item    = $items ? reset( $items ) : null;
		$expires = method_exists( $subscription, 'get_date' ) ? $subscription->get_date( 'next_payment' ) : '';
		$this->record(
			'subscription.updated',
			array(
				'id'          => (string) $subscription->get_id(),
				'kind'        => 'subscription',
				'status'      => (string) $status,
				'product_id'  => $item ? (string) $item->get_product_id() : null,
				'expires_at'  => $expires ? Events::iso( $expires ) : null,
				'renewal_url' => method_exists( $subscription, 'get_view_order_url' ) ? $subscription->get_view_order_url() : null,
			),
			WooCommerce_Order_Snapshot::contact( $subscription )
		);
	}
}
