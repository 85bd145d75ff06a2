<?php
/**
 * Test doubles for Easy Digital Downloads, a part of doubles/edd.php: it requires this file, and
 * its header says what the doubles follow.
 * The cart and downloads' prices: edd_get_cart_contents ... edd_get_checkout_uri (includes/cart/
 * class-edd-cart.php, cart/functions.php, download-functions.php).
 *
 * @package SalesCompanion\Tests
 */

// phpcs:disable Generic.Files.OneObjectStructurePerFile, Squiz.Commenting

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

/** The download's single price; a variable-priced download keeps 0 here (download-functions.php line 203). */
function edd_get_download_price( $download_id = 0 ) {
	return EDD_Doubles::$downloads[ (int) $download_id ] ?? 0;
}

/**
 * As edd_get_lowest_price_option() (EDD 3.6.5 includes/download-functions.php line 450): the
 * download price without variable prices, else the smallest option's amount.
 */
function edd_get_lowest_price_option( $download_id = 0 ) {
	if ( ! edd_has_variable_prices( $download_id ) ) {
		return edd_get_download_price( $download_id );
	}
	$amounts = array_column( edd_get_variable_prices( $download_id ), 'amount' );
	return $amounts ? min( $amounts ) : 0.00;
}

function edd_has_variable_prices( $download_id = 0 ) {
	return ! empty( EDD_Doubles::$variable_prices[ (int) $download_id ] );
}

function edd_get_variable_prices( $download_id = 0 ) {
	return EDD_Doubles::$variable_prices[ (int) $download_id ] ?? array();
}

/** As edd_get_price_option_name() (download-functions.php line 388). */
function edd_get_price_option_name( $download_id = 0, $price_id = 0, $order_id = 0 ) {
	$prices = edd_get_variable_prices( $download_id );
	return isset( $prices[ $price_id ]['name'] ) ? $prices[ $price_id ]['name'] : '';
}

/**
 * As EDD_Cart::get_item_price() (includes/cart/class-edd-cart.php line 1025): the price
 * option's amount for a variable-priced download, else edd_get_download_price().
 */
function edd_get_cart_item_price( $download_id = 0, $options = array(), $remove_tax_from_inclusive = false ) {
	$price = false;
	if ( edd_has_variable_prices( $download_id ) ) {
		$prices = edd_get_variable_prices( $download_id );
		if ( ! empty( $options ) && isset( $options['price_id'] ) ) {
			$price = $prices[ $options['price_id'] ]['amount'];
		}
	}
	if ( false === $price ) {
		$price = edd_get_download_price( $download_id );
	}
	return (float) $price;
}

/**
 * As EDD_Cart::get_item_name() (class-edd-cart.php line 1342) and edd_get_download_name()
 * (download-functions.php line 154): "Title — Option" for a variable price.
 */
function edd_get_cart_item_name( $item = array() ) {
	$title    = EDD_Doubles::$titles[ (int) $item['id'] ] ?? '';
	$price_id = $item['options']['price_id'] ?? null;
	if ( edd_has_variable_prices( $item['id'] ) && is_numeric( $price_id ) ) {
		$price_name = edd_get_price_option_name( $item['id'], $price_id );
		if ( ! empty( $price_name ) ) {
			$title .= ' — ' . $price_name;
		}
	}
	return '' === $title ? $item['id'] : $title;
}

/** As EDD_Cart::get_total() (class-edd-cart.php line 1237), without discounts, fees or tax. */
function edd_get_cart_total( $discounts = false ) {
	$total = 0;
	foreach ( edd_get_cart_contents() as $line ) {
		$total += edd_get_cart_item_price( $line['id'], $line['options'] ?? array() ) * ( $line['quantity'] ?? 1 );
	}
	return $total;
}

function edd_get_currency() {
	return 'USD';
}

function edd_get_checkout_uri( $args = array() ) {
	return home_url( '/edd-checkout/' );
}
