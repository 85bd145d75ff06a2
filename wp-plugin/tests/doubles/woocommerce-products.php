<?php
/**
 * Test doubles for WooCommerce, a part of doubles/woocommerce.php: it requires this file after
 * WC_Data, and its header says what the doubles follow.
 * Products: WC_Product, its variations and the stock functions (abstracts/abstract-wc-product.php,
 * class-wc-product-variation.php, wc-stock-functions.php).
 *
 * @package SalesCompanion\Tests
 */

// phpcs:disable Generic.Files.OneObjectStructurePerFile, Squiz.Commenting

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
