<?php
/**
 * FluentCart collector. FluentCart keeps amounts in cents.
 *
 * @package SalesCompanion
 */

namespace SalesCompanion;

if ( ! defined( 'ABSPATH' ) ) {
	exit;
}

/**
 * FluentCart hooks pass one array ($data['order'], $data['cart'] ...); this
 * collector keeps the latest model per order and cart and records at flush().
 */
class Source_FluentCart extends Source {

	const SOURCE = 'fluentcart';

	const PRODUCT_POST_TYPE = 'fluent-products';

	/**
	 * FluentCart's stock availability (app/Helpers/Status.php: in-stock, out-of-stock; the
	 * column also allows backorder) as product.updated's stock status.
	 */
	const STOCK = array(
		'in-stock'     => 'instock',
		'out-of-stock' => 'outofstock',
		'backorder'    => 'onbackorder',
	);

	/**
	 * Carts changed in this request, by hash.
	 *
	 * @var array<string, object>
	 */
	private $carts = array();

	/**
	 * Normalised status from FluentCart's order status and payment status.
	 *
	 * @param string $status         Order status.
	 * @param string $payment_status Payment status.
	 * @return string
	 */
	public static function normalise_status( $status, $payment_status ) {
		if ( 'refunded' === $payment_status ) {
			return 'refunded';
		}
		$map = array(
			'completed' => 'completed',
			'canceled'  => 'cancelled',
			'cancelled' => 'cancelled',
			'failed'    => 'failed',
			'on-hold'   => 'on_hold',
			'draft'     => 'draft',
		);
		if ( isset( $map[ $status ] ) ) {
			return $map[ $status ];
		}
		$paid = array( 'paid', 'partially_refunded', 'partially_paid' );
		return in_array( $payment_status, $paid, true ) ? 'processing' : 'pending';
	}

	/**
	 * Hook fluent_cart/order_paid_done (array $data: order, transaction, customer[, subscription]).
	 *
	 * @param array $data Event data.
	 * @return void
	 */
	public function on_order_paid( $data ) {
		$this->keep_order( $data );
	}

	/**
	 * Hook fluent_cart/order_status_changed and payment_status_changed (array $data: order, old_status, new_status, ...).
	 *
	 * @param array $data Event data.
	 * @return void
	 */
	public function on_status_changed( $data ) {
		$this->keep_order( $data );
	}

	/**
	 * Hook fluent_cart/order_refunded (array $data: order, refunded_amount (cents), transaction, type, ...).
	 *
	 * @param array $data Event data.
	 * @return void
	 */
	public function on_refunded( $data ) {
		$this->keep_order( $data );
		if ( is_array( $data ) && isset( $data['order'] ) ) {
			$this->refunds[] = $data;
		}
	}

	/**
	 * Hook fluent_cart/cart/cart_data_items_updated and checkout/form_data_changed (array $data: cart, ...).
	 *
	 * @param array $data Event data.
	 * @return void
	 */
	public function on_cart_updated( $data ) {
		if ( is_array( $data ) && isset( $data['cart'] ) && is_object( $data['cart'] ) ) {
			$this->carts[ (string) $data['cart']->cart_hash ] = $data['cart'];
		}
	}

	/**
	 * Filter fluent_cart/checkout/before_patch_checkout_data (array $fill_data, array $args: cart,
	 * changes ... or key, value ...). In FluentCart 1.3.25 the checkout form's fields go through
	 * the route save_checkout_data, patchCheckoutData() (app/Hooks/Cart/WebCheckoutHandler.php
	 * lines 82, 696), which never fires checkout/form_data_changed; the older
	 * handleSaveCustomerDataAjax() fires it only after a return (lines 1044, 1126). So a guest
	 * typing an email reaches us only through these filters. The value is in the cart by the
	 * time flush() reads it.
	 *
	 * @param array $fill_data What FluentCart fills the cart with; returned unchanged.
	 * @param array $args      The cart and what changed.
	 * @return array
	 */
	public function on_checkout_patch( $fill_data, $args = array() ) {
		$this->on_cart_updated( $args );
		return $fill_data;
	}

	/**
	 * Filter fluent_cart/checkout/after_patch_checkout_data_fragments (array $fragments, array
	 * $args: cart, changes): patchCheckoutData() has set the cart's email and names.
	 *
	 * @param array $fragments Page fragments; returned unchanged.
	 * @param array $args      The cart and what changed.
	 * @return array
	 */
	public function on_checkout_patched( $fragments, $args = array() ) {
		$this->on_cart_updated( $args );
		return $fragments;
	}

	/**
	 * Subscription renewed, canceled, end of term, validity expired (array $data: subscription, order?, customer?).
	 *
	 * @param array $data Event data.
	 * @return void
	 */
	public function on_subscription( $data ) {
		if ( ! is_array( $data ) || empty( $data['subscription'] ) ) {
			return;
		}
		if ( ! empty( $data['order'] ) ) {
			$this->keep_order( $data );
		}
		$subscription = $data['subscription'];
		$customer     = ! empty( $data['customer'] ) ? $data['customer'] : null;
		$this->record(
			'subscription.updated',
			array(
				'id'          => (string) $subscription->id,
				'kind'        => 'subscription',
				'status'      => (string) $subscription->status,
				'product_id'  => (string) $subscription->product_id,
				'expires_at'  => Events::iso( $subscription->next_billing_date ? $subscription->next_billing_date : $subscription->expire_at ),
				'renewal_url' => null,
			),
			$customer ? self::customer_contact( $customer ) : array()
		);
	}

	/**
	 * Keeps the order of a hook's data.
	 *
	 * @param mixed $data Event data.
	 * @return void
	 */
	private function keep_order( $data ) {
		if ( is_array( $data ) && isset( $data['order'] ) && is_object( $data['order'] ) ) {
			$this->orders[ (int) $data['order']->id ] = $data['order'];
		}
	}

	/**
	 * Notes an order by id (history sync): FluentCart's Order::find().
	 *
	 * @param int $order_id Order.
	 * @return void
	 */
	public function note_order( $order_id ) {
		$order = \FluentCart\App\Models\Order::find( $order_id );
		if ( $order ) {
			$this->orders[ (int) $order->id ] = $order;
		}
	}

	/**
	 * Notes a refund transaction by id (history sync); its total is in cents.
	 *
	 * @param int $order_id  Order.
	 * @param int $refund_id OrderTransaction of type refund.
	 * @return void
	 */
	public function note_refund( $order_id, $refund_id ) {
		$order       = \FluentCart\App\Models\Order::find( $order_id );
		$transaction = \FluentCart\App\Models\OrderTransaction::find( $refund_id );
		if ( $order && $transaction ) {
			$this->refunds[] = array(
				'order'           => $order,
				'transaction'     => $transaction,
				'refunded_amount' => (int) $transaction->total,
			);
		}
	}

	/**
	 * Hook fluent_cart/product_updated (array $data: data, product): ProductController::update()
	 * (FluentCart 1.3.25 app/Http/Controllers/ProductController.php line 333), after the
	 * product, its details and variations are saved; `product` is the Product model.
	 *
	 * @param array $data Event data.
	 * @return void
	 */
	public function on_product_updated( $data ) {
		if ( is_array( $data ) && isset( $data['product'] ) && is_object( $data['product'] ) ) {
			$this->note_product( (int) $data['product']->ID );
		}
	}

	/**
	 * Hook fluent_cart/product_stock_changed (array $data: post_ids, other_info): the StockChanged
	 * event (app/Events/StockChanged.php), dispatched by CheckoutApi::updateStock() after an order
	 * is placed (api/Checkout/CheckoutApi.php lines 388, 444; StockManagement took the stock on
	 * order_created) and by ProductResource::update() (api/Resource/ProductResource.php line 310).
	 *
	 * @param array $data Event data.
	 * @return void
	 */
	public function on_stock_changed( $data ) {
		foreach ( (array) ( is_array( $data ) && isset( $data['post_ids'] ) ? $data['post_ids'] : array() ) as $post_id ) {
			$this->note_product( (int) $post_id );
		}
	}

	/**
	 * A product.updated snapshot of a FluentCart product: the post, its ProductDetail
	 * (min_price in cents, manage_stock, stock_availability) and, when stock is managed, the sum
	 * of its variations' `available`.
	 *
	 * @param int   $product_id Product (post) id.
	 * @param mixed $noted      True.
	 * @return array|null
	 */
	protected function product_snapshot( $product_id, $noted ) {
		$post = get_post( $product_id );
		if ( ! $post || self::PRODUCT_POST_TYPE !== $post->post_type || 'auto-draft' === $post->post_status ) {
			return null;
		}
		$detail = \FluentCart\App\Models\ProductDetail::query()->where( 'post_id', $product_id )->first();
		$stock  = null;
		if ( $detail && (int) $detail->manage_stock ) {
			$stock = 0;
			foreach ( \FluentCart\App\Models\ProductVariation::query()->where( 'post_id', $product_id )->get() as $variation ) {
				$stock += (int) $variation->available;
			}
		}
		$availability = $detail ? (string) $detail->stock_availability : 'in-stock';
		return array(
			'id'             => (string) $product_id,
			'name'           => mb_substr( (string) $post->post_title, 0, 300 ),
			'sku'            => null,
			'price'          => $detail ? Events::cents( $detail->min_price ) : null,
			'categories'     => self::term_names( $product_id, 'product-categories' ),
			'url'            => self::url_or_null( get_permalink( $post ) ),
			'image'          => self::url_or_null( get_the_post_thumbnail_url( $post, 'thumbnail' ) ),
			'stock_quantity' => $stock,
			'status'         => self::product_status( $post->post_status, self::STOCK[ $availability ] ?? 'instock' ),
		);
	}

	/**
	 * Whether a cart changed in this request.
	 *
	 * @return bool
	 */
	protected function has_pending_extras() {
		return (bool) $this->carts;
	}

	/**
	 * Records the carts that changed (when cart tracking is on).
	 *
	 * @return void
	 */
	protected function flush_extras() {
		$carts       = $this->carts;
		$this->carts = array();
		if ( $this->tracks_carts() ) {
			foreach ( $carts as $cart ) {
				$this->record_cart( $cart );
			}
		}
	}

	/**
	 * Records the model a hook or the history sync kept for an order.
	 *
	 * @param int    $order_id Order id.
	 * @param object $noted    FluentCart\App\Models\Order.
	 * @return void
	 */
	protected function record_noted_order( $order_id, $noted ) {
		$customer = isset( $noted->customer ) && $noted->customer ? self::customer_contact( $noted->customer ) : array();
		$this->record( 'order.updated', $this->snapshot( $noted ), $customer );
	}

	/**
	 * Order.updated data of a FluentCart order.
	 *
	 * @param object $order FluentCart\App\Models\Order.
	 * @return array
	 */
	public function snapshot( $order ) {
		$status = self::normalise_status( (string) $order->status, (string) $order->payment_status );
		$paid   = in_array( $status, array( 'processing', 'completed', 'refunded' ), true );
		return array(
			'id'             => (string) $order->id,
			'number'         => (string) ( $order->invoice_no ? $order->invoice_no : $order->id ),
			'status'         => $status,
			'currency'       => strtoupper( (string) $order->currency ),
			'total'          => Events::cents( $order->total_amount ),
			'subtotal'       => Events::cents( $order->subtotal ),
			'discount_total' => Events::cents( (int) $order->coupon_discount_total + (int) $order->manual_discount_total ),
			'tax_total'      => Events::cents( $order->tax_total ),
			'shipping_total' => Events::cents( $order->shipping_total ),
			'coupons'        => array(),
			'items'          => self::items( $order->order_items ),
			'payment_method' => (string) $order->payment_method,
			'created_via'    => 'checkout',
			'attribution'    => null,
			'device'         => '',
			'cart_token'     => '',
			'parent_id'      => $order->parent_id ? (string) $order->parent_id : null,
			'is_renewal'     => 'renewal' === $order->type,
			'created_at'     => Events::iso( $order->created_at ),
			'paid_at'        => $paid ? Events::iso( $order->updated_at ? $order->updated_at : time() ) : null,
			'completed_at'   => Events::iso( $order->completed_at ),
			'modified_at'    => Events::iso( $order->updated_at ? $order->updated_at : $order->created_at ),
		);
	}

	/**
	 * Order or cart lines (OrderItem models or cart_data arrays).
	 *
	 * @param iterable|null $lines Lines.
	 * @return array
	 */
	public static function items( $lines ) {
		$items = array();
		foreach ( ( is_iterable( $lines ) ? $lines : array() ) as $line ) {
			$line    = is_object( $line ) ? (array) ( method_exists( $line, 'toArray' ) ? $line->toArray() : get_object_vars( $line ) ) : (array) $line;
			$items[] = array(
				'product_id'   => (string) ( $line['post_id'] ?? '' ),
				'variation_id' => (string) ( $line['object_id'] ?? '0' ),
				'sku'          => '',
				'name'         => (string) ( $line['post_title'] ?? $line['title'] ?? '' ),
				'quantity'     => (int) ( $line['quantity'] ?? 1 ),
				'price'        => Events::cents( $line['unit_price'] ?? 0 ),
				'total'        => Events::cents( $line['line_total'] ?? 0 ),
				'categories'   => array(),
			);
		}
		return $items;
	}

	/**
	 * Contact of a FluentCart customer model.
	 *
	 * @param object $customer Customer.
	 * @return array
	 */
	private static function customer_contact( $customer ) {
		return array(
			'email'      => (string) $customer->email,
			'first_name' => (string) $customer->first_name,
			'last_name'  => (string) $customer->last_name,
			'wp_user_id' => (int) $customer->user_id,
		);
	}

	/**
	 * Records a refund.
	 *
	 * @param array $data fluent_cart/order_refunded data.
	 * @return void
	 */
	protected function record_refund( $data ) {
		$transaction = isset( $data['transaction'] ) ? $data['transaction'] : null;
		$this->record(
			'order.refunded',
			array(
				'order_id'   => (string) $data['order']->id,
				'refund_id'  => $transaction ? (string) $transaction->id : (string) $data['order']->id . '-' . (int) $data['refunded_amount'],
				'amount'     => Events::cents( $data['refunded_amount'] ?? 0 ),
				'reason'     => '',
				'created_at' => Events::iso( $transaction && $transaction->created_at ? $transaction->created_at : time() ),
			)
		);
	}

	/**
	 * Records a cart; the cart hash is the cart token.
	 *
	 * @param object $cart FluentCart\App\Models\Cart.
	 * @return void
	 */
	private function record_cart( $cart ) {
		$lines = (array) $cart->cart_data;
		$value = 0;
		foreach ( $lines as $line ) {
			$value += (int) ( $line['line_total'] ?? 0 );
		}
		$this->record(
			'cart.updated',
			array(
				'cart_token'   => (string) $cart->cart_hash,
				'currency'     => self::currency(),
				'value'        => Events::cents( $value ),
				'items'        => self::items( $lines ),
				'checkout_url' => home_url( '/' ),
			),
			self::cart_contact( $cart )
		);
	}

	/**
	 * Who the cart belongs to: its own fields, else what the checkout form holds (a guest's
	 * typed email sits only in checkout_data.form_data until the order).
	 *
	 * @param object $cart FluentCart\App\Models\Cart.
	 * @return array
	 */
	private static function cart_contact( $cart ) {
		$form  = (array) ( ( (array) $cart->checkout_data )['form_data'] ?? array() );
		$parts = explode( ' ', trim( (string) ( $form['billing_full_name'] ?? '' ) ), 2 );
		return array(
			'email'      => (string) ( $cart->email ? $cart->email : ( $form['billing_email'] ?? '' ) ),
			'first_name' => (string) ( $cart->first_name ? $cart->first_name : $parts[0] ),
			'last_name'  => (string) ( $cart->last_name ? $cart->last_name : ( $parts[1] ?? '' ) ),
			'wp_user_id' => (int) $cart->user_id,
		);
	}

	/**
	 * The store currency.
	 *
	 * @return string
	 */
	private static function currency() {
		if ( class_exists( '\FluentCart\Api\CurrencySettings' ) ) {
			return strtoupper( (string) \FluentCart\Api\CurrencySettings::get( 'currency' ) );
		}
		return 'USD';
	}
}
