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

	require __DIR__ . '/woocommerce-products.php';
	require __DIR__ . '/woocommerce-orders.php';
	require __DIR__ . '/woocommerce-cart.php';

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
