<?php
/**
 * End-to-end driver: a real WordPress with the plugin configured for a running
 * service; WooCommerce hooks fire (through the doubles) as a guest shops, the
 * plugin's delivery sends over real HTTP. Prints a JSON summary.
 * Env: WORDPRESS_CONFIG, SC_SERVICE_URL, SC_SITE_ID, SC_SECRET, SC_TOKEN, SC_EMAIL.
 *
 * @package SalesCompanion\Tests
 */

$_SERVER['HTTP_HOST']   = 'shop.test';
$_SERVER['REQUEST_URI'] = '/';
require dirname( __DIR__ ) . '/doubles/woocommerce.php';
require dirname( __DIR__ ) . '/doubles/edd.php';
require dirname( __DIR__ ) . '/doubles/fluentcart.php';
require '/usr/share/wordpress/wp-load.php';

use SalesCompanion\Plugin;

update_option(
	'sales_companion_settings',
	array(
		'service_url' => getenv( 'SC_SERVICE_URL' ),
		'site_id'     => getenv( 'SC_SITE_ID' ),
		'secret'      => getenv( 'SC_SECRET' ),
		'api_token'   => getenv( 'SC_TOKEN' ),
	)
);
$plugin = Plugin::instance();
$email  = getenv( 'SC_EMAIL' );
$check  = $plugin->get( 'client' )->test_connection();

// The owner's flow settings, as the settings page saves them, then "Push flow settings now":
// the plugin's real payload against the real service (docs/plugin.md, "Flows payload").
$owner                                          = $plugin->get( 'settings' )->all();
$owner['sender_name']                           = 'Erin at E2E Shop';
$owner['sender_email']                          = 'hello@shop.test';
$owner['flows']['vip']['enabled']               = false;
$owner['flows']['abandoned_cart']['delay_hours'] = 3;
$owner['flows']['renewal_reminder']['delay_hours'] = 72;
update_option( 'woocommerce_store_address', '1 Harbour Street' );
update_option( 'woocommerce_store_city', 'Bristol' );
update_option( 'woocommerce_store_postcode', 'BS1 4QA' );
update_option( 'woocommerce_default_country', 'GB' );
// First a subject B the service cannot render (refused, naming the field, nothing saved), then
// the owner's fix: the first email tests two subjects (docs/flows.md, "Subject A/B tests").
$owner['flows']['win_back']['subject_b'] = 'Hi {{ contact.frist_name }}';
update_option( 'sales_companion_settings', $owner );
$refused = $plugin->get( 'admin' )->push_flows();
$owner['flows']['win_back']['subject_b'] = '{{ contact.first_name }}, your 10% is waiting';
update_option( 'sales_companion_settings', $owner );
$flows = $plugin->get( 'admin' )->push_flows();
// What WP admin shows of it: the backlog of win-back (GET .../backlog) and the Reports page's
// A/B section, read from the real service.
$backlog  = $plugin->get( 'client' )->api( 'GET', 'flows/win_back/backlog', null, 10 );
$ab_tests = $plugin->get( 'reports' )->ab_tests();

// A guest browses, fills a cart and types an email.
$_COOKIE['sc_sid'] = 'e2esession01';
WC_Doubles::add_product( 11, 'Mug', '10.00', 'MUG-1' );
WC_Doubles::add_product( 12, 'Tea', '2.50', 'TEA-1' );
// The beacon presents the token the page was rendered with (Beacon_Token), as tracker.js does.
$page_token = $plugin->get( 'tracker' )->config( time() )['token'];
$plugin->get( 'tracker' )->handle( array( 'type' => 'page', 'url' => home_url( '/shop/' ), 'referrer' => '', 'token' => $page_token ), time() );
WC()->cart->add_to_cart( 11, 2 );
WC()->cart->add_to_cart( 12, 2 );
do_action( 'woocommerce_checkout_update_order_review', 'billing_first_name=Erin&billing_email=' . rawurlencode( $email ) );
$plugin->flush();

// Classic checkout and payment, as WOOCOMMERCE-FACTS describes them.
$order = wc_create_order( array( 'billing_email' => $email, 'billing_first_name' => 'Erin', 'billing_last_name' => 'Example', 'payment_method' => 'stripe', 'created_via' => 'checkout' ) );
$order->add_item( new WC_Order_Item_Product( array( 'product_id' => 11, 'name' => 'Mug', 'quantity' => 2, 'subtotal' => '20.00', 'total' => '20.00' ) ) );
$order->add_item( new WC_Order_Item_Product( array( 'product_id' => 12, 'name' => 'Tea', 'quantity' => 2, 'subtotal' => '5.00', 'total' => '5.00' ) ) );
$order->calculate_totals();
do_action( 'woocommerce_checkout_order_created', $order );
do_action( 'woocommerce_checkout_order_processed', $order->get_id(), array(), $order );
$order->payment_complete( 'txn_e2e' );
WC()->cart->empty_cart();
$plugin->flush();

// Completed, then a partial refund, in a later request.
$order->update_status( 'completed' );
wc_create_refund( array( 'order_id' => $order->get_id(), 'amount' => 5, 'reason' => 'Chipped mug' ) );
$plugin->flush();

// An EDD sale (dollars) and a FluentCart sale (cents) for two more customers.
EDD_Doubles::$customers[7] = (object) array( 'id' => 7, 'email' => 'edd.e2e@example.com', 'user_id' => 0 );
$edd_order = EDD_Doubles::add_order(
	array( 'status' => 'pending', 'email' => 'edd.e2e@example.com', 'customer_id' => 7, 'currency' => 'EUR', 'subtotal' => 49.0, 'total' => 49.0, 'address' => (object) array( 'first_name' => 'Ed', 'last_name' => 'D' ) ),
	array( array( 'product_id' => 31, 'product_name' => 'Theme', 'quantity' => 1, 'amount' => 49.0, 'subtotal' => 49.0, 'total' => 49.0 ) )
);
edd_update_order_status( $edd_order, 'complete' );
$fc_order = new FluentCart\App\Models\Order(
	array(
		'id'             => 77,
		'status'         => 'completed',
		'payment_status' => 'paid',
		'type'           => 'payment',
		'currency'       => 'EUR',
		'subtotal'       => 12345,
		'total_amount'   => 12345,
		'created_at'     => gmdate( 'Y-m-d H:i:s' ),
		'updated_at'     => gmdate( 'Y-m-d H:i:s' ),
		'customer'       => new FluentCart\App\Models\Customer( array( 'email' => 'fc.e2e@example.com', 'first_name' => 'Flo' ) ),
		'order_items'    => array( new FluentCart\App\Models\OrderItem( array( 'post_id' => 51, 'object_id' => 61, 'post_title' => 'Course', 'quantity' => 1, 'unit_price' => 12345, 'line_total' => 12345 ) ) ),
	)
);
SalesCompanion\Tests\FluentCart\dispatch_order_paid_done( $fc_order, new FluentCart\App\Models\OrderTransaction( array( 'id' => 5 ) ) );
$plugin->flush();

// The catalogue: the owner adds a product (a real post), then an order takes the last one.
$thermos = WC_Doubles::create_product( array( 'name' => 'Trail Thermos 500ml', 'sku' => 'THERMOS-500', 'price' => '24.90', 'manage_stock' => true, 'stock_quantity' => 1 ) );
$plugin->flush();
wc_update_product_stock( $thermos, 1, 'decrease' );
$plugin->flush();

$queued    = $plugin->get( 'outbox' )->counts()['pending'];
$delivered = $plugin->get( 'delivery' )->run();
echo wp_json_encode(
	array(
		'connection' => $check,
		'flows'      => $flows,
		'refused'    => $refused,
		'backlog'    => $backlog,
		'ab_tests'   => $ab_tests,
		'order_id'   => (string) $order->get_id(),
		'thermos'    => array( 'id' => (string) $thermos->get_id(), 'url' => get_permalink( $thermos->get_id() ) ),
		'queued'     => $queued,
		'delivered'  => $delivered,
		'outbox'     => $plugin->get( 'outbox' )->counts(),
		'failures'   => $plugin->get( 'outbox' )->failures(),
		'state'      => $plugin->get( 'delivery' )->state(),
	)
) . "\n";
