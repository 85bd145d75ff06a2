<?php
/**
 * Test doubles for WooCommerce. Class, method and hook names and argument lists
 * follow woocommerce/woocommerce plugins/woocommerce/includes/ (abstracts/
 * abstract-wc-order.php, class-wc-order.php, class-wc-order-refund.php,
 * class-wc-cart.php, wc-order-functions.php, wc-core-functions.php) and the
 * sequences observed in WOOCOMMERCE-FACTS.md. Only what the plugin touches.
 *
 * @package SalesCompanion\Tests
 */

// phpcs:disable Generic.Files.OneObjectStructurePerFile, Squiz.Commenting

namespace Automattic\WooCommerce\Utilities {
	class FeaturesUtil {
		public static $declared = array();

		public static function declare_compatibility( $feature_id, $plugin_file, $positive_compatibility = true ) {
			self::$declared[ $feature_id ][ $plugin_file ] = $positive_compatibility;
			return true;
		}
	}
}

namespace {

	final class WooCommerce {
		public static $instance;
		public $cart;
		public $session;
		public static function instance() {
			if ( null === self::$instance ) {
				self::$instance          = new self();
				self::$instance->session = new WC_Session_Handler();
				self::$instance->cart    = new WC_Cart();
			}
			return self::$instance;
		}
	}

	function WC() { // phpcs:ignore WordPress.NamingConventions.ValidFunctionName
		return WooCommerce::instance();
	}

	class WC_DateTime extends DateTime {
	}

	class WC_Session_Handler {
		private $data = array();
		public function get( $key, $default = null ) {
			return array_key_exists( $key, $this->data ) ? $this->data[ $key ] : $default;
		}
		public function set( $key, $value ) {
			$this->data[ $key ] = $value;
		}
	}

	class WC_Data {
		protected $id   = 0;
		protected $data = array();
		protected $meta = array();
		/** Meta keys changed since they were last written. */
		protected $meta_changed = array();

		public function get_id() {
			return $this->id;
		}
		public function get_meta( $key = '', $single = true, $context = 'view' ) {
			return isset( $this->meta[ $key ] ) ? $this->meta[ $key ] : '';
		}
		public function update_meta_data( $key, $value, $meta_id = 0 ) {
			$this->meta[ $key ]         = $value;
			$this->meta_changed[ $key ] = true;
		}
		/**
		 * As WC_Data::save_meta_data() on HPOS (woocommerce 8.9.1): each changed row is one INSERT or
		 * UPDATE (CustomMetaDataStore::add_meta, src/Internal/DataStores/CustomMetaDataStore.php
		 * line 115), counted in WC_Doubles::$meta_writes. Called on its own, outside the order's
		 * save, OrdersTableDataStore::after_meta_change() (src/Internal/DataStores/Orders/
		 * OrdersTableDataStore.php lines 3068-3081) then saves the whole order again, or drops it
		 * from the order cache so the request reads it again: one more entry (3 queries on a real
		 * classic checkout, so counting it as one is lenient).
		 */
		public function save_meta_data() {
			$this->write_meta( true );
		}
		/** The data store's update() writes changed meta inside the order's own save (OrdersTableDataStore.php line 2543). */
		protected function write_meta( $alone ) {
			if ( ! $this->meta_changed ) {
				return;
			}
			foreach ( array_keys( $this->meta_changed ) as $key ) {
				WC_Doubles::$meta_writes[] = $key;
			}
			if ( $alone ) {
				WC_Doubles::$meta_writes[] = '(the order saved or read again)';
			}
			$this->meta_changed = array();
		}
		protected function prop( $key ) {
			return isset( $this->data[ $key ] ) ? $this->data[ $key ] : '';
		}
		public function set_props( $props ) {
			foreach ( $props as $key => $value ) {
				$this->data[ $key ] = $value;
			}
		}
	}

	/**
	 * WooCommerce 8.9.1 (userixxx/StropyMarket b87b6d3, wp-content/plugins/woocommerce):
	 * abstracts/abstract-wc-product.php (getters; save() line 1413 runs validate_props() line 1384,
	 * then the data store) and data-stores/class-wc-product-data-store-cpt.php: create() inserts
	 * the post and fires woocommerce_new_product( $id, $product ) (line 152); update() runs
	 * handle_updated_props(), which fires woocommerce_product_set_stock( $product ) (line 673) and
	 * woocommerce_product_set_stock_status( $id, $status, $product ) (line 681) for those changed
	 * props, then woocommerce_update_product( $id, $product ) (line 275). A product made with
	 * add_product() has no post (the order tests need none); one saved with save() is a real post.
	 */
	class WC_Product extends WC_Data {
		protected $changes = array();
		public function __construct( $id = 0, $props = array() ) {
			$this->id   = $id;
			$this->data = array_merge( array( 'status' => 'publish', 'stock_status' => 'instock', 'manage_stock' => false, 'stock_quantity' => null, 'backorders' => 'no', 'image_id' => 0, 'parent_id' => 0 ), $props );
		}
		public function get_type() {
			return 'simple';
		}
		public function is_type( $type ) {
			return in_array( $this->get_type(), (array) $type, true );
		}
		public function get_name( $context = 'view' ) {
			return $this->prop( 'name' );
		}
		public function get_sku( $context = 'view' ) {
			return $this->prop( 'sku' );
		}
		public function get_price( $context = 'view' ) {
			return $this->prop( 'price' );
		}
		public function get_status( $context = 'view' ) {
			return $this->prop( 'status' );
		}
		public function get_stock_status( $context = 'view' ) {
			return $this->prop( 'stock_status' );
		}
		public function get_stock_quantity( $context = 'view' ) {
			return $this->data['stock_quantity'];
		}
		public function managing_stock() {
			return (bool) $this->prop( 'manage_stock' );
		}
		public function get_image_id( $context = 'view' ) {
			return (int) $this->prop( 'image_id' );
		}
		public function get_parent_id( $context = 'view' ) {
			return (int) $this->prop( 'parent_id' );
		}
		public function get_stock_managed_by_id() {
			return $this->get_id();
		}
		public function set_props( $props ) {
			foreach ( $props as $key => $value ) {
				if ( ! array_key_exists( $key, $this->data ) || $this->data[ $key ] !== $value ) {
					$this->changes[ $key ] = true;
				}
				$this->data[ $key ] = $value;
			}
		}
		/** As validate_props() (abstract-wc-product.php line 1384), woocommerce_notify_no_stock_amount 0. */
		public function validate_props() {
			if ( ! $this->managing_stock() ) {
				$this->set_props( array( 'stock_quantity' => null ) );
				return;
			}
			$status = (int) $this->get_stock_quantity() > 0 ? 'instock' : ( 'no' !== $this->prop( 'backorders' ) ? 'onbackorder' : 'outofstock' );
			$this->set_props( array( 'stock_status' => $status ) );
		}
		public function save() {
			$this->validate_props();
			$post = array( 'post_type' => $this->is_type( 'variation' ) ? 'product_variation' : 'product', 'post_title' => $this->get_name(), 'post_status' => $this->get_status(), 'post_parent' => $this->get_parent_id() );
			$new  = ! $this->id;
			if ( $new ) {
				$this->id = wp_insert_post( $post );
			} elseif ( isset( $this->changes['name'] ) || isset( $this->changes['status'] ) ) {
				wp_update_post( array_merge( $post, array( 'ID' => $this->id ) ) );
			}
			WC_Doubles::$products[ $this->id ] = $this;
			$changed       = $this->changes;
			$this->changes = array();
			$variation     = $this->is_type( 'variation' );
			if ( $new ) {
				do_action( $variation ? 'woocommerce_new_product_variation' : 'woocommerce_new_product', $this->id, $this );
				return $this->id;
			}
			if ( isset( $changed['stock_quantity'] ) ) {
				do_action( $variation ? 'woocommerce_variation_set_stock' : 'woocommerce_product_set_stock', $this );
			}
			if ( isset( $changed['stock_status'] ) ) {
				do_action( $variation ? 'woocommerce_variation_set_stock_status' : 'woocommerce_product_set_stock_status', $this->id, $this->get_stock_status(), $this );
			}
			do_action( $variation ? 'woocommerce_update_product_variation' : 'woocommerce_update_product', $this->id, $this );
			return $this->id;
		}
	}

	/** includes/class-wc-product-variation.php: a variation has its own stock; its parent is the product. */
	class WC_Product_Variation extends WC_Product {
		public function get_type() {
			return 'variation';
		}
	}

	/**
	 * As wc_update_product_stock() (includes/wc-stock-functions.php line 26): for a product that
	 * manages stock, the data store writes the new quantity, the product is saved (stock status in
	 * sync) and woocommerce_product_set_stock / woocommerce_variation_set_stock fire (lines 59-64).
	 */
	function wc_update_product_stock( $product, $stock_quantity = null, $operation = 'set', $updating = false ) {
		if ( ! is_a( $product, 'WC_Product' ) ) {
			$product = wc_get_product( $product );
		}
		if ( ! $product ) {
			return false;
		}
		if ( null !== $stock_quantity && $product->managing_stock() ) {
			$now = (int) $product->get_stock_quantity();
			$new = 'set' === $operation ? $stock_quantity : ( 'increase' === $operation ? $now + $stock_quantity : $now - $stock_quantity );
			$product->set_props( array( 'stock_quantity' => $new ) );
			if ( ! $updating ) {
				$product->save();
			}
			do_action( $product->is_type( 'variation' ) ? 'woocommerce_variation_set_stock' : 'woocommerce_product_set_stock', $product );
		}
		return $product->get_stock_quantity();
	}

	/**
	 * As wc_reduce_stock_levels() (wc-stock-functions.php line 152), which
	 * wc_maybe_reduce_stock_levels() runs on woocommerce_payment_complete (line 112): each line's
	 * product that manages stock loses the quantity, once.
	 */
	function wc_reduce_stock_levels( $order_id ) {
		$order = is_a( $order_id, 'WC_Order' ) ? $order_id : wc_get_order( $order_id );
		foreach ( $order->get_items() as $item ) {
			$product = $item->get_product();
			if ( ! $product || ! $product->managing_stock() || $item->get_meta( '_reduced_stock' ) ) {
				continue;
			}
			wc_update_product_stock( $product, $item->get_quantity(), 'decrease' );
			$item->update_meta_data( '_reduced_stock', $item->get_quantity() );
		}
		do_action( 'woocommerce_reduce_order_stock', $order );
	}

	class WC_Order_Item_Product extends WC_Data {
		public function __construct( $props ) {
			$this->data = $props;
		}
		public function get_product_id( $context = 'view' ) {
			return (int) $this->prop( 'product_id' );
		}
		public function get_variation_id( $context = 'view' ) {
			return (int) $this->prop( 'variation_id' );
		}
		public function get_name( $context = 'view' ) {
			return $this->prop( 'name' );
		}
		public function get_quantity( $context = 'view' ) {
			return (int) $this->prop( 'quantity' );
		}
		public function get_subtotal( $context = 'view' ) {
			return $this->prop( 'subtotal' );
		}
		public function get_total( $context = 'view' ) {
			return $this->prop( 'total' );
		}
		public function get_product() {
			return wc_get_product( $this->get_product_id() );
		}
	}

	abstract class WC_Abstract_Order extends WC_Data {
		protected $items = array();

		public function __construct( $props = array() ) {
			$this->id   = WC_Doubles::next_id();
			$this->data = array_merge(
				array(
					'status'         => 'pending',
					'currency'       => 'EUR',
					'total'          => '0',
					'discount_total' => '0',
					'shipping_total' => '0',
					'total_tax'      => '0',
					'parent_id'      => 0,
					'date_created'   => new WC_DateTime( '@' . time() ),
					'date_modified'  => new WC_DateTime( '@' . time() ),
				),
				$props
			);
			WC_Doubles::$objects[ $this->id ] = $this;
		}
		public function get_status( $context = 'view' ) {
			return $this->prop( 'status' );
		}
		public function get_currency( $context = 'view' ) {
			return $this->prop( 'currency' );
		}
		public function get_total( $context = 'view' ) {
			return $this->prop( 'total' );
		}
		public function get_discount_total( $context = 'view' ) {
			return $this->prop( 'discount_total' );
		}
		public function get_shipping_total( $context = 'view' ) {
			return $this->prop( 'shipping_total' );
		}
		public function get_total_tax( $context = 'view' ) {
			return $this->prop( 'total_tax' );
		}
		public function get_parent_id( $context = 'view' ) {
			return (int) $this->prop( 'parent_id' );
		}
		public function get_date_created( $context = 'view' ) {
			return $this->prop( 'date_created' ) ? $this->prop( 'date_created' ) : null;
		}
		public function get_date_modified( $context = 'view' ) {
			return $this->prop( 'date_modified' ) ? $this->prop( 'date_modified' ) : null;
		}
		public function get_items( $types = 'line_item' ) {
			return $this->items;
		}
		public function add_item( $item ) {
			$this->items[ count( $this->items ) + 1 ] = $item;
		}
		public function get_subtotal() {
			$subtotal = 0;
			foreach ( $this->items as $item ) {
				$subtotal += (float) $item->get_subtotal();
			}
			return $subtotal;
		}
		public function get_coupon_codes() {
			return (array) ( $this->data['coupon_codes'] ?? array() );
		}
		public function calculate_totals( $and_taxes = true ) {
			$total = 0;
			foreach ( $this->items as $item ) {
				$total += (float) $item->get_total();
			}
			$this->data['total'] = (string) ( $total + (float) $this->data['shipping_total'] + (float) $this->data['total_tax'] );
			$this->save();
			return $this->data['total'];
		}
		/** The HPOS data store fires woocommerce_update_order( $order_id, $order ) on every save of an existing order. */
		public function save() {
			$this->data['date_modified'] = new WC_DateTime( '@' . time() );
			$this->write_meta( false );
			do_action( 'woocommerce_update_order', $this->get_id(), $this );
			return $this->get_id();
		}
	}

	class WC_Order extends WC_Abstract_Order {
		public function get_order_number() {
			return (string) $this->get_id();
		}
		public function get_billing_email( $context = 'view' ) {
			return $this->prop( 'billing_email' );
		}
		public function get_billing_first_name( $context = 'view' ) {
			return $this->prop( 'billing_first_name' );
		}
		public function get_billing_last_name( $context = 'view' ) {
			return $this->prop( 'billing_last_name' );
		}
		public function get_billing_phone( $context = 'view' ) {
			return $this->prop( 'billing_phone' );
		}
		public function get_customer_id( $context = 'view' ) {
			return (int) $this->prop( 'customer_id' );
		}
		public function get_payment_method( $context = 'view' ) {
			return $this->prop( 'payment_method' );
		}
		public function get_created_via( $context = 'view' ) {
			return $this->prop( 'created_via' );
		}
		public function get_date_paid( $context = 'view' ) {
			return $this->prop( 'date_paid' ) ? $this->prop( 'date_paid' ) : null;
		}
		public function get_date_completed( $context = 'view' ) {
			return $this->prop( 'date_completed' ) ? $this->prop( 'date_completed' ) : null;
		}
		public function get_refunds() {
			return array_values(
				array_filter(
					WC_Doubles::$objects,
					function ( $object ) {
						return $object instanceof WC_Order_Refund && $object->get_parent_id() === $this->get_id();
					}
				)
			);
		}
		/** As WC_Order::payment_complete( $transaction_id ): save, status hooks, then woocommerce_payment_complete. */
		public function payment_complete( $transaction_id = '' ) {
			$this->data['date_paid'] = new WC_DateTime( '@' . time() );
			$this->update_status( 'processing' );
			do_action( 'woocommerce_payment_complete', $this->get_id(), $transaction_id );
			return true;
		}
		/**
		 * As WC_Order::update_status() -> status_transition(): woocommerce_order_status_{to}, _changed,
		 * payment_status_changed. It never sets date_paid: offline gateways (cash on delivery, bank
		 * transfer, cheque) only change the status, and on the real shop the paid date stayed null
		 * through processing, completed and refunded (WOOCOMMERCE-FACTS.md "Offline gateways", issue 17
		 * item 1: REST date_paid_gmt null). Only payment_complete() sets it.
		 */
		public function update_status( $new_status, $note = '', $manual = false ) {
			$from                 = $this->get_status();
			$this->data['status'] = $new_status;
			if ( 'completed' === $new_status ) {
				$this->data['date_completed'] = new WC_DateTime( '@' . time() );
			}
			$this->save();
			do_action( 'woocommerce_order_status_' . $new_status, $this->get_id(), $this, array( 'from' => $from, 'to' => $new_status ) );
			do_action( 'woocommerce_order_status_changed', $this->get_id(), $from, $new_status, $this );
			if ( in_array( $new_status, wc_get_is_paid_statuses(), true ) && ! in_array( $from, wc_get_is_paid_statuses(), true ) ) {
				do_action( 'woocommerce_order_payment_status_changed', $this->get_id(), $this );
			}
			return true;
		}
		/** As WC_Order_Data_Store::delete(): woocommerce_trash_order or woocommerce_delete_order. */
		public function delete( $force_delete = false ) {
			if ( $force_delete ) {
				unset( WC_Doubles::$objects[ $this->get_id() ] );
				do_action( 'woocommerce_delete_order', $this->get_id() );
			} else {
				$this->data['status'] = 'trash';
				do_action( 'woocommerce_trash_order', $this->get_id() );
			}
			return true;
		}
	}

	/** WooCommerce Subscriptions: includes/core/class-wc-subscription.php. */
	class WC_Subscription extends WC_Order {
		public function get_date( $date_type, $timezone = 'gmt' ) {
			return $this->prop( 'schedule_' . $date_type );
		}
	}

	class WC_Order_Refund extends WC_Abstract_Order {
		/**
		 * As WC_Data::delete( true ) with HPOS: OrdersTableRefundDataStore::delete() (WooCommerce
		 * 8.9.1 src/Internal/DataStores/Orders/OrdersTableRefundDataStore.php lines 75-85) removes
		 * the rows and sets the id to 0, and fires no hook; the parent id stays on the object.
		 */
		public function delete( $force_delete = false ) {
			unset( WC_Doubles::$objects[ $this->get_id() ] );
			$this->id = 0;
			return true;
		}
		public function get_amount( $context = 'view' ) {
			return $this->prop( 'amount' );
		}
		public function get_reason( $context = 'view' ) {
			return $this->prop( 'reason' );
		}
	}

	class WC_Cart {
		public $cart_contents   = array();
		public $applied_coupons = array();

		public function get_cart() {
			return $this->cart_contents;
		}
		public function get_total( $context = 'view' ) {
			$total = 0;
			foreach ( $this->cart_contents as $line ) {
				$total += $line['line_total'];
			}
			return $total;
		}
		public function get_applied_coupons() {
			return $this->applied_coupons;
		}
		public function add_to_cart( $product_id = 0, $quantity = 1, $variation_id = 0, $variation = array(), $cart_item_data = array() ) {
			$product = wc_get_product( $variation_id ? $variation_id : $product_id );
			if ( ! $product ) {
				return false;
			}
			$key                         = md5( $product_id . '-' . $variation_id );
			$quantity                   += isset( $this->cart_contents[ $key ] ) ? $this->cart_contents[ $key ]['quantity'] : 0;
			$this->cart_contents[ $key ] = $this->line( $key, $product_id, $variation_id, $quantity, $product );
			do_action( 'woocommerce_add_to_cart', $key, $product_id, $quantity, $variation_id, $variation, $cart_item_data );
			return $key;
		}
		private function line( $key, $product_id, $variation_id, $quantity, $product ) {
			$amount = (float) $product->get_price() * $quantity;
			return array(
				'key'           => $key,
				'product_id'    => $product_id,
				'variation_id'  => $variation_id,
				'quantity'      => $quantity,
				'data'          => $product,
				'line_subtotal' => $amount,
				'line_total'    => $amount,
			);
		}
		public function set_quantity( $cart_item_key, $quantity = 1, $refresh_totals = true ) {
			$old = $this->cart_contents[ $cart_item_key ]['quantity'];
			$row = $this->cart_contents[ $cart_item_key ];
			$this->cart_contents[ $cart_item_key ] = $this->line( $cart_item_key, $row['product_id'], $row['variation_id'], $quantity, $row['data'] );
			do_action( 'woocommerce_after_cart_item_quantity_update', $cart_item_key, $quantity, $old, $this );
			return true;
		}
		public function remove_cart_item( $cart_item_key ) {
			unset( $this->cart_contents[ $cart_item_key ] );
			do_action( 'woocommerce_cart_item_removed', $cart_item_key, $this );
			return true;
		}
		public function apply_coupon( $coupon_code ) {
			$this->applied_coupons[] = $coupon_code;
			do_action( 'woocommerce_applied_coupon', $coupon_code );
			return true;
		}
		public function empty_cart( $clear_persistent_cart = true ) {
			do_action( 'woocommerce_before_cart_emptied', $clear_persistent_cart );
			$this->cart_contents   = array();
			$this->applied_coupons = array();
			do_action( 'woocommerce_cart_emptied', $clear_persistent_cart );
		}
	}


	/**
	 * WC_Coupon as WooCommerce 8.9.1 has it (userixxx/StropyMarket@b87b6d3, wp-content/plugins/
	 * woocommerce/includes/; "cpn" below is class-wc-coupon.php, "ds" data-stores/
	 * class-wc-coupon-data-store-cpt.php). Only what the plugin's coupon route touches.
	 */
	class WC_Data_Exception extends Exception {
		// abstracts/abstract-wc-data.php:942: error() throws WC_Data_Exception( $code, $message, $http_status_code ).
		public function __construct( $code, $message, $http_status_code = 400, $data = array() ) {
			parent::__construct( $message, $http_status_code );
			$this->error_code = $code;
		}
		public $error_code;
	}

	class WC_Coupon extends WC_Data {
		protected $data = array(
			'code'                 => '',
			'description'          => '',
			'discount_type'        => 'fixed_cart',
			'amount'               => 0,
			'date_expires'         => null,
			'individual_use'       => false,
			'usage_count'          => 0,
			'usage_limit'          => 0,
			'usage_limit_per_user' => 0,
			'minimum_amount'       => '',
			'email_restrictions'   => array(),
		);

		/** cpn:110-148: an id reads the stored coupon; a code is looked up with wc_get_coupon_id_by_code(). */
		public function __construct( $data = '' ) {
			if ( is_int( $data ) && isset( WC_Doubles::$coupons[ $data ] ) ) {
				$stored     = WC_Doubles::$coupons[ $data ];
				$this->id   = $data;
				$this->data = $stored->data;
				$this->meta = $stored->meta;
			} elseif ( is_string( $data ) && '' !== trim( $data ) ) {
				$id = wc_get_coupon_id_by_code( $data );
				if ( $id ) {
					$this->__construct( $id );
				} else {
					$this->set_code( $data );
				}
			}
		}
		/** cpn:514: set_prop( 'code', wc_format_coupon_code( $code ) ): lower case (wc-core-functions.php:39-41). */
		public function set_code( $code ) {
			$this->data['code'] = wc_format_coupon_code( $code );
		}
		public function set_description( $description ) {
			$this->data['description'] = $description;
		}
		/** cpn:544-552: a type not in wc_get_coupon_types() (percent, fixed_cart, fixed_product) throws. */
		public function set_discount_type( $discount_type ) {
			if ( 'percent_product' === $discount_type ) {
				$discount_type = 'percent';
			}
			if ( ! in_array( $discount_type, array( 'percent', 'fixed_cart', 'fixed_product' ), true ) ) {
				throw new WC_Data_Exception( 'coupon_invalid_discount_type', 'Invalid discount type' );
			}
			$this->data['discount_type'] = $discount_type;
		}
		/** cpn:560-578: wc_format_decimal; negative, or a percentage over 100, throws. */
		public function set_amount( $amount ) {
			$amount = is_numeric( $amount ) ? (string) $amount : 0;
			if ( $amount < 0 || ( 'percent' === $this->data['discount_type'] && $amount > 100 ) ) {
				throw new WC_Data_Exception( 'coupon_invalid_amount', 'Invalid discount amount' );
			}
			$this->data['amount'] = $amount;
		}
		/** cpn:584: set_date_prop( 'date_expires', $date ): a UTC timestamp becomes a WC_DateTime. */
		public function set_date_expires( $date ) {
			$this->data['date_expires'] = null === $date ? null : new WC_DateTime( '@' . (int) $date );
		}
		/** cpn:624: (bool). */
		public function set_individual_use( $is_individual_use ) {
			$this->data['individual_use'] = (bool) $is_individual_use;
		}
		/** cpn:654, 664: absint. */
		public function set_usage_limit( $usage_limit ) {
			$this->data['usage_limit'] = absint( $usage_limit );
		}
		public function set_usage_limit_per_user( $usage_limit ) {
			$this->data['usage_limit_per_user'] = absint( $usage_limit );
		}
		/** cpn:724: wc_format_decimal( $amount ). */
		public function set_minimum_amount( $amount ) {
			$this->data['minimum_amount'] = (string) $amount;
		}
		/** cpn:744-753: lower-cased, sanitize_email'd; an address is_email() refuses throws. */
		public function set_email_restrictions( $emails = array() ) {
			$emails = array_filter( array_map( 'sanitize_email', array_map( 'strtolower', (array) $emails ) ) );
			foreach ( $emails as $email ) {
				if ( ! is_email( $email ) ) {
					throw new WC_Data_Exception( 'coupon_invalid_email_address', 'Invalid email address restriction' );
				}
			}
			$this->data['email_restrictions'] = $emails;
		}
		public function get_code( $context = 'view' ) {
			return $this->data['code'];
		}
		public function get_description( $context = 'view' ) {
			return $this->data['description'];
		}
		public function get_discount_type( $context = 'view' ) {
			return $this->data['discount_type'];
		}
		public function get_amount( $context = 'view' ) {
			return $this->data['amount'];
		}
		public function get_date_expires( $context = 'view' ) {
			return $this->data['date_expires'];
		}
		public function get_individual_use( $context = 'view' ) {
			return $this->data['individual_use'];
		}
		public function get_usage_limit( $context = 'view' ) {
			return $this->data['usage_limit'];
		}
		public function get_usage_limit_per_user( $context = 'view' ) {
			return $this->data['usage_limit_per_user'];
		}
		public function get_minimum_amount( $context = 'view' ) {
			return $this->data['minimum_amount'];
		}
		public function get_email_restrictions( $context = 'view' ) {
			return $this->data['email_restrictions'];
		}
		/**
		 * ds:71-108: create() inserts a published shop_coupon post whose post_title is the code
		 * and fires woocommerce_new_coupon( $coupon_id, $coupon ); update() keeps the id.
		 */
		public function save() {
			$new = ! $this->id;
			if ( $new ) {
				$this->id = WC_Doubles::next_id();
			}
			WC_Doubles::$coupons[ $this->id ] = clone $this;
			if ( $new ) {
				do_action( 'woocommerce_new_coupon', $this->id, $this );
			}
			return $this->id;
		}
	}

	final class WC_Doubles {
		public static $coupons  = array();
		public static $objects  = array();
		public static $loads    = 0;
		public static $products = array();
		/** Order meta rows written (see WC_Data::save_meta_data). */
		public static $meta_writes = array();
		private static $next    = 1000;

		public static function next_id() {
			return ++self::$next;
		}
		public static function reset() {
			self::$objects            = array();
			self::$products           = array();
			self::$coupons            = array();
			self::$loads              = 0;
			self::$meta_writes        = array();
			WooCommerce::$instance    = null;
		}
		/**
		 * A REST API request (such as the tracker's /wp-json/sales-companion/v1/collect beacon):
		 * WooCommerce::init() calls wc_load_cart(), which starts the session, only when
		 * is_request( 'frontend' ), and that excludes REST API requests (woocommerce
		 * includes/class-woocommerce.php init(): `if ( $this->is_request( 'frontend' ) ) { wc_load_cart(); }`).
		 * So WC()->session (and WC()->cart) stay null there.
		 *
		 * @return void
		 */
		public static function start_rest_request() {
			WC()->session = null;
			WC()->cart    = null;
		}
		/** A product saved as WooCommerce's data store saves it: a real post, the new-product hook. */
		public static function create_product( array $props ) {
			$product = new WC_Product( 0, $props );
			$product->save();
			return $product;
		}
		public static function add_product( $id, $name, $price, $sku = '' ) {
			self::$products[ $id ] = new WC_Product( $id, array( 'name' => $name, 'price' => $price, 'sku' => $sku ) );
			return self::$products[ $id ];
		}
	}

	/** A product saved as a post is read with its post's status, as the data store's read() does. */
	function wc_get_product( $the_product = false, $deprecated = array() ) {
		$product = WC_Doubles::$products[ (int) $the_product ] ?? false;
		$post    = $product ? get_post( (int) $the_product ) : null;
		if ( $post && in_array( $post->post_type, array( 'product', 'product_variation' ), true ) ) {
			$product->set_props( array( 'status' => $post->post_status ) );
		}
		return $product;
	}

	function wc_get_order( $the_order = false ) {
		// The real one reads the order (and, when asked, its items) from the database: counted.
		++WC_Doubles::$loads;
		return WC_Doubles::$objects[ (int) $the_order ] ?? false;
	}

	function wc_get_orders( $args ) {
		$ids = array();
		foreach ( WC_Doubles::$objects as $id => $object ) {
			if ( $object instanceof WC_Order && 'trash' !== $object->get_status() ) {
				$ids[] = $id;
			}
		}
		sort( $ids );
		if ( ! empty( $args['paginate'] ) ) {
			return (object) array( 'total' => count( $ids ), 'orders' => array_slice( $ids, 0, $args['limit'] ) );
		}
		$page = isset( $args['page'] ) ? (int) $args['page'] : 1;
		return array_slice( $ids, ( $page - 1 ) * $args['limit'], $args['limit'] );
	}

	/**
	 * As wc_get_products() (includes/wc-product-functions.php) with WC_Product_Query's defaults
	 * (status draft, pending, private, publish; variations are another type): ids, paged.
	 */
	function wc_get_products( $args ) {
		$ids = array();
		foreach ( WC_Doubles::$products as $id => $product ) {
			if ( ! $product->is_type( 'variation' ) && in_array( $product->get_status(), array( 'draft', 'pending', 'private', 'publish' ), true ) ) {
				$ids[] = $id;
			}
		}
		sort( $ids );
		if ( ! empty( $args['paginate'] ) ) {
			return (object) array( 'total' => count( $ids ), 'products' => array_slice( $ids, 0, $args['limit'] ) );
		}
		$page = isset( $args['page'] ) ? (int) $args['page'] : 1;
		return array_slice( $ids, ( $page - 1 ) * $args['limit'], $args['limit'] );
	}

	/** wc-formatting-functions.php:367 applies woocommerce_coupon_code: html_entity_decode, wc_sanitize_coupon_code, wc_strtolower (wc-core-functions.php:39-41). */
	function wc_format_coupon_code( $value ) {
		return strtolower( html_entity_decode( (string) $value ) );
	}

	/**
	 * wc-coupon-functions.php:94-113, data store get_ids_by_code (ds:742-750): the newest
	 * published shop_coupon whose post_title is the code, 0 when none.
	 */
	function wc_get_coupon_id_by_code( $code, $exclude = 0 ) {
		$code = wc_format_coupon_code( $code );
		foreach ( array_reverse( WC_Doubles::$coupons, true ) as $id => $coupon ) {
			if ( $id !== $exclude && $coupon->get_code() === $code ) {
				return $id;
			}
		}
		return 0;
	}

	function wc_get_is_paid_statuses() {
		return apply_filters( 'woocommerce_order_is_paid_statuses', array( 'processing', 'completed' ) );
	}

	function get_woocommerce_currency() {
		return 'EUR';
	}

	function wc_get_checkout_url() {
		return home_url( '/checkout/' );
	}

	/** As wc_create_order(): a new order fires woocommerce_new_order( $order_id, $order ) while still empty. */
	function wc_create_order( $args = array() ) {
		$order = new WC_Order( $args );
		do_action( 'woocommerce_new_order', $order->get_id(), $order );
		return $order;
	}

	/**
	 * As wc_create_refund() (woocommerce includes/wc-order-functions.php): create_refund, then
	 * woocommerce_order_partially_refunded while an amount remains, else
	 * woocommerce_order_fully_refunded and update_status( 'refunded' ) (the
	 * woocommerce_order_fully_refunded_status filter), then update_order, refund_created,
	 * order_refunded. The real one refuses more than the remaining amount; the double lets an
	 * order without a computed total (total 0) take partial refunds.
	 */
	function wc_create_refund( $args = array() ) {
		$order     = wc_get_order( $args['order_id'] );
		$remaining = (float) $order->get_total();
		foreach ( $order->get_refunds() as $previous ) {
			$remaining -= (float) $previous->get_amount();
		}
		$refund = new WC_Order_Refund(
			array(
				'parent_id' => $order->get_id(),
				'amount'    => (string) $args['amount'],
				'reason'    => $args['reason'] ?? '',
				'total'     => (string) ( -1 * $args['amount'] ),
			)
		);
		do_action( 'woocommerce_create_refund', $refund, $args );
		if ( (float) $order->get_total() <= 0 || $remaining - (float) $args['amount'] > 0 ) {
			do_action( 'woocommerce_order_partially_refunded', $order->get_id(), $refund->get_id() );
		} else {
			do_action( 'woocommerce_order_fully_refunded', $order->get_id(), $refund->get_id() );
			$order->update_status( apply_filters( 'woocommerce_order_fully_refunded_status', 'refunded', $order->get_id(), $refund->get_id() ) );
		}
		$order->save();
		do_action( 'woocommerce_refund_created', $refund->get_id(), $args );
		do_action( 'woocommerce_order_refunded', $order->get_id(), $refund->get_id() );
		return $refund;
	}

	/**
	 * As WC_AJAX::delete_refund() (WooCommerce 8.9.1 includes/class-wc-ajax.php lines 2234-2250),
	 * the delete cross on a refund line in WP admin: for each refund id, the refund's parent id,
	 * $refund->delete( true ), then woocommerce_refund_deleted( $refund_id, $order_id ) (line 2247).
	 */
	function wc_double_ajax_delete_refund( $refund_ids ) {
		foreach ( (array) $refund_ids as $refund_id ) {
			$refund = wc_get_order( $refund_id );
			if ( $refund instanceof WC_Order_Refund ) {
				$order_id = $refund->get_parent_id();
				$refund->delete( true );
				do_action( 'woocommerce_refund_deleted', $refund_id, $order_id );
			}
		}
	}

	/**
	 * As DELETE /wc/v3/orders/<order_id>/refunds/<id>?force=true: WC_REST_CRUD_Controller::delete_item()
	 * (includes/rest-api/Controllers/Version3/class-wc-rest-crud-controller.php lines 440-505) reads
	 * the refund by the request's id alone (get_object(), the refunds v2 controller line 132), builds
	 * the response, deletes it (force) and fires woocommerce_rest_delete_shop_order_refund_object(
	 * $object, $response, $request ) (line 505); woocommerce_refund_deleted is not fired.
	 */
	function wc_double_rest_delete_refund( $order_id, $refund_id ) {
		$request = new WP_REST_Request( 'DELETE', "/wc/v3/orders/{$order_id}/refunds/{$refund_id}" );
		$request->set_url_params( array( 'order_id' => (string) $order_id, 'id' => (string) $refund_id ) );
		$request->set_param( 'force', true );
		$refund = wc_get_order( (int) $request['id'] );
		if ( ! $refund instanceof WC_Order_Refund ) {
			return false;
		}
		$response = new WP_REST_Response( array( 'id' => $refund->get_id(), 'amount' => $refund->get_amount() ) );
		$refund->delete( true );
		do_action( 'woocommerce_rest_delete_shop_order_refund_object', $refund, $response, $request );
		return true;
	}
}
