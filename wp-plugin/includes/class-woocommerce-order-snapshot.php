<?php
/**
 * The order.updated data and the contact of a WooCommerce order.
 *
 * @package SalesCompanion
 */

namespace SalesCompanion;

if ( ! defined( 'ABSPATH' ) ) {
	exit;
}

/**
 * Reads a WC_Order through its public getters only (HPOS and legacy alike).
 */
final class WooCommerce_Order_Snapshot {

	/**
	 * The order.updated data of an order.
	 *
	 * @param \WC_Order $order    Order.
	 * @param int|null  $paid_now When it entered a paid status in this request, undated by the store.
	 * @return array
	 */
	public static function of( $order, $paid_now = null ) {
		$status = $order->get_status();
		return array(
			'id'             => (string) $order->get_id(),
			'number'         => (string) $order->get_order_number(),
			'status'         => Source_WooCommerce::normalise_status( $status ),
			'currency'       => $order->get_currency(),
			'total'          => Events::money( $order->get_total() ),
			'subtotal'       => Events::money( $order->get_subtotal() ),
			'discount_total' => Events::money( $order->get_discount_total() ),
			'tax_total'      => Events::money( $order->get_total_tax() ),
			'shipping_total' => Events::money( $order->get_shipping_total() ),
			'coupons'        => array_values( $order->get_coupon_codes() ),
			'items'          => self::order_items( $order ),
			'payment_method' => (string) $order->get_payment_method(),
			'created_via'    => (string) $order->get_created_via(),
			'attribution'    => self::attribution( $order ),
			'device'         => (string) $order->get_meta( '_wc_order_attribution_device_type' ),
			'cart_token'     => (string) $order->get_meta( '_sc_cart_token' ),
			'parent_id'      => $order->get_parent_id() ? (string) $order->get_parent_id() : null,
			'is_renewal'     => function_exists( 'wcs_order_contains_renewal' ) && wcs_order_contains_renewal( $order ),
			'created_at'     => Events::iso( $order->get_date_created() ),
			'paid_at'        => self::paid_at( $order, $status, $paid_now ),
			'completed_at'   => Events::iso( $order->get_date_completed() ),
			'modified_at'    => Events::iso( $order->get_date_modified() ? $order->get_date_modified() : $order->get_date_created() ),
		);
	}

	/**
	 * Order meta holding when an order without a paid date first counted as paid
	 * (Unix time). Written once, never moved.
	 */
	const PAID_META = '_sales_companion_paid_at';

	/**
	 * Paid time. Offline gateways (cash on delivery, bank transfer, cheque) never set
	 * a paid date, so: the store's paid date; else the time the order first entered a
	 * paid status, kept in order meta when the plugin saw it; else, for an order that
	 * is in a paid status or refunded (it was paid once), its creation date. It never
	 * follows later modifications: an order, once counted, stays counted on that day.
	 *
	 * @param \WC_Order $order    Order.
	 * @param string    $status   Status.
	 * @param int|null  $paid_now When it entered a paid status in this request (checkout), if so.
	 * @return string|null
	 */
	private static function paid_at( $order, $status, $paid_now = null ) {
		if ( $order->get_date_paid() ) {
			return Events::iso( $order->get_date_paid() );
		}
		$seen = $paid_now ? (int) $paid_now : (int) $order->get_meta( self::PAID_META );
		if ( $seen > 0 ) {
			return Events::iso( $seen );
		}
		if ( in_array( $status, self::paid_statuses(), true ) || 'refunded' === $status ) {
			return Events::iso( $order->get_date_created() ? $order->get_date_created() : time() );
		}
		return null;
	}

	/**
	 * Whether this status change moves an order the store never dated as paid, with no kept
	 * time, from an unpaid status into a paid one (cash on delivery at checkout).
	 *
	 * @param \WC_Order $order Order.
	 * @param string    $from  Old status.
	 * @param string    $to    New status.
	 * @return bool
	 */
	public static function becomes_paid_undated( $order, $from, $to ) {
		$paid = self::paid_statuses();
		return ! $order->get_date_paid() && (int) $order->get_meta( self::PAID_META ) <= 0
			&& in_array( $to, $paid, true ) && ! in_array( $from, $paid, true );
	}

	/**
	 * On a status change of an order without a paid date (and no kept time): entering a paid
	 * status from an unpaid one keeps the time it happened; leaving a paid status keeps the
	 * creation date, so the order stays counted. Between two paid statuses (processing to
	 * completed) nothing is written: the order was paid before a time was kept, and paid_at()
	 * dates it by its creation without meta.
	 *
	 * @param \WC_Order $order Order.
	 * @param string    $from  Old status.
	 * @param string    $to    New status.
	 * @return void
	 */
	public static function remember_paid_time( $order, $from, $to ) {
		if ( $order->get_date_paid() || (int) $order->get_meta( self::PAID_META ) > 0 ) {
			return;
		}
		$paid = self::paid_statuses();
		if ( in_array( $to, $paid, true ) && in_array( $from, $paid, true ) ) {
			return;
		}
		if ( in_array( $to, $paid, true ) ) {
			$when = time();
		} elseif ( in_array( $from, $paid, true ) ) {
			$when = $order->get_date_created() ? $order->get_date_created()->getTimestamp() : time();
		} else {
			return;
		}
		$order->update_meta_data( self::PAID_META, (string) $when );
		$order->save_meta_data();
	}

	/**
	 * WooCommerce's paid statuses.
	 *
	 * @return string[]
	 */
	private static function paid_statuses() {
		return function_exists( 'wc_get_is_paid_statuses' ) ? (array) wc_get_is_paid_statuses() : array( 'processing', 'completed' );
	}

	/**
	 * Line items.
	 *
	 * @param \WC_Order $order Order.
	 * @return array
	 */
	private static function order_items( $order ) {
		$items = array();
		foreach ( $order->get_items() as $item ) {
			$product  = $item->get_product();
			$quantity = max( 1, (int) $item->get_quantity() );
			$items[]  = array(
				'product_id'   => (string) $item->get_product_id(),
				'variation_id' => (string) $item->get_variation_id(),
				'sku'          => $product ? (string) $product->get_sku() : '',
				'name'         => (string) $item->get_name(),
				'quantity'     => (int) $item->get_quantity(),
				'price'        => Events::money( (float) $item->get_subtotal() / $quantity ),
				'total'        => Events::money( $item->get_total() ),
				'categories'   => self::categories( $item->get_product_id() ),
			);
		}
		return $items;
	}

	/**
	 * Order attribution, read from the meta WooCommerce saved at checkout.
	 *
	 * @param \WC_Order $order Order.
	 * @return array
	 */
	private static function attribution( $order ) {
		$meta = static function ( $key ) use ( $order ) {
			return (string) $order->get_meta( '_wc_order_attribution_' . $key );
		};
		return array(
			'source_type'  => $meta( 'source_type' ),
			'utm_source'   => $meta( 'utm_source' ),
			'utm_medium'   => $meta( 'utm_medium' ),
			'utm_campaign' => $meta( 'utm_campaign' ),
			'click_id'     => $meta( 'utm_id' ),
		);
	}

	/**
	 * Product category names.
	 *
	 * @param int $product_id Product.
	 * @return string[]
	 */
	public static function categories( $product_id ) {
		$terms = taxonomy_exists( 'product_cat' ) ? get_the_terms( (int) $product_id, 'product_cat' ) : array();
		return is_array( $terms ) ? array_values( wp_list_pluck( $terms, 'name' ) ) : array();
	}

	/**
	 * The order's contact.
	 *
	 * @param \WC_Order $order Order.
	 * @return array
	 */
	public static function contact( $order ) {
		return array(
			'email'      => $order->get_billing_email(),
			'first_name' => $order->get_billing_first_name(),
			'last_name'  => $order->get_billing_last_name(),
			'phone'      => $order->get_billing_phone(),
			'wp_user_id' => $order->get_customer_id(),
		);
	}
}
