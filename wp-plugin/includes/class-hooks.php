<?php
/**
 * Every hook the plugin uses, in one table (docs/plugin.md mirrors it).
 *
 * @package SalesCompanion
 */

namespace SalesCompanion;

if ( ! defined( 'ABSPATH' ) ) {
	exit;
}

/**
 * The hook table. Each row: hook, component, method, priority, accepted args.
 * A row whose component is a store source is only registered when that store is
 * active and switched on in the settings. One hook lives outside the table, in
 * sales-companion.php: before_woocommerce_init, where the plugin declares its
 * WooCommerce feature compatibility whatever the sources.
 */
final class Hooks {

	const TABLE = array(
		// WordPress core.
		array( 'init', 'plugin', 'load_textdomain', 1, 0 ),
		array( 'init', 'plugin', 'on_init', 10, 0 ),
		array( 'shutdown', 'plugin', 'flush', 1, 0 ),
		array( 'rest_api_init', 'tracker', 'register_routes', 10, 0 ),
		array( 'rest_api_init', 'coupons', 'register_routes', 10, 0 ),
		array( 'wp_enqueue_scripts', 'tracker', 'enqueue', 20, 0 ),
		array( 'template_redirect', 'recovery', 'maybe_recover', 5, 0 ),
		array( 'wp_privacy_personal_data_exporters', 'privacy', 'register_exporter', 10, 1 ),
		array( 'wp_privacy_personal_data_erasers', 'privacy', 'register_eraser', 10, 1 ),
		array( 'cron_schedules', 'scheduler', 'add_interval', 10, 1 ),
		array( Scheduler::DELIVER, 'delivery', 'run', 10, 0 ),
		array( Scheduler::SWEEP, 'scheduler', 'check_wakes', 5, 0 ),
		array( Scheduler::SWEEP, 'delivery', 'run', 10, 0 ),
		// The loopback a recording request sends when the outbox was empty (class-wake.php).
		array( 'wp_ajax_nopriv_' . Wake::ACTION, 'wake', 'handle', 10, 0 ),
		array( 'wp_ajax_' . Wake::ACTION, 'wake', 'handle', 10, 0 ),
		array( Scheduler::SWEEP, 'history', 'resume', 10, 0 ),
		array( Scheduler::SYNC, 'history', 'run_batch', 10, 0 ),
		array( 'admin_menu', 'admin', 'add_pages', 10, 0 ),
		array( 'wp_dashboard_setup', 'reports', 'add_dashboard_widget', 10, 0 ),
		array( 'admin_init', 'admin', 'register_settings', 10, 0 ),
		array( 'admin_post_sales_companion_test', 'admin', 'handle_test_connection', 10, 0 ),
		array( 'admin_post_sales_companion_retry', 'admin', 'handle_retry', 10, 0 ),
		array( 'admin_post_sales_companion_sync', 'admin', 'handle_sync', 10, 0 ),
		array( 'admin_post_sales_companion_flows', 'admin', 'handle_push_flows', 10, 0 ),
		array( 'admin_post_sales_companion_backlog', 'admin', 'handle_release_backlog', 10, 0 ),
		array( 'admin_post_sales_companion_dashboard', 'admin', 'handle_open_dashboard', 10, 0 ),
		array( 'add_option_sales_companion_settings', 'admin', 'after_settings_added', 10, 2 ),
		array( 'update_option_sales_companion_settings', 'admin', 'after_settings_saved', 10, 2 ),
		// WooCommerce: includes/class-woocommerce.php, abstracts/abstract-wc-order.php, class-wc-cart.php.
		array( 'woocommerce_update_order', 'woocommerce', 'on_order_saved', 10, 2 ),
		// Before the checkout saves the order (class-wc-checkout.php line 449; StoreApi/Utilities/CheckoutTrait.php line 168).
		array( 'woocommerce_checkout_create_order', 'woocommerce', 'on_checkout_create_order', 10, 1 ),
		array( 'woocommerce_store_api_checkout_update_order_from_request', 'woocommerce', 'on_checkout_create_order', 10, 1 ),
		array( 'woocommerce_checkout_order_processed', 'woocommerce', 'on_checkout_processed', 10, 3 ),
		array( 'woocommerce_store_api_checkout_order_processed', 'woocommerce', 'on_block_checkout_processed', 10, 1 ),
		array( 'woocommerce_order_status_changed', 'woocommerce', 'on_status_changed', 10, 4 ),
		array( 'woocommerce_payment_complete', 'woocommerce', 'on_payment_complete', 10, 2 ),
		array( 'woocommerce_order_refunded', 'woocommerce', 'on_refunded', 10, 2 ),
		// A refund deleted: WP admin (class-wc-ajax.php line 2247), REST API (class-wc-rest-crud-controller.php line 505).
		array( 'woocommerce_refund_deleted', 'woocommerce', 'on_refund_deleted', 10, 2 ),
		array( 'woocommerce_rest_delete_shop_order_refund_object', 'woocommerce', 'on_rest_refund_deleted', 10, 3 ),
		array( 'woocommerce_trash_order', 'woocommerce', 'on_deleted', 10, 1 ),
		array( 'woocommerce_delete_order', 'woocommerce', 'on_deleted', 10, 1 ),
		array( 'woocommerce_add_to_cart', 'woocommerce', 'on_add_to_cart', 10, 6 ),
		array( 'woocommerce_cart_item_removed', 'woocommerce', 'on_cart_item_removed', 10, 2 ),
		array( 'woocommerce_after_cart_item_quantity_update', 'woocommerce', 'on_cart_quantity', 10, 4 ),
		array( 'woocommerce_cart_emptied', 'woocommerce', 'on_cart_emptied', 10, 1 ),
		array( 'woocommerce_applied_coupon', 'woocommerce', 'on_coupon', 10, 1 ),
		array( 'woocommerce_removed_coupon', 'woocommerce', 'on_coupon', 10, 1 ),
		array( 'woocommerce_checkout_update_order_review', 'woocommerce', 'on_order_review', 10, 1 ),
		array( 'woocommerce_subscription_status_updated', 'woocommerce', 'on_subscription_status', 10, 3 ),
		array( 'woocommerce_subscription_renewal_payment_complete', 'woocommerce', 'on_subscription_renewal', 10, 2 ),
		// Products: WooCommerce 8.9.1 data-stores/class-wc-product-data-store-cpt.php, class-wc-product-variation-data-store-cpt.php, wc-stock-functions.php.
		array( 'woocommerce_new_product', 'woocommerce', 'on_product_saved', 10, 2 ),
		array( 'woocommerce_update_product', 'woocommerce', 'on_product_saved', 10, 2 ),
		array( 'woocommerce_product_set_stock', 'woocommerce', 'on_stock_set', 10, 1 ),
		array( 'woocommerce_product_set_stock_status', 'woocommerce', 'on_stock_status_set', 10, 3 ),
		array( 'woocommerce_new_product_variation', 'woocommerce', 'on_variation_changed', 10, 2 ),
		array( 'woocommerce_update_product_variation', 'woocommerce', 'on_variation_changed', 10, 2 ),
		array( 'woocommerce_variation_set_stock', 'woocommerce', 'on_variation_changed', 10, 1 ),
		array( 'woocommerce_variation_set_stock_status', 'woocommerce', 'on_variation_changed', 10, 3 ),
		// WordPress core (wp-includes/post.php): trash, untrash, delete of a product post.
		array( 'trashed_post', 'woocommerce', 'on_post_trashed', 10, 1 ),
		array( 'untrashed_post', 'woocommerce', 'on_post_trashed', 10, 1 ),
		array( 'before_delete_post', 'woocommerce', 'on_post_deleting', 10, 2 ),
		// Easy Digital Downloads 3.x: includes/orders/functions/orders.php, refunds.php, class-edd-cart.php, payments/functions.php.
		array( 'edd_complete_purchase', 'edd', 'on_complete_purchase', 10, 3 ),
		// ( $old_status, $new_status, $order_id ): BerlinDB Query::transition_item() (EDD 3.6.5 src/Database/Query.php).
		array( 'edd_transition_order_status', 'edd', 'on_transition_status', 10, 3 ),
		array( 'edd_refund_order', 'edd', 'on_refund_order', 10, 3 ),
		// ( $order_id ): BerlinDB Query::delete_item() (src/Database/Query.php line 2107); trash is a transition to "trash".
		array( 'edd_pre_destroy_order', 'edd', 'on_pre_destroy_order', 10, 1 ),
		array( 'edd_order_deleted', 'edd', 'on_order_deleted', 10, 1 ),
		// ( $order_id, $order_data ): edd_build_order(), in the shopper's checkout (orders.php line 1279).
		array( 'edd_built_order', 'edd', 'on_order_built', 10, 2 ),
		array( 'edd_post_add_to_cart', 'edd', 'on_cart_changed', 10, 3 ),
		array( 'edd_post_remove_from_cart', 'edd', 'on_cart_changed', 10, 2 ),
		array( 'edd_empty_cart', 'edd', 'on_cart_changed', 10, 0 ),
		// Software Licensing: includes/classes/class-sl-license.php (create, renew, set_status, set_expiration).
		array( 'edd_sl_store_license', 'edd', 'on_license_stored', 10, 1 ),
		array( 'edd_sl_post_set_status', 'edd', 'on_license_status', 10, 2 ),
		array( 'edd_sl_post_set_expiration', 'edd', 'on_license_expiration', 10, 1 ),
		array( 'edd_sl_post_license_renewal', 'edd', 'on_license_expiration', 10, 1 ),
		array( 'edd_subscription_post_renew', 'edd', 'on_subscription_renewed', 10, 3 ),
		array( 'edd_subscription_expired', 'edd', 'on_subscription_expired', 10, 2 ),
		// Downloads: WordPress core wp_insert_post() (create, save, trash, untrash) and wp_delete_post().
		array( 'save_post_download', 'edd', 'on_download_saved', 10, 3 ),
		array( 'before_delete_post', 'edd', 'on_post_deleting', 10, 2 ),
		// FluentCart: app/Hooks/actions.php, app/Events/Order/*.php, app/Models/Cart.php, app/Events/Subscription/*.php.
		array( 'fluent_cart/order_paid_done', 'fluentcart', 'on_order_paid', 10, 1 ),
		array( 'fluent_cart/order_status_changed', 'fluentcart', 'on_status_changed', 10, 1 ),
		array( 'fluent_cart/payment_status_changed', 'fluentcart', 'on_status_changed', 10, 1 ),
		array( 'fluent_cart/order_refunded', 'fluentcart', 'on_refunded', 10, 1 ),
		array( 'fluent_cart/cart/cart_data_items_updated', 'fluentcart', 'on_cart_updated', 10, 1 ),
		array( 'fluent_cart/checkout/form_data_changed', 'fluentcart', 'on_cart_updated', 10, 1 ),
		// Filters (the method returns its first argument): app/Hooks/Cart/WebCheckoutHandler.php lines 797, 933, 999.
		array( 'fluent_cart/checkout/before_patch_checkout_data', 'fluentcart', 'on_checkout_patch', 10, 2 ),
		array( 'fluent_cart/checkout/after_patch_checkout_data_fragments', 'fluentcart', 'on_checkout_patched', 10, 2 ),
		array( 'fluent_cart/subscription_renewed', 'fluentcart', 'on_subscription', 10, 1 ),
		array( 'fluent_cart/subscription_canceled', 'fluentcart', 'on_subscription', 10, 1 ),
		array( 'fluent_cart/subscription_eot', 'fluentcart', 'on_subscription', 10, 1 ),
		array( 'fluent_cart/subscription_expired_validity', 'fluentcart', 'on_subscription', 10, 1 ),
		// Products: app/Http/Controllers/ProductController.php line 333, app/Events/StockChanged.php; trash and delete of the post.
		array( 'fluent_cart/product_updated', 'fluentcart', 'on_product_updated', 10, 1 ),
		array( 'fluent_cart/product_stock_changed', 'fluentcart', 'on_stock_changed', 10, 1 ),
		array( 'trashed_post', 'fluentcart', 'on_post_trashed', 10, 1 ),
		array( 'untrashed_post', 'fluentcart', 'on_post_trashed', 10, 1 ),
		array( 'before_delete_post', 'fluentcart', 'on_post_deleting', 10, 2 ),
	);

	const SOURCES = array( 'woocommerce', 'edd', 'fluentcart' );

	/**
	 * Rows for one component.
	 *
	 * @param string $component Component key.
	 * @return array<int, array>
	 */
	public static function for_component( $component ) {
		return array_values(
			array_filter(
				self::TABLE,
				static function ( $row ) use ( $component ) {
					return $row[1] === $component;
				}
			)
		);
	}
}
