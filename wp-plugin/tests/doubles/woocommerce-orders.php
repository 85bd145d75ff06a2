<?php
/**
 * Test doubles for WooCommerce, a part of doubles/woocommerce.php: it requires this file after
 * WC_Data, and its header says what the doubles follow.
 * Orders: their items, WC_Abstract_Order, WC_Order, WC_Subscription and WC_Order_Refund
 * (abstracts/abstract-wc-order.php, class-wc-order.php, class-wc-order-refund.php).
 *
 * @package SalesCompanion\Tests
 */

// phpcs:disable Generic.Files.OneObjectStructurePerFile, Squiz.Commenting

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
