<?php
/**
 * Easy Digital Downloads 3.x collector (plus Software Licensing and Recurring).
 *
 * @package SalesCompanion
 */

namespace SalesCompanion;

if ( ! defined( 'ABSPATH' ) ) {
	exit;
}

/**
 * Notes EDD orders and carts during the request; flush() records them.
 */
class Source_EDD extends Source {

	const SOURCE = 'edd';

	const STATUSES = array(
		'pending'            => 'pending',
		'processing'         => 'processing',
		'complete'           => 'completed',
		'completed'          => 'completed',
		'publish'            => 'completed',
		'partially_refunded' => 'completed',
		'refunded'           => 'refunded',
		'revoked'            => 'cancelled',
		'cancelled'          => 'cancelled',
		'abandoned'          => 'cancelled',
		'failed'             => 'failed',
		'on_hold'            => 'on_hold',
	);

	/**
	 * Whether the cart changed.
	 *
	 * @var bool
	 */
	private $cart_changed = false;

	/**
	 * Normalised status.
	 *
	 * @param string $status EDD order status.
	 * @return string
	 */
	public static function normalise_status( $status ) {
		return self::STATUSES[ (string) $status ] ?? 'pending';
	}

	/**
	 * Hook edd_complete_purchase (int $order_id, EDD_Payment $payment, EDD_Customer $customer).
	 *
	 * @param int   $order_id Order.
	 * @param mixed $payment  Payment.
	 * @param mixed $customer Customer.
	 * @return void
	 */
	public function on_complete_purchase( $order_id, $payment = null, $customer = null ) {
		$this->note_order( $order_id );
	}

	/**
	 * Hook edd_transition_order_status (string $old_status, string $new_status, int $order_id):
	 * BerlinDB's Query::transition_item() fires it as ( $old_value, $new_value, $item_id ).
	 *
	 * @param string $old_status Old.
	 * @param string $new_status New.
	 * @param int    $order_id   Order.
	 * @return void
	 */
	public function on_transition_status( $old_status, $new_status, $order_id ) {
		$this->note_order( $order_id );
	}

	/**
	 * Hook edd_refund_order (int $order_id, int $refund_id, bool $all_refunded).
	 *
	 * @param int  $order_id     Original order.
	 * @param int  $refund_id    Refund order.
	 * @param bool $all_refunded Whole order refunded.
	 * @return void
	 */
	public function on_refund_order( $order_id, $refund_id, $all_refunded = false ) {
		$this->note_refund( $order_id, $refund_id );
		$this->note_order( $order_id );
	}

	/**
	 * Hook edd_post_add_to_cart, edd_post_remove_from_cart, edd_empty_cart.
	 *
	 * @return void
	 */
	public function on_cart_changed() {
		$this->cart_changed = true;
	}

	/**
	 * Software Licensing: edd_sl_post_set_status (int $license_id, string $status).
	 *
	 * @param int    $license_id License.
	 * @param string $status     Status.
	 * @return void
	 */
	public function on_license_status( $license_id, $status ) {
		if ( ! function_exists( 'edd_software_licensing' ) ) {
			return;
		}
		$license = edd_software_licensing()->get_license( $license_id );
		if ( ! $license ) {
			return;
		}
		$expires = is_numeric( $license->expiration ) ? (int) $license->expiration : $license->expiration;
		$this->record_subscription( $license->ID, 'license', $status, $license->download_id, $expires, (int) $license->customer_id );
	}

	/**
	 * Recurring: edd_subscription_post_renew (int $sub_id, string $expiration, EDD_Subscription $subscription).
	 *
	 * @param int    $sub_id       Subscription.
	 * @param string $expiration   New expiration.
	 * @param object $subscription Subscription.
	 * @return void
	 */
	public function on_subscription_renewed( $sub_id, $expiration, $subscription ) {
		$this->record_subscription( $sub_id, 'subscription', 'active', $subscription->product_id, $expiration, (int) $subscription->customer_id );
	}

	/**
	 * Recurring: edd_subscription_expired (int $sub_id, EDD_Subscription $subscription).
	 *
	 * @param int    $sub_id       Subscription.
	 * @param object $subscription Subscription.
	 * @return void
	 */
	public function on_subscription_expired( $sub_id, $subscription ) {
		$this->record_subscription( $sub_id, 'subscription', 'expired', $subscription->product_id, $subscription->expiration, (int) $subscription->customer_id );
	}

	/**
	 * Whether the cart changed in this request.
	 *
	 * @return bool
	 */
	protected function has_pending_extras() {
		return $this->cart_changed;
	}

	/**
	 * Records the cart if it changed (and cart tracking is on).
	 *
	 * @return void
	 */
	protected function flush_extras() {
		$changed            = $this->cart_changed;
		$this->cart_changed = false;
		if ( $changed && $this->tracks_carts() ) {
			$this->record_cart();
		}
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
	 * Records one order snapshot (sales only; refunds are their own event).
	 *
	 * @param int $order_id Order.
	 * @return void
	 */
	public function record_order( $order_id ) {
		$order = edd_get_order( $order_id );
		if ( ! $order instanceof \EDD\Orders\Order || 'sale' !== $order->type ) {
			return;
		}
		$address = $order->get_address();
		$contact = array(
			'email'      => $order->email,
			'first_name' => $address ? $address->first_name : '',
			'last_name'  => $address ? $address->last_name : '',
			'wp_user_id' => $order->user_id,
		);
		$this->record( 'order.updated', $this->snapshot( $order ), $contact );
	}

	/**
	 * Order.updated data of an EDD order. EDD keeps dates in UTC.
	 *
	 * @param \EDD\Orders\Order $order Order.
	 * @return array
	 */
	public function snapshot( $order ) {
		$status = self::normalise_status( $order->status );
		$paid   = in_array( $status, array( 'processing', 'completed', 'refunded' ), true );
		return array(
			'id'             => (string) $order->id,
			'number'         => (string) $order->get_number(),
			'status'         => $status,
			'currency'       => (string) $order->currency,
			'total'          => Events::money( $order->total ),
			'subtotal'       => Events::money( $order->subtotal ),
			'discount_total' => Events::money( $order->discount ),
			'tax_total'      => Events::money( $order->tax ),
			'shipping_total' => '0.00',
			'coupons'        => $this->coupons( $order ),
			'items'          => $this->order_items( $order ),
			'payment_method' => (string) $order->gateway,
			'created_via'    => 'checkout',
			'attribution'    => null,
			'device'         => '',
			'cart_token'     => '',
			'parent_id'      => $order->parent ? (string) $order->parent : null,
			'is_renewal'     => (bool) $order->parent,
			'created_at'     => Events::iso( $order->date_created ),
			'paid_at'        => $paid ? Events::iso( $order->date_completed ? $order->date_completed : $order->date_modified ) : null,
			'completed_at'   => 'completed' === $status ? Events::iso( $order->date_completed ) : null,
			'modified_at'    => Events::iso( $order->date_modified ? $order->date_modified : $order->date_created ),
		);
	}

	/**
	 * Discount codes.
	 *
	 * @param \EDD\Orders\Order $order Order.
	 * @return string[]
	 */
	private function coupons( $order ) {
		$codes = array();
		foreach ( (array) $order->get_discounts() as $discount ) {
			$codes[] = (string) $discount->description;
		}
		return $codes;
	}

	/**
	 * Line items.
	 *
	 * @param \EDD\Orders\Order $order Order.
	 * @return array
	 */
	private function order_items( $order ) {
		$items = array();
		foreach ( (array) $order->get_items() as $item ) {
			$items[] = array(
				'product_id'   => (string) $item->product_id,
				'variation_id' => (string) (int) $item->price_id,
				'sku'          => '',
				'name'         => (string) $item->product_name,
				'quantity'     => (int) $item->quantity,
				'price'        => Events::money( $item->amount ),
				'total'        => Events::money( $item->total ),
				'categories'   => self::categories( $item->product_id ),
			);
		}
		return $items;
	}

	/**
	 * Download category names.
	 *
	 * @param int $download_id Download.
	 * @return string[]
	 */
	private static function categories( $download_id ) {
		$terms = taxonomy_exists( 'download_category' ) ? get_the_terms( (int) $download_id, 'download_category' ) : array();
		return is_array( $terms ) ? array_values( wp_list_pluck( $terms, 'name' ) ) : array();
	}

	/**
	 * Records a refund; EDD 3 refunds are orders of type refund with a negative total.
	 *
	 * @param int[] $noted [original order id, refund order id].
	 * @return void
	 */
	protected function record_refund( $noted ) {
		list( $order_id, $refund_id ) = $noted;
		$refund                       = edd_get_order( $refund_id );
		if ( ! $refund ) {
			return;
		}
		$this->record(
			'order.refunded',
			array(
				'order_id'   => (string) $order_id,
				'refund_id'  => (string) $refund_id,
				'amount'     => Events::money( abs( (float) $refund->total ) ),
				'reason'     => '',
				'created_at' => Events::iso( $refund->date_created ),
			)
		);
	}

	/**
	 * Records the cart from the EDD session.
	 *
	 * @return void
	 */
	private function record_cart() {
		$items = array();
		foreach ( (array) edd_get_cart_contents() as $line ) {
			$price_id = isset( $line['options']['price_id'] ) ? (int) $line['options']['price_id'] : 0;
			$quantity = max( 1, (int) ( $line['quantity'] ?? 1 ) );
			$price    = (float) edd_get_download_price( $line['id'] );
			$items[]  = array(
				'product_id'   => (string) $line['id'],
				'variation_id' => (string) $price_id,
				'sku'          => '',
				'name'         => (string) get_the_title( $line['id'] ),
				'quantity'     => $quantity,
				'price'        => Events::money( $price ),
				'total'        => Events::money( $price * $quantity ),
				'categories'   => self::categories( $line['id'] ),
			);
		}
		$user = wp_get_current_user();
		$this->record(
			'cart.updated',
			array(
				'cart_token'   => $this->cart_token(),
				'currency'     => edd_get_currency(),
				'value'        => Events::money( edd_get_cart_total() ),
				'items'        => $items,
				'checkout_url' => edd_get_checkout_uri(),
			),
			$user && $user->exists() ? array(
				'email'      => $user->user_email,
				'wp_user_id' => $user->ID,
			) : array()
		);
	}

	/**
	 * This visitor's EDD cart token, kept in the EDD session.
	 *
	 * @return string
	 */
	public function cart_token() {
		$token = (string) Session_Keys::get( EDD()->session, Session_Keys::CART_TOKEN );
		if ( '' === $token ) {
			$token = str_replace( '-', '', wp_generate_uuid4() );
			EDD()->session->set( Session_Keys::CART_TOKEN, $token );
		}
		return $token;
	}

	/**
	 * Records a licence or subscription.
	 *
	 * @param int    $id          Id.
	 * @param string $kind        subscription or license.
	 * @param string $status      Status.
	 * @param int    $product_id  Download.
	 * @param mixed  $expires     Expiry.
	 * @param int    $customer_id EDD customer.
	 * @return void
	 */
	private function record_subscription( $id, $kind, $status, $product_id, $expires, $customer_id ) {
		$customer = function_exists( 'edd_get_customer' ) ? edd_get_customer( $customer_id ) : null;
		$this->record(
			'subscription.updated',
			array(
				'id'          => (string) $id,
				'kind'        => $kind,
				'status'      => (string) $status,
				'product_id'  => (string) $product_id,
				'expires_at'  => Events::iso( $expires ),
				'renewal_url' => edd_get_checkout_uri(),
			),
			$customer ? array(
				'email'      => $customer->email,
				'wp_user_id' => $customer->user_id,
			) : array()
		);
	}
}
