<?php
/**
 * Test doubles for WooCommerce, a part of doubles/woocommerce.php: it requires this file after
 * WC_Data, and its header says what the doubles follow.
 * The cart and coupons: WC_Cart, WC_Data_Exception and WC_Coupon (class-wc-cart.php,
 * class-wc-coupon.php).
 *
 * @package SalesCompanion\Tests
 */

// phpcs:disable Generic.Files.OneObjectStructurePerFile, Squiz.Commenting

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
