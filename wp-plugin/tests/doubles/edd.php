<?php
/**
 * Test doubles for Easy Digital Downloads 3.x, Software Licensing and Recurring.
 * Names and hook argument lists follow awesomemotive/easy-digital-downloads:
 * includes/orders/classes/class-order.php (EDD\Orders\Order), includes/orders/
 * functions/orders.php (edd_update_order_status -> BerlinDB src/Database/Query.php
 * transition_item(): edd_transition_order_status( $old_status, $new_status, $order_id )),
 * includes/orders/functions/refunds.php (edd_refund_order), includes/cart/
 * class-edd-cart.php (edd_post_add_to_cart, edd_post_remove_from_cart, edd_empty_cart),
 * includes/payments/functions.php (edd_complete_purchase); Software Licensing's
 * EDD_SL_License::set_status (edd_sl_post_set_status) and Recurring's
 * EDD_Subscription::renew/expire (edd_subscription_post_renew, edd_subscription_expired).
 *
 * @package SalesCompanion\Tests
 */

// phpcs:disable Generic.Files.OneObjectStructurePerFile, Squiz.Commenting

namespace EDD\Orders {
	/** Real EDD keeps these protected behind a magic __get. */
	class Order {
		protected $id;
		protected $parent          = 0;
		protected $order_number    = '';
		protected $status          = 'pending';
		protected $type            = 'sale';
		protected $date_created;
		protected $date_modified;
		protected $date_completed  = null;
		protected $user_id         = 0;
		protected $customer_id     = 0;
		protected $email           = '';
		protected $gateway         = 'manual';
		protected $currency        = 'USD';
		protected $subtotal        = 0.0;
		protected $tax             = 0.0;
		protected $discount        = 0.0;
		protected $total           = 0.0;
		protected $items           = array();
		protected $adjustments     = array();

		public function __construct( array $row ) {
			foreach ( $row as $key => $value ) {
				$this->$key = $value;
			}
		}
		public function __get( $key = '' ) {
			return $this->$key ?? null;
		}
		public function __set( $key, $value ) {
			$this->$key = $value;
		}
		public function get_number() {
			return $this->order_number ? $this->order_number : $this->id;
		}
		public function get_items() {
			return $this->items;
		}
		public function get_discounts() {
			return array_values(
				array_filter(
					$this->adjustments,
					function ( $adjustment ) {
						return 'discount' === $adjustment->type;
					}
				)
			);
		}
		/**
		 * As Order::get_address() (EDD 3.6.5 src/Orders/Order.php line 615): the billing row of
		 * edd_order_addresses, else a fallback object with empty first_name/last_name (and no name).
		 */
		public function get_address() {
			$address = \EDD_Doubles::$addresses[ (int) $this->id ] ?? false;
			if ( empty( $address ) ) {
				$address = (object) array(
					'id'          => 0,
					'order_id'    => 0,
					'first_name'  => '',
					'last_name'   => '',
					'address'     => '',
					'address2'    => '',
					'city'        => '',
					'region'      => '',
					'postal_code' => '',
					'country'     => '',
				);
			}
			return $address;
		}
		public function get_status() {
			return $this->status;
		}
	}

	/**
	 * As EDD\Orders\Order_Address (src/Orders/Order_Address.php): the table
	 * (src/Database/Schemas/Order_Addresses.php) has one `name` column; first_name and
	 * last_name are declared but never filled from a row.
	 */
	class Order_Address {
		protected $id;
		protected $order_id;
		protected $type = 'billing';
		protected $name = '';
		protected $first_name = '';
		protected $last_name = '';
		protected $address = '';
		protected $address2 = '';
		protected $city = '';
		protected $region = '';
		protected $postal_code = '';
		protected $country = '';

		public function __construct( array $row ) {
			foreach ( $row as $key => $value ) {
				$this->$key = $value;
			}
		}
		public function __get( $key = '' ) {
			return $this->$key ?? null;
		}
		/** As EDD\Base_Object::__isset() (src/Base_Object.php line 53): a declared property is set. */
		public function __isset( $key = '' ) {
			return property_exists( $this, $key );
		}
	}

	class Order_Item {
		protected $product_id;
		protected $product_name;
		protected $price_id = 0;
		protected $quantity = 1;
		protected $amount;
		protected $subtotal;
		protected $total;

		public function __construct( array $row ) {
			foreach ( $row as $key => $value ) {
				$this->$key = $value;
			}
		}
		public function __get( $key = '' ) {
			return $this->$key ?? null;
		}
	}
}

namespace {

	final class Easy_Digital_Downloads {
		public static $instance;
		public $session;
	}

	/**
	 * As EDD\Sessions\Handler (3.6.5 src/Sessions/Handler.php lines 112, 134): a missing key
	 * answers $default_value (null); setting an empty value removes the key. The session only
	 * starts on front-end and REST requests (is_request_valid_for_session(), line 420): in the
	 * admin, cron, WP-CLI or a gateway's webhook (no cookie) it holds nothing of a shopper, which
	 * a fresh EDD() (EDD_Doubles::reset()) stands for.
	 */
	class EDD_Session {
		private $data = array();
		public function get( $key, $default_value = null ) {
			return $this->data[ $key ] ?? $default_value;
		}
		public function set( $key, $value ) {
			if ( ! empty( $value ) ) {
				$this->data[ $key ] = $value;
			} else {
				unset( $this->data[ $key ] );
			}
			return $this->data[ $key ] ?? null;
		}
	}

	function EDD() { // phpcs:ignore WordPress.NamingConventions.ValidFunctionName
		if ( null === Easy_Digital_Downloads::$instance ) {
			Easy_Digital_Downloads::$instance          = new Easy_Digital_Downloads();
			Easy_Digital_Downloads::$instance->session = new EDD_Session();
		}
		return Easy_Digital_Downloads::$instance;
	}

	final class EDD_Doubles {
		public static $orders    = array();
		public static $downloads = array();
		public static $customers = array();
		public static $licenses  = array();
		/** Order id => its billing EDD\Orders\Order_Address. */
		public static $addresses = array();
		/** Order id => meta key => value. */
		public static $order_meta = array();
		/** Download id => title. */
		public static $titles = array();
		/** Download id => price id => array( 'name' => ..., 'amount' => ... ). */
		public static $variable_prices = array();
		private static $next     = 500;

		public static function reset() {
			self::$orders                     = array();
			self::$addresses                  = array();
			self::$order_meta                 = array();
			self::$downloads                  = array();
			self::$titles                     = array();
			self::$variable_prices            = array();
			self::$customers                  = array();
			self::$licenses                   = array();
			Easy_Digital_Downloads::$instance = null;
		}
		public static function next_id() {
			return ++self::$next;
		}
		/** A sale as EDD's checkout stores it: order row, items, address. */
		public static function add_order( array $row, array $items ) {
			$id   = self::next_id();
			$now  = gmdate( 'Y-m-d H:i:s' );
			$objs = array();
			foreach ( $items as $item ) {
				$objs[] = new EDD\Orders\Order_Item( $item );
			}
			self::$orders[ $id ] = new EDD\Orders\Order(
				array_merge(
					array(
						'id'            => $id,
						'date_created'  => $now,
						'date_modified' => $now,
						'items'         => $objs,
					),
					$row
				)
			);
			return $id;
		}
	}

	function edd_get_order( $order_id = 0 ) {
		return EDD_Doubles::$orders[ (int) $order_id ] ?? false;
	}

	function edd_get_orders( $args = array() ) {
		$orders = array_values(
			array_filter(
				EDD_Doubles::$orders,
				function ( $order ) use ( $args ) {
					return ! isset( $args['type'] ) || $order->type === $args['type'];
				}
			)
		);
		return array_slice( $orders, $args['offset'] ?? 0, $args['number'] ?? 30 );
	}

	function edd_count_orders( $args = array() ) {
		return count( edd_get_orders( array_merge( $args, array( 'number' => PHP_INT_MAX ) ) ) );
	}

	function edd_get_order_refunds( $order_id = 0 ) {
		return array_values(
			array_filter(
				EDD_Doubles::$orders,
				function ( $order ) use ( $order_id ) {
					return 'refund' === $order->type && (int) $order->parent === (int) $order_id;
				}
			)
		);
	}

	/**
	 * As edd_update_order_status() (EDD 3.6.5 includes/orders/functions/orders.php line 640): the
	 * order row is saved, then BerlinDB's Query::transition_item() (src/Database/Query.php line
	 * 2363) fires "{prefix}_transition_{item}_{column}" as do_action( $key_action, $old_value,
	 * $new_value, $item_id ): edd_transition_order_status( $old_status, $new_status, $order_id ).
	 * EDD's own listeners take it that way (includes/orders/functions/transitions.php lines 37, 49).
	 * An unchanged status fires nothing (orders.php: "We do not allow status changes if the
	 * status is the same").
	 */
	function edd_update_order_status( $order_id = 0, $new_status = '' ) {
		$order             = edd_get_order( $order_id );
		if ( in_array( $new_status, array( 'completed', 'publish' ), true ) ) {
			$new_status = 'complete';
		}
		$old_status        = $order->status;
		if ( $old_status === $new_status ) {
			return false;
		}
		$order->status     = $new_status;
		$order->date_modified = gmdate( 'Y-m-d H:i:s' );
		if ( 'complete' === $new_status ) {
			$order->date_completed = gmdate( 'Y-m-d H:i:s' );
		}
		do_action( 'edd_transition_order_status', $old_status, $new_status, $order_id );
		// includes/orders/functions/transitions.php line 49: edd_update_payment_status, which
		// edd_complete_purchase() listens to (includes/payments/actions.php line 225).
		edd_complete_purchase( $order_id, $new_status, $old_status );
		return true;
	}

	/**
	 * As edd_complete_purchase() (EDD 3.6.5 includes/payments/actions.php line 28): only a first
	 * move to complete of a sale; fires edd_complete_purchase (line 185), then empties the cart
	 * of whoever runs the request (line 223), the shopper or an admin, cron, a webhook.
	 */
	function edd_complete_purchase( $order_id, $new_status, $old_status ) {
		$completed_statuses = array( 'publish', 'complete', 'completed' );
		if ( in_array( $old_status, $completed_statuses, true ) || ! in_array( $new_status, $completed_statuses, true ) ) {
			return;
		}
		$order = edd_get_order( $order_id );
		if ( ! $order || 'sale' !== $order->type ) {
			return;
		}
		do_action( 'edd_complete_purchase', $order_id, (object) array( 'ID' => $order_id ), edd_get_customer( $order->customer_id ) );
		edd_empty_cart();
	}

	/**
	 * As edd_build_order() (EDD 3.6.5 includes/orders/functions/orders.php): the order row, its
	 * address row (line 921-941: one `name`, and edd_add_order_address() writes it only with a
	 * street address), then edd_insert_payment and edd_built_order( $order_id, $order_data )
	 * (lines 1269, 1279), in the shopper's checkout request, before the cart is emptied.
	 * $order_data here: 'order' (row), 'items', 'user_info' (first_name, last_name, address).
	 */
	function edd_build_order( $order_data = array() ) {
		$order_id  = EDD_Doubles::add_order( $order_data['order'], $order_data['items'] );
		$user_info = $order_data['user_info'] ?? array();
		$name      = trim( ( $user_info['first_name'] ?? '' ) . ' ' . ( $user_info['last_name'] ?? '' ) );
		$address   = wp_parse_args( $user_info['address'] ?? array(), array( 'line1' => '', 'line2' => '', 'city' => '', 'zip' => '', 'country' => '', 'state' => '' ) );
		edd_add_order_address(
			array_filter(
				array(
					'order_id'    => $order_id,
					'name'        => $name,
					'address'     => $address['line1'],
					'address2'    => $address['line2'],
					'city'        => $address['city'],
					'region'      => $address['state'],
					'country'     => $address['country'],
					'postal_code' => $address['zip'],
				)
			)
		);
		do_action( 'edd_insert_payment', $order_id, $order_data );
		do_action( 'edd_built_order', $order_id, $order_data );
		return $order_id;
	}

	/** As edd_add_order_address() (includes/orders/functions/addresses.php line 45): no row without a street address. */
	function edd_add_order_address( $data ) {
		if ( empty( $data['order_id'] ) ) {
			return false;
		}
		$street = array_filter( array_intersect_key( $data, array_flip( array( 'address', 'address2', 'city', 'region', 'country', 'postal_code' ) ) ) );
		if ( empty( $street ) ) {
			return false;
		}
		EDD_Doubles::$addresses[ (int) $data['order_id'] ] = new EDD\Orders\Order_Address( array_merge( array( 'id' => EDD_Doubles::next_id() ), $data ) );
		return EDD_Doubles::$addresses[ (int) $data['order_id'] ]->id;
	}

	/** As edd_get_order_meta( $order_id, $key, $single ) (includes/orders/functions/meta.php line 63). */
	function edd_get_order_meta( $order_id, $key = '', $single = false ) {
		$value = EDD_Doubles::$order_meta[ (int) $order_id ][ $key ] ?? null;
		if ( null === $value ) {
			return $single ? '' : array();
		}
		return $single ? $value : array( $value );
	}

	/** As edd_update_order_meta( $order_id, $meta_key, $meta_value ) (meta.php line 84). */
	function edd_update_order_meta( $order_id, $meta_key, $meta_value, $prev_value = '' ) {
		EDD_Doubles::$order_meta[ (int) $order_id ][ $meta_key ] = $meta_value;
		return true;
	}

	/**
	 * As edd_trash_order() (includes/orders/functions/orders.php line 73): BerlinDB's update_item()
	 * sets status trash, so edd_transition_order_status( $old, 'trash', $id ) fires; its refunds
	 * are trashed too.
	 */
	function edd_trash_order( $order_id ) {
		$order = edd_get_order( $order_id );
		if ( ! $order || 'trash' === $order->status ) {
			return false;
		}
		$old_status           = $order->status;
		$order->status        = 'trash';
		$order->date_modified = gmdate( 'Y-m-d H:i:s' );
		do_action( 'edd_transition_order_status', $old_status, 'trash', $order_id );
		edd_update_order_meta( $order_id, '_pre_trash_status', $old_status );
		foreach ( edd_get_order_refunds( $order_id ) as $refund ) {
			edd_trash_order( $refund->id );
		}
		return true;
	}

	/**
	 * As edd_delete_order() (orders.php line 236): BerlinDB's Query::delete_item() removes the
	 * row, then fires edd_order_deleted( $item_id ) (src/Database/Query.php line 2107).
	 */
	function edd_delete_order( $order_id = 0 ) {
		if ( ! isset( EDD_Doubles::$orders[ (int) $order_id ] ) ) {
			return false;
		}
		unset( EDD_Doubles::$orders[ (int) $order_id ] );
		do_action( 'edd_order_deleted', (int) $order_id );
		return 1;
	}

	/**
	 * As edd_destroy_order() (orders.php line 254): edd_pre_destroy_order( $order_id ) while the
	 * row is there, then edd_delete_order() (edd_order_deleted after the row is gone).
	 */
	function edd_destroy_order( $order_id = 0 ) {
		do_action( 'edd_pre_destroy_order', $order_id );
		return edd_delete_order( $order_id );
	}

	/** As edd_refund_order(): a refund order with a negative total, then edd_refund_order( $order_id, $refund_id, $all_refunded ). */
	function edd_refund_order( $order_id, $order_items = 'all', $adjustments = 'all' ) {
		$order     = edd_get_order( $order_id );
		$refund_id = EDD_Doubles::add_order(
			array(
				'type'   => 'refund',
				'parent' => $order_id,
				'status' => 'complete',
				'total'  => -1 * $order->total,
			),
			array()
		);
		$order->status = 'refunded';
		do_action( 'edd_refund_order', $order_id, $refund_id, true );
		return $refund_id;
	}

	function edd_get_customer( $customer_id = 0 ) {
		return EDD_Doubles::$customers[ (int) $customer_id ] ?? false;
	}

	require __DIR__ . '/edd-cart.php';
	require __DIR__ . '/edd-licensing.php';
}
