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
 * Notes EDD orders, deletions, licences and carts during the request; flush() records them,
 * reading each order and licence as it is then.
 */
class Source_EDD extends Source {

	use Source_EDD_Licences;

	const SOURCE = 'edd';

	const PRODUCT_POST_TYPE = 'download';

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
	 * Order meta key holding the cart token of the cart the order was placed from.
	 */
	const CART_TOKEN_META = '_sc_cart_token';

	/**
	 * Whether the cart changed.
	 *
	 * @var bool
	 */
	private $cart_changed = false;

	/**
	 * Orders trashed or deleted in this request.
	 *
	 * @var array<int, true>
	 */
	private $deleted = array();

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
		if ( 'trash' !== $new_status ) {
			$this->note_order( $order_id );
			return;
		}
		$order = edd_get_order( $order_id );
		if ( $order && 'sale' === $order->type ) {
			unset( $this->orders[ (int) $order_id ] );
			$this->deleted[ (int) $order_id ] = true;
		}
	}

	/**
	 * Hook edd_order_deleted (int $order_id): BerlinDB's Query::delete_item() (EDD 3.6.5
	 * src/Database/Query.php line 2107), after the row is gone. A refund's id may come too;
	 * the service ignores an order it does not know.
	 *
	 * @param int $order_id Order.
	 * @return void
	 */
	public function on_order_deleted( $order_id ) {
		unset( $this->orders[ (int) $order_id ] );
		if ( ! isset( $this->deleted_refunds[ (int) $order_id ] ) ) {
			$this->deleted[ (int) $order_id ] = true;
		}
	}

	/**
	 * Hook edd_pre_destroy_order (int $order_id): edd_destroy_order() (EDD 3.6.5
	 * includes/orders/functions/orders.php line 262), "Delete permanently" in the Orders and
	 * Refunds views, before the row goes: the one moment a refund's type and parent can still be
	 * read (edd_order_deleted comes after, with the id only). A refund deleted for good is
	 * order.refund_deleted and its order's snapshot again, as on WooCommerce. A trashed refund is
	 * not a deletion: it can be restored, and EDD's Trash keeps it.
	 *
	 * @param int $order_id Order or refund.
	 * @return void
	 */
	public function on_pre_destroy_order( $order_id ) {
		$refund = edd_get_order( $order_id );
		if ( ! $refund || 'refund' !== $refund->type || ! $refund->parent ) {
			return;
		}
		$this->note_refund_deleted( (int) $refund->parent, $order_id );
	}

	/**
	 * Hook edd_built_order (int $order_id, array $order_data): the shopper's checkout made an
	 * order from the cart, still full here (edd_complete_purchase() empties it later). The
	 * cart token goes on the order so the service can close that cart as converted.
	 *
	 * @param int   $order_id   Order.
	 * @param array $order_data Order data.
	 * @return void
	 */
	public function on_order_built( $order_id, $order_data = array() ) {
		if ( ! self::is_shoppers_request() || ! edd_get_cart_contents() ) {
			return;
		}
		edd_update_order_meta( $order_id, self::CART_TOKEN_META, $this->cart_token() );
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
	 * WordPress core's save_post_download (int $post_id, WP_Post $post, bool $update)
	 * (wp-includes/post.php, WordPress 6.1 line 4706): a download created, saved, trashed or
	 * untrashed (wp_trash_post() and wp_untrash_post() save through wp_update_post()). EDD 3.6.5
	 * writes the prices on save_post (includes/admin/downloads/metabox.php line 88), later in the
	 * same save: the snapshot is read at the end of the request.
	 *
	 * @param int   $post_id Download.
	 * @param mixed $post    Post.
	 * @param bool  $update  Whether it existed.
	 * @return void
	 */
	public function on_download_saved( $post_id, $post = null, $update = false ) {
		$this->note_product( $post_id );
	}

	/**
	 * A product.updated snapshot of a download. Downloads have no stock: a published one is
	 * `instock`, any other its post status. A variable-priced download's price is its lowest
	 * option (edd_get_lowest_price_option(), EDD 3.6.5 includes/download-functions.php line 450).
	 *
	 * @param int   $product_id Download.
	 * @param mixed $noted      True.
	 * @return array|null
	 */
	protected function product_snapshot( $product_id, $noted ) {
		$post = get_post( $product_id );
		if ( ! $post || self::PRODUCT_POST_TYPE !== $post->post_type || 'auto-draft' === $post->post_status ) {
			return null;
		}
		$sku   = (string) get_post_meta( $product_id, 'edd_sku', true );
		$price = edd_has_variable_prices( $product_id ) ? edd_get_lowest_price_option( $product_id ) : edd_get_download_price( $product_id );
		return array(
			'id'             => (string) $product_id,
			'name'           => mb_substr( (string) $post->post_title, 0, 300 ),
			'sku'            => '' === $sku ? null : mb_substr( $sku, 0, 100 ),
			'price'          => false === $price || '' === $price ? null : Events::money( $price ),
			'categories'     => self::categories( $product_id ),
			'url'            => self::url_or_null( get_permalink( $post ) ),
			'image'          => self::url_or_null( get_the_post_thumbnail_url( $post, 'thumbnail' ) ),
			'stock_quantity' => null,
			'status'         => self::product_status( $post->post_status, 'instock' ),
		);
	}

	/**
	 * Whether the cart changed in this request.
	 *
	 * @return bool
	 */
	protected function has_pending_extras() {
		return $this->cart_changed || $this->deleted || $this->licenses;
	}

	/**
	 * Records deletions, licences (as they are now: set_expiration() fires the status hook
	 * before the new expiry is on the licence) and the cart if it changed.
	 *
	 * @return void
	 */
	protected function flush_extras() {
		$deleted            = array_keys( $this->deleted );
		$licenses           = array_keys( $this->licenses );
		$changed            = $this->cart_changed;
		$this->deleted      = array();
		$this->licenses     = array();
		$this->cart_changed = false;
		foreach ( $deleted as $order_id ) {
			$this->record( 'order.deleted', array( 'order_id' => (string) $order_id ) );
		}
		foreach ( $licenses as $license_id ) {
			$this->record_license( $license_id );
		}
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
		$this->record( 'order.updated', $this->snapshot( $order ), $this->buyer( $order ) );
	}

	/**
	 * The buyer. EDD 3 keeps one `name`: on the order's address row, which it writes only
	 * with a street address, and on the customer, who is named by the email when no name
	 * was given. A guest (user_id 0) has no wp_user_id.
	 *
	 * @param \EDD\Orders\Order $order Order.
	 * @return array
	 */
	private function buyer( $order ) {
		$address  = $order->get_address();
		$name     = isset( $address->name ) ? trim( (string) $address->name ) : ''; // The fallback object has no name.
		$customer = '' === $name && $order->customer_id ? edd_get_customer( $order->customer_id ) : null;
		if ( $customer && isset( $customer->name ) ) {
			$name = trim( (string) $customer->name );
		}
		$parts = explode( ' ', is_email( $name ) ? '' : $name, 2 );
		return array(
			'email'      => $order->email,
			'first_name' => $parts[0],
			'last_name'  => $parts[1] ?? '',
			'wp_user_id' => (int) $order->user_id ? (int) $order->user_id : null,
		);
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
			'cart_token'     => (string) edd_get_order_meta( $order->id, self::CART_TOKEN_META, true ),
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
	 * Records the cart from the EDD session: only in the shopper's own request and only when it
	 * changed. EDD empties "the" cart in whatever request completes an order (an admin's, cron,
	 * WP-CLI, a gateway's webhook), where the session holds no shopper: an empty cart without
	 * a token there is nobody's cart. The last recorded hash is kept in the session.
	 *
	 * @return void
	 */
	private function record_cart() {
		if ( ! self::is_shoppers_request() ) {
			return;
		}
		$session = EDD()->session;
		$lines   = (array) edd_get_cart_contents();
		$token   = (string) Session_Keys::get( $session, Session_Keys::CART_TOKEN );
		if ( ! $lines && '' === $token ) {
			return;
		}
		$items = array();
		foreach ( $lines as $line ) {
			$options  = isset( $line['options'] ) ? (array) $line['options'] : array();
			$quantity = max( 1, (int) ( $line['quantity'] ?? 1 ) );
			$price    = (float) edd_get_cart_item_price( $line['id'], $options );
			$items[]  = array(
				'product_id'   => (string) $line['id'],
				'variation_id' => (string) ( isset( $options['price_id'] ) ? (int) $options['price_id'] : 0 ),
				'sku'          => '',
				'name'         => (string) edd_get_cart_item_name( $line ),
				'quantity'     => $quantity,
				'price'        => Events::money( $price ),
				'total'        => Events::money( $price * $quantity ),
				'categories'   => self::categories( $line['id'] ),
			);
		}
		$value = Events::money( edd_get_cart_total() );
		$hash  = md5( (string) wp_json_encode( array( $items, $value ) ) );
		if ( Session_Keys::get( $session, Session_Keys::CART_HASH ) === $hash ) {
			return;
		}
		$session->set( Session_Keys::CART_HASH, $hash );
		$user = wp_get_current_user();
		$this->record(
			'cart.updated',
			array(
				'cart_token'   => $this->cart_token(),
				'currency'     => edd_get_currency(),
				'value'        => $value,
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
	 * Whether a shopper's browser runs this request: an HTTP request (a PHP script or WP-CLI has
	 * no REQUEST_METHOD), not cron, not a wp-admin page (admin Ajax is the shop's front end). EDD
	 * itself counts a command-line run as "frontend" (EDD\Utils\Request::is_frontend_request(),
	 * src/Utils/Request.php line 80) and keeps a session in memory there, so a script building
	 * orders through the cart would otherwise record carts nobody has.
	 *
	 * @return bool
	 */
	private static function is_shoppers_request() {
		if ( empty( $_SERVER['REQUEST_METHOD'] ) || ( defined( 'WP_CLI' ) && WP_CLI ) || wp_doing_cron() ) {
			return false;
		}
		return ! is_admin() || wp_doing_ajax();
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

}
