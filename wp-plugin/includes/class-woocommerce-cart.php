<?php
/**
 * The WooCommerce cart as cart.updated events: token, guest contact, debounce.
 *
 * @package SalesCompanion
 */

namespace SalesCompanion;

if ( ! defined( 'ABSPATH' ) ) {
	exit;
}

/**
 * One visitor's cart. Changes in a request are recorded once at flush(), and
 * only when content, value or contact differ from the last record (hash kept in
 * the WooCommerce session).
 */
final class WooCommerce_Cart {

	/**
	 * Events.
	 *
	 * @var Events
	 */
	private $events;

	/**
	 * Whether the cart changed in this request.
	 *
	 * @var bool
	 */
	private $changed = false;

	/**
	 * Constructor.
	 *
	 * @param Events $events Events.
	 */
	public function __construct( Events $events ) {
		$this->events = $events;
	}

	/**
	 * Notes a change.
	 *
	 * @return void
	 */
	public function mark_changed() {
		$this->changed = true;
	}

	/**
	 * Whether the cart changed in this request.
	 *
	 * @return bool
	 */
	public function is_changed() {
		return $this->changed;
	}

	/**
	 * Records the cart if it changed (and cart tracking is on).
	 *
	 * @return void
	 */
	public function flush() {
		$changed       = $this->changed;
		$this->changed = false;
		if ( $changed && $this->events->settings()->get( 'track_carts' ) ) {
			$this->record();
		}
	}

	/**
	 * Stores a guest's contact in the WooCommerce session and notes the cart.
	 *
	 * @param array $contact Contact fields.
	 * @return bool Whether there was a session to keep it in.
	 */
	public function remember_contact( array $contact ) {
		$session = $this->session();
		if ( ! $session ) {
			return false;
		}
		$session->set( Session_Keys::CONTACT, $contact );
		$this->changed = true;
		return true;
	}

	/**
	 * The WooCommerce session, when there is one.
	 *
	 * @return object|null
	 */
	private function session() {
		return function_exists( 'WC' ) && isset( WC()->session ) && WC()->session ? WC()->session : null;
	}

	/**
	 * This visitor's cart token, created on first use.
	 *
	 * @return string
	 */
	public function token() {
		$session = $this->session();
		if ( ! $session ) {
			return '';
		}
		$token = (string) Session_Keys::get( $session, Session_Keys::CART_TOKEN );
		if ( '' === $token ) {
			$token = str_replace( '-', '', wp_generate_uuid4() );
			$session->set( Session_Keys::CART_TOKEN, $token );
		}
		return $token;
	}

	/**
	 * Uses a given cart token (a recovered cart keeps its token).
	 *
	 * @param string $token Token.
	 * @return void
	 */
	public function adopt_token( $token ) {
		$session = $this->session();
		if ( $session ) {
			$session->set( Session_Keys::CART_TOKEN, $token );
		}
	}

	/**
	 * Puts the cart token on an order WooCommerce is about to save (the checkout's own save writes
	 * it, one meta row): no save of our own.
	 *
	 * @param mixed $order Order.
	 * @return void
	 */
	public function tag_order( $order ) {
		$token = $this->token();
		if ( '' !== $token && $order instanceof \WC_Order && $order->get_meta( '_sc_cart_token' ) !== $token ) {
			$order->update_meta_data( '_sc_cart_token', $token );
		}
	}

	/**
	 * Puts the cart token on a saved order so the service can close the cart, when the checkout
	 * did not already save it (tag_order). A save of its own costs more than the meta row: on
	 * HPOS, OrdersTableDataStore::after_meta_change() (woocommerce 8.9.1
	 * src/Internal/DataStores/Orders/OrdersTableDataStore.php line 3068) saves the whole order
	 * again or drops it from the cache so the checkout reads it again (3 queries measured).
	 *
	 * @param mixed $order Order.
	 * @return void
	 */
	public function link_order( $order ) {
		$token = $this->token();
		if ( '' !== $token && $order instanceof \WC_Order && $order->get_meta( '_sc_cart_token' ) !== $token ) {
			$order->update_meta_data( '_sc_cart_token', $token );
			$order->save_meta_data();
		}
	}

	/**
	 * Records the cart, unless it is unchanged since the last record.
	 *
	 * @return void
	 */
	public function record() {
		$session = $this->session();
		if ( ! $session || ! isset( WC()->cart ) || ! WC()->cart ) {
			return;
		}
		$data    = $this->cart_data( WC()->cart );
		$contact = Session_Keys::get( $session, Session_Keys::CONTACT );
		$hash    = md5( (string) wp_json_encode( array( $data['items'], $data['value'], $contact ) ) );
		if ( Session_Keys::get( $session, Session_Keys::CART_HASH ) === $hash ) {
			return;
		}
		$session->set( Session_Keys::CART_HASH, $hash );
		$this->events->record( 'cart.updated', Source_WooCommerce::SOURCE, $data, (array) $contact + $this->user_contact() );
	}

	/**
	 * The cart.updated data.
	 *
	 * @param object $cart WC_Cart.
	 * @return array
	 */
	private function cart_data( $cart ) {
		$items = array();
		foreach ( $cart->get_cart() as $line ) {
			$product  = isset( $line['data'] ) ? $line['data'] : null;
			$quantity = max( 1, (int) $line['quantity'] );
			$items[]  = array(
				'product_id'   => (string) $line['product_id'],
				'variation_id' => (string) ( $line['variation_id'] ?? 0 ),
				'sku'          => $product ? (string) $product->get_sku() : '',
				'name'         => $product ? (string) $product->get_name() : '',
				'quantity'     => (int) $line['quantity'],
				'price'        => Events::money( (float) ( $line['line_subtotal'] ?? 0 ) / $quantity ),
				'total'        => Events::money( $line['line_total'] ?? 0 ),
				'categories'   => WooCommerce_Order_Snapshot::categories( $line['product_id'] ),
			);
		}
		return array(
			'cart_token'   => $this->token(),
			'currency'     => get_woocommerce_currency(),
			'value'        => Events::money( $cart->get_total( 'edit' ) ),
			'items'        => $items,
			'checkout_url' => wc_get_checkout_url(),
		);
	}

	/**
	 * The signed-in customer, if any.
	 *
	 * @return array
	 */
	private function user_contact() {
		$user = wp_get_current_user();
		if ( ! $user || ! $user->exists() ) {
			return array();
		}
		return array(
			'email'      => $user->user_email,
			'first_name' => $user->first_name,
			'last_name'  => $user->last_name,
			'wp_user_id' => $user->ID,
		);
	}
}
