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
		protected $address         = null;

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
		public function get_address() {
			return $this->address;
		}
		public function get_status() {
			return $this->status;
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

	class EDD_Session {
		private $data = array();
		public function get( $key ) {
			return $this->data[ $key ] ?? false;
		}
		public function set( $key, $value ) {
			$this->data[ $key ] = $value;
			return $value;
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
		private static $next     = 500;

		public static function reset() {
			self::$orders                     = array();
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
		if ( 'complete' === $new_status ) {
			do_action( 'edd_complete_purchase', $order_id, (object) array( 'ID' => $order_id ), edd_get_customer( $order->customer_id ) );
		}
		return true;
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

	function edd_get_cart_contents() {
		$cart = EDD()->session->get( 'edd_cart' );
		return is_array( $cart ) ? $cart : array();
	}

	/** As EDD_Cart::add(): edd_post_add_to_cart( $download_id, $options, $items ). */
	function edd_add_to_cart( $download_id, $options = array() ) {
		$cart   = edd_get_cart_contents();
		$items  = array(
			array(
				'id'       => $download_id,
				'options'  => $options,
				'quantity' => $options['quantity'] ?? 1,
			),
		);
		$cart[] = $items[0];
		EDD()->session->set( 'edd_cart', $cart );
		do_action( 'edd_post_add_to_cart', $download_id, $options, $items );
		return count( $cart ) - 1;
	}

	/** As EDD_Cart::remove(): edd_post_remove_from_cart( $key, $item_id ). */
	function edd_remove_from_cart( $cart_key ) {
		$cart    = edd_get_cart_contents();
		$item_id = isset( $cart[ $cart_key ]['id'] ) ? $cart[ $cart_key ]['id'] : null;
		unset( $cart[ $cart_key ] );
		EDD()->session->set( 'edd_cart', $cart );
		do_action( 'edd_post_remove_from_cart', $cart_key, $item_id );
		return $cart;
	}

	/** As EDD_Cart::empty(): edd_empty_cart. */
	function edd_empty_cart() {
		EDD()->session->set( 'edd_cart', null );
		do_action( 'edd_empty_cart' );
	}

	function edd_get_download_price( $download_id = 0 ) {
		return EDD_Doubles::$downloads[ (int) $download_id ] ?? 0;
	}

	function edd_get_cart_total( $discounts = false ) {
		$total = 0;
		foreach ( edd_get_cart_contents() as $line ) {
			$total += edd_get_download_price( $line['id'] ) * ( $line['quantity'] ?? 1 );
		}
		return $total;
	}

	function edd_get_currency() {
		return 'USD';
	}

	function edd_get_checkout_uri( $args = array() ) {
		return home_url( '/edd-checkout/' );
	}

	class EDD_SL_License {
		public $ID;
		public $download_id;
		public $expiration;
		public $customer_id;
		public $status = 'active';
		/** As EDD_SL_License::set_status(): edd_sl_post_set_status( $license_id, $status ). */
		public function set_status( $status ) {
			$this->status = $status;
			do_action( 'edd_sl_post_set_status', $this->ID, $status );
			return true;
		}
	}

	class EDD_Software_Licensing {
		public function get_license( $license_id, $by_key = false ) {
			return EDD_Doubles::$licenses[ (int) $license_id ] ?? false;
		}
	}

	function edd_software_licensing() {
		return new EDD_Software_Licensing();
	}

	class EDD_Subscription {
		public $id;
		public $product_id;
		public $customer_id;
		public $expiration;
		public $status = 'active';
		/** As EDD_Subscription::renew(): edd_subscription_post_renew( $id, $expiration, $this, $payment_id ). */
		public function renew( $payment_id = 0 ) {
			$this->expiration = gmdate( 'Y-m-d H:i:s', strtotime( '+1 year' ) );
			do_action( 'edd_subscription_post_renew', $this->id, $this->expiration, $this, $payment_id );
		}
		/** As EDD_Subscription::expire(): edd_subscription_expired( $id, $this ). */
		public function expire( $check_expiration = false ) {
			$this->status = 'expired';
			do_action( 'edd_subscription_expired', $this->id, $this );
		}
	}
}
