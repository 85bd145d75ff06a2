<?php
/**
 * Test doubles for FluentCart. Model and attribute names follow fluent-cart/fluent-cart
 * app/Models/{Order,OrderItem,Customer,Cart,OrderTransaction,Subscription}.php; the
 * dispatchers fire the hooks with the arrays built in app/Hooks/actions.php
 * (fluent_cart/order_paid_done), app/Events/Order/OrderStatusUpdated.php,
 * app/Events/Order/OrderRefund.php, app/Events/Subscription/SubscriptionRenewed.php
 * and app/Models/Cart.php (addItem/removeItem). Amounts are integer cents.
 *
 * @package SalesCompanion\Tests
 */

// phpcs:disable Generic.Files.OneObjectStructurePerFile, Squiz.Commenting

namespace FluentCart\App {
	class App {
	}
}

namespace FluentCart\Api {
	class CurrencySettings {
		public static function get( $key = '' ) {
			return 'usd';
		}
	}
}

namespace FluentCart\App\Models {
	/** Eloquent-style: attributes behind __get/__set, toArray(), create(), find(), query(). */
	class Model {
		/** Saved rows per model class, by id. */
		public static $rows = array();
		protected $attributes = array();
		public static function create( array $attributes ) {
			$model = new static( $attributes );
			self::$rows[ static::class ][ (int) $attributes['id'] ] = $model;
			return $model;
		}
		public static function find( $id ) {
			return self::$rows[ static::class ][ (int) $id ] ?? null;
		}
		public static function query() {
			return new Builder( array_values( self::$rows[ static::class ] ?? array() ) );
		}
		public function __construct( array $attributes = array() ) {
			$this->attributes = $attributes;
		}
		public function __get( $key ) {
			return $this->attributes[ $key ] ?? null;
		}
		public function __set( $key, $value ) {
			$this->attributes[ $key ] = $value;
		}
		public function __isset( $key ) {
			return isset( $this->attributes[ $key ] );
		}
		public function toArray() {
			return $this->attributes;
		}
		/** Eloquent's fill(): mass-assigns attributes. */
		public function fill( array $attributes ) {
			foreach ( $attributes as $key => $value ) {
				$this->attributes[ $key ] = $value;
			}
			return $this;
		}
		public function save() {
			return true;
		}
	}
	/** The slice of FluentCart\\Framework\\Database\\Orm\\Builder the plugin uses. */
	class Builder {
		private $models;
		private $offset = 0;
		private $limit  = null;
		public function __construct( array $models ) {
			$this->models = $models;
		}
		public function where( $column, $value ) {
			$this->models = array_values( array_filter( $this->models, function ( $model ) use ( $column, $value ) {
				return (string) $model->$column === (string) $value;
			} ) );
			return $this;
		}
		public function orderBy( $column, $direction = 'asc' ) {
			usort( $this->models, function ( $a, $b ) use ( $column, $direction ) {
				return ( 'asc' === strtolower( $direction ) ? 1 : -1 ) * ( $a->$column <=> $b->$column );
			} );
			return $this;
		}
		public function offset( $offset ) {
			$this->offset = $offset;
			return $this;
		}
		public function limit( $limit ) {
			$this->limit = $limit;
			return $this;
		}
		public function get() {
			return array_slice( $this->models, $this->offset, $this->limit );
		}
		public function count() {
			return count( $this->models );
		}
		public function first() {
			return $this->models[0] ?? null;
		}
	}
	class Order extends Model {
	}
	class OrderItem extends Model {
	}
	class Customer extends Model {
	}
	class OrderTransaction extends Model {
	}
	class Subscription extends Model {
	}
	/** app/Models/ProductDetail.php (fct_product_details: post_id, min_price (cents), manage_stock, stock_availability). */
	class ProductDetail extends Model {
	}
	/** app/Models/ProductVariation.php (fct_product_variations: post_id, item_price, manage_stock, available, stock_status). */
	class ProductVariation extends Model {
	}
	class Cart extends Model {
		/** As Cart::addItem(): item_added and cart_data_items_updated. */
		public function addItem( $item = array(), $replacingIndex = null ) {
			$cart_data       = (array) $this->cart_data;
			$cart_data[]     = $item;
			$this->cart_data = array_values( $cart_data );
			do_action( 'fluent_cart/cart/item_added', array( 'cart' => $this, 'item' => $item ) );
			do_action( 'fluent_cart/cart/cart_data_items_updated', array( 'cart' => $this, 'scope' => 'item_added', 'scope_data' => $item ) );
			return $this;
		}
		/** As Cart::removeItem(): item_removed and cart_data_items_updated. */
		public function removeItem( $variationId, $extraArgs = array(), $triggerEvent = true ) {
			$removed   = null;
			$cart_data = array();
			foreach ( (array) $this->cart_data as $line ) {
				if ( null === $removed && (int) $line['object_id'] === (int) $variationId ) {
					$removed = $line;
					continue;
				}
				$cart_data[] = $line;
			}
			$this->cart_data = $cart_data;
			if ( $triggerEvent ) {
				do_action( 'fluent_cart/cart/item_removed', array( 'cart' => $this, 'variation_id' => $variationId, 'extra_args' => $extraArgs, 'removed_item' => $removed ) );
			}
			do_action( 'fluent_cart/cart/cart_data_items_updated', array( 'cart' => $this, 'scope' => 'item_removed', 'scope_data' => $variationId ) );
			return $this;
		}
	}
}

namespace SalesCompanion\Tests\FluentCart {
	use FluentCart\App\Models\Cart;
	use FluentCart\App\Models\Order;
	use FluentCart\App\Models\OrderTransaction;
	use FluentCart\App\Models\Subscription;

	/** As the order_paid_async handler in app/Hooks/actions.php. */
	function dispatch_order_paid_done( Order $order, OrderTransaction $transaction ) {
		do_action( 'fluent_cart/order_paid_done', array( 'order' => $order, 'transaction' => $transaction, 'customer' => $order->customer ) );
	}

	/** As OrderStatusUpdated::afterDispatch() for type payment_status / order_status. */
	function dispatch_status_updated( Order $order, $old, $new, $type = 'payment_status' ) {
		$key         = 'payment_status' === $type ? 'payment_status' : 'status';
		$order->$key = $new;
		$data        = array( 'order' => $order, 'old_status' => $old, 'new_status' => $new, 'manageStock' => true, 'activity' => array() );
		$prefix      = 'payment_status' === $type ? 'fluent_cart/payment_status_changed' : 'fluent_cart/order_status_changed';
		do_action( $prefix . '_to_' . $new, $data );
		do_action( $prefix, $data );
	}

	/** As OrderRefund::afterDispatch(): order_refunded, then fully_ or partially_refunded. */
	function dispatch_refund( Order $order, OrderTransaction $refund, $cents, $full ) {
		$order->payment_status = $full ? 'refunded' : 'partially_refunded';
		$order->total_refund   = (int) $order->total_refund + $cents;
		$data                  = array(
			'order'              => $order,
			'refunded_items'     => array(),
			'new_refunded_items' => array(),
			'refunded_amount'    => $cents,
			'manage_stock'       => false,
			'transaction'        => $refund,
			'customer'           => $order->customer,
			'type'               => $full ? 'full' : 'partial',
		);
		do_action( 'fluent_cart/order_refunded', $data );
		do_action( $full ? 'fluent_cart/order_fully_refunded' : 'fluent_cart/order_partially_refunded', $data );
	}

	/**
	 * As WebCheckoutHandler::handleSaveCustomerDataAjax() (FluentCart 1.3.25
	 * app/Hooks/Cart/WebCheckoutHandler.php lines 946-1051; no route reaches it in 1.3.25, the
	 * checkout form uses patchCheckoutData() below, but its hooks are kept by add-ons' callers): the typed value goes into
	 * checkout_data through the filter fluent_cart/checkout/before_patch_checkout_data (line 999),
	 * the cart is filled and saved, and the handler returns (line 1044) before
	 * fluent_cart/checkout/form_data_changed (line 1126), which never fires here. $cart->email
	 * is not set on this path.
	 */
	function dispatch_save_customer_data( Cart $cart, $key, $value ) {
		$checkout_data     = (array) $cart->checkout_data;
		$old_checkout_data = $checkout_data;
		$prev_value        = $checkout_data['form_data'][ $key ] ?? '';
		if ( $prev_value === $value ) {
			return;
		}
		$checkout_data['form_data'][ $key ] = $value;
		$fill_data                          = apply_filters(
			'fluent_cart/checkout/before_patch_checkout_data',
			array( 'checkout_data' => $checkout_data, 'cart_data' => $cart->cart_data, 'hook_changes' => array( 'shipping' => false, 'tax' => false ) ),
			array( 'cart' => $cart, 'key' => $key, 'value' => $value, 'prev_value' => $prev_value, 'old_checkout_data' => $old_checkout_data )
		);
		unset( $fill_data['hook_changes'] );
		$cart->fill( $fill_data );
		$cart->save();
	}

	/**
	 * As WebCheckoutHandler::patchCheckoutData() (lines 696-944), the route
	 * fc_checkout_action=save_checkout_data (line 82) the checkout form posts each field to (no
	 * form_data_changed on this path either): the changed fields go through
	 * before_patch_checkout_data (line 797), then billing_email becomes $cart->email and
	 * billing_full_name first/last name (lines 805-814), the cart is filled and saved, and
	 * after_patch_checkout_data_fragments (line 933) gets the cart and the changes.
	 */
	function dispatch_patch_checkout_data( Cart $cart, array $changes ) {
		$checkout_data = (array) $cart->checkout_data;
		foreach ( $changes as $key => $value ) {
			$checkout_data['form_data'][ $key ] = $value;
		}
		$fill_data = apply_filters(
			'fluent_cart/checkout/before_patch_checkout_data',
			array( 'checkout_data' => $checkout_data, 'cart_data' => $cart->cart_data, 'hook_changes' => array( 'shipping' => false, 'tax' => false ) ),
			array( 'cart' => $cart, 'prev_data' => array(), 'changes' => $changes, 'all_data' => $changes )
		);
		unset( $fill_data['hook_changes'] );
		if ( isset( $changes['billing_email'] ) ) {
			$cart->email = $changes['billing_email'];
		}
		if ( isset( $changes['billing_full_name'] ) ) {
			$parts            = explode( ' ', $changes['billing_full_name'] );
			$cart->first_name = array_shift( $parts );
			$cart->last_name  = implode( ' ', $parts );
		}
		$cart->fill( $fill_data );
		$cart->save();
		apply_filters( 'fluent_cart/checkout/after_patch_checkout_data_fragments', array(), array( 'cart' => $cart, 'changes' => $changes ) );
	}

	/**
	 * As ProductController::update() (FluentCart 1.3.25 app/Http/Controllers/ProductController.php
	 * lines 306-336): ProductResource::update() saves the post (wp_update_post()), the detail and
	 * the variations and dispatches StockChanged (fluent_cart/product_stock_changed with
	 * post_ids, api/Resource/ProductResource.php line 310), then fluent_cart/product_updated
	 * gets the request data and the Product model.
	 */
	function dispatch_product_updated( $post_id, array $post ) {
		wp_update_post( array_merge( array( 'ID' => $post_id ), $post ) );
		do_action( 'fluent_cart/product_stock_changed', array( 'post_ids' => array( $post_id ), 'other_info' => null ) );
		do_action( 'fluent_cart/product_updated', array( 'data' => $post, 'product' => (object) array( 'ID' => $post_id ) ) );
	}

	/**
	 * As CheckoutApi::finalizeOrder() (api/Checkout/CheckoutApi.php lines 386-388): OrderCreated
	 * (StockManagement::manageStockOnOrderCreated() lowers each managed variation's `available`
	 * and sets the detail's stock_availability, app/Modules/StockManagement/StockManagement.php
	 * lines 113-246), then updateStock() dispatches StockChanged for the order's products.
	 */
	function dispatch_order_created_with_stock( array $taken ) {
		foreach ( $taken as $post_id => $quantity ) {
			$in_stock = false;
			foreach ( \FluentCart\App\Models\ProductVariation::query()->where( 'post_id', $post_id )->get() as $variation ) {
				$variation->available    = max( 0, (int) $variation->available - $quantity );
				$variation->stock_status = $variation->available > 0 ? 'in-stock' : 'out-of-stock';
				$in_stock                = $in_stock || $variation->available > 0;
			}
			$detail                     = \FluentCart\App\Models\ProductDetail::query()->where( 'post_id', $post_id )->first();
			$detail->stock_availability = $in_stock ? 'in-stock' : 'out-of-stock';
		}
		do_action( 'fluent_cart/product_stock_changed', array( 'post_ids' => array_keys( $taken ), 'other_info' => null ) );
	}

	/** As SubscriptionRenewed::toArray(). */
	function dispatch_subscription_renewed( Subscription $subscription, Order $new_order, Order $main_order ) {
		do_action( 'fluent_cart/subscription_renewed', array( 'subscription' => $subscription, 'order' => $new_order, 'main_order' => $main_order, 'customer' => $main_order->customer ) );
	}
}
