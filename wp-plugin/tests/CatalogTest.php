<?php
/**
 * The shop's catalogue reaches the service: a product created or changed (name, price, stock,
 * status, trash) in WooCommerce, EDD or FluentCart is recorded as one product.updated per
 * request, a checkout's stock change included, in the request's single outbox write.
 *
 * @package SalesCompanion\Tests
 */

namespace SalesCompanion\Tests;

use FluentCart\App\Models\Customer;
use FluentCart\App\Models\Model;
use FluentCart\App\Models\Order;
use FluentCart\App\Models\OrderTransaction;
use FluentCart\App\Models\ProductDetail;
use FluentCart\App\Models\ProductVariation;
use SalesCompanion\Outbox;
use function SalesCompanion\Tests\FluentCart\dispatch_order_created_with_stock;
use function SalesCompanion\Tests\FluentCart\dispatch_order_paid_done;
use function SalesCompanion\Tests\FluentCart\dispatch_product_updated;

final class CatalogTest extends TestCase {

	/** @var string[] */
	private $queries = array();

	/** Product posts of the three stores left by earlier tests (the database is real). */
	public static function delete_product_posts() {
		$ids = get_posts(
			array(
				'post_type'      => array( 'product', 'product_variation', 'download', 'fluent-products' ),
				'post_status'    => 'any,trash,auto-draft',
				'fields'         => 'ids',
				'posts_per_page' => -1,
			)
		);
		foreach ( $ids as $id ) {
			wp_delete_post( $id, true );
		}
	}

	protected function setUp(): void {
		self::delete_product_posts();
		parent::setUp();
		$_SERVER['REQUEST_METHOD'] = 'GET';
		if ( ! taxonomy_exists( 'product_cat' ) ) {
			// WooCommerce registers it on init (includes/class-wc-post-types.php register_taxonomies()).
			register_taxonomy( 'product_cat', array( 'product' ) );
		}
		Model::$rows = array();
		add_filter( 'query', array( $this, 'seen' ) );
	}

	protected function tearDown(): void {
		remove_filter( 'query', array( $this, 'seen' ) );
		remove_action( 'woocommerce_payment_complete', 'wc_reduce_stock_levels' );
		unset( $_SERVER['REQUEST_METHOD'] );
		Model::$rows = array();
		parent::tearDown();
	}

	public function seen( $query ) {
		$this->queries[] = $query;
		return $query;
	}

	private function outbox_inserts() {
		$table = Outbox::table();
		return count(
			array_filter(
				$this->queries,
				static function ( $query ) use ( $table ) {
					return 0 === strpos( ltrim( $query ), "INSERT INTO {$table}" );
				}
			)
		);
	}

	/** Ends the request and starts counting the next one's queries afresh. */
	private function next_request() {
		$this->end_request();
		Plugin()->get( 'outbox' )->truncate();
		$this->queries = array();
	}

	private function products() {
		return array_column( $this->queued_of( 'product.updated' ), 'data' );
	}

	private function thermos( array $props = array() ) {
		$product = \WC_Doubles::create_product(
			array_merge(
				array(
					'name'           => 'Trail Thermos 500ml',
					'sku'            => 'THERMOS-500',
					'price'          => '24.9',
					'manage_stock'   => true,
					'stock_quantity' => 3,
				),
				$props
			)
		);
		wp_set_object_terms( $product->get_id(), array( 'Outdoor' ), 'product_cat' );
		return $product;
	}

	// --- WooCommerce ----------------------------------------------------------------------------

	public function test_a_new_woocommerce_product_is_one_product_updated_with_its_fields(): void {
		$product = $this->thermos();
		$this->assertSame( 1, $this->end_request() );
		$this->assertSame(
			array(
				'id'             => (string) $product->get_id(),
				'name'           => 'Trail Thermos 500ml',
				'sku'            => 'THERMOS-500',
				'price'          => '24.90',
				'categories'     => array( 'Outdoor' ),
				'url'            => get_permalink( $product->get_id() ),
				'image'          => null,
				'stock_quantity' => 3,
				'status'         => 'instock',
			),
			$this->products()[0]
		);
		$this->assertSame( 'woocommerce', $this->queued_of( 'product.updated' )[0]['source'] );
		$this->assertStringStartsWith( 'http://', $this->products()[0]['url'] );
	}

	public function test_a_product_changed_by_several_hooks_in_one_request_is_one_snapshot_of_its_last_state(): void {
		$product = $this->thermos();
		$this->next_request();
		$product->set_props( array( 'price' => '19.90', 'stock_quantity' => 0 ) );
		$product->save(); // set_stock, set_stock_status, update_product
		$product->set_props( array( 'name' => 'Trail Thermos 0.5 l' ) );
		$product->save();
		$this->end_request();
		$this->assertSame(
			array( array( 'Trail Thermos 0.5 l', '19.90', 0, 'outofstock' ) ),
			array_map(
				static function ( $p ) {
					return array( $p['name'], $p['price'], $p['stock_quantity'], $p['status'] );
				},
				$this->products()
			)
		);
	}

	public function test_a_checkout_that_takes_stock_records_it_with_the_order_in_one_outbox_write(): void {
		// WooCommerce reduces stock on payment (wc-stock-functions.php line 112).
		add_action( 'woocommerce_payment_complete', 'wc_reduce_stock_levels' );
		$product = $this->thermos( array( 'stock_quantity' => 2 ) );
		$this->next_request();
		$order = wc_create_order( array( 'billing_email' => 'ann@example.com', 'payment_method' => 'stripe' ) );
		$order->add_item( new \WC_Order_Item_Product( array( 'product_id' => $product->get_id(), 'name' => 'Trail Thermos 500ml', 'quantity' => 2, 'subtotal' => '49.80', 'total' => '49.80' ) ) );
		$order->calculate_totals();
		$order->payment_complete( 'txn_1' );
		$this->end_request();
		$this->assertSame( 1, $this->outbox_inserts(), 'the stock goes in the checkout\'s one INSERT' );
		$this->assertCount( 1, $this->queued_of( 'order.updated' ) );
		$this->assertSame( array( array( 0, 'outofstock' ) ), array_map( static function ( $p ) { return array( $p['stock_quantity'], $p['status'] ); }, $this->products() ) );
	}

	public function test_a_product_not_published_sends_its_post_status_and_one_without_managed_stock_no_quantity(): void {
		$draft = \WC_Doubles::create_product( array( 'name' => 'Next season', 'price' => '5', 'status' => 'draft' ) );
		$this->end_request();
		$this->assertSame( array( array( 'draft', null ) ), array_map( static function ( $p ) { return array( $p['status'], $p['stock_quantity'] ); }, $this->products() ) );
		$this->assertSame( (string) $draft->get_id(), $this->products()[0]['id'] );
	}

	public function test_a_trashed_or_deleted_product_is_sent_as_trash(): void {
		$product = $this->thermos();
		$this->next_request();
		wp_trash_post( $product->get_id() );
		$this->end_request();
		$this->assertSame( array( 'trash' ), array_column( $this->products(), 'status' ) );
		Plugin()->get( 'outbox' )->truncate();
		wp_delete_post( $product->get_id(), true );
		$this->end_request();
		$this->assertSame( array( array( 'Trail Thermos 500ml', 'trash' ) ), array_map( static function ( $p ) { return array( $p['name'], $p['status'] ); }, $this->products() ) );
	}

	public function test_a_variation_whose_stock_changes_sends_its_product(): void {
		$parent    = \WC_Doubles::create_product( array( 'name' => 'Beans', 'price' => '12.50' ) );
		$variation = new \WC_Product_Variation( 0, array( 'name' => 'Beans 1 kg', 'price' => '30', 'parent_id' => $parent->get_id(), 'manage_stock' => true, 'stock_quantity' => 4 ) );
		$variation->save();
		$this->next_request();
		wc_update_product_stock( $variation, 1, 'decrease' );
		$this->end_request();
		$this->assertSame( array( (string) $parent->get_id() ), array_column( $this->products(), 'id' ) );
	}

	// --- Easy Digital Downloads ----------------------------------------------------------------

	public function test_an_edd_download_saved_is_one_product_updated_at_its_lowest_price(): void {
		register_taxonomy( 'download_category', array( 'download' ) );
		$id = wp_insert_post( array( 'post_type' => 'download', 'post_title' => 'Theme Pro', 'post_status' => 'publish' ) );
		update_post_meta( $id, 'edd_sku', 'THEME-PRO' );
		\EDD_Doubles::$variable_prices[ $id ] = array( 1 => array( 'name' => 'Single site', 'amount' => 49.0 ), 2 => array( 'name' => 'Agency', 'amount' => 29.0 ) );
		wp_set_object_terms( $id, array( 'Themes' ), 'download_category' );
		wp_update_post( array( 'ID' => $id, 'post_title' => 'Theme Pro 2' ) );
		$this->end_request();
		$this->assertSame(
			array(
				'id'             => (string) $id,
				'name'           => 'Theme Pro 2',
				'sku'            => 'THEME-PRO',
				'price'          => '29.00',
				'categories'     => array( 'Themes' ),
				'url'            => get_permalink( $id ),
				'image'          => null,
				'stock_quantity' => null,
				'status'         => 'instock',
			),
			$this->products()[0]
		);
		$this->assertCount( 1, $this->products() );
		$this->assertSame( 'edd', $this->queued_of( 'product.updated' )[0]['source'] );
	}

	public function test_an_edd_download_unpublished_or_trashed_sends_its_post_status_and_an_auto_draft_nothing(): void {
		wp_insert_post( array( 'post_type' => 'download', 'post_title' => 'Auto Draft', 'post_status' => 'auto-draft' ) );
		$id                              = wp_insert_post( array( 'post_type' => 'download', 'post_title' => 'Plugin', 'post_status' => 'publish' ) );
		\EDD_Doubles::$downloads[ $id ] = 9.0;
		$this->next_request();
		wp_update_post( array( 'ID' => $id, 'post_status' => 'private' ) );
		$this->end_request();
		$this->assertSame( array( array( 'private', '9.00' ) ), array_map( static function ( $p ) { return array( $p['status'], $p['price'] ); }, $this->products() ) );
		Plugin()->get( 'outbox' )->truncate();
		wp_trash_post( $id );
		$this->end_request();
		$this->assertSame( array( 'trash' ), array_column( $this->products(), 'status' ) );
	}

	// --- FluentCart -----------------------------------------------------------------------------

	private function fluent_product( $available ) {
		$id = wp_insert_post( array( 'post_type' => 'fluent-products', 'post_title' => 'Yoga Mat', 'post_status' => 'publish' ) );
		ProductDetail::create( array( 'id' => 70, 'post_id' => $id, 'min_price' => 3999, 'manage_stock' => 1, 'stock_availability' => 'in-stock' ) );
		ProductVariation::create( array( 'id' => 71, 'post_id' => $id, 'item_price' => 3999, 'manage_stock' => 1, 'available' => $available, 'stock_status' => 'in-stock' ) );
		$this->next_request();
		return $id;
	}

	public function test_a_fluentcart_product_saved_is_one_product_updated_with_cents_as_decimals(): void {
		$id = $this->fluent_product( 5 );
		dispatch_product_updated( $id, array( 'post_title' => 'Yoga Mat Pro' ) );
		$this->end_request();
		$this->assertSame(
			array(
				'id'             => (string) $id,
				'name'           => 'Yoga Mat Pro',
				'sku'            => null,
				'price'          => '39.99',
				'categories'     => array(),
				'url'            => get_permalink( $id ),
				'image'          => null,
				'stock_quantity' => 5,
				'status'         => 'instock',
			),
			$this->products()[0]
		);
		$this->assertCount( 1, $this->products() );
	}

	public function test_a_fluentcart_checkout_that_takes_the_last_one_records_it_with_the_order_in_one_write(): void {
		$id    = $this->fluent_product( 1 );
		$order = new Order( array( 'id' => 81, 'status' => 'processing', 'payment_status' => 'paid', 'currency' => 'USD', 'total_amount' => 3999, 'subtotal' => 3999, 'created_at' => '2026-11-20 10:00:00', 'updated_at' => '2026-11-20 10:00:00', 'order_items' => array(), 'customer' => new Customer( array( 'email' => 'cy@example.com' ) ) ) );
		dispatch_order_created_with_stock( array( $id => 1 ) );
		dispatch_order_paid_done( $order, new OrderTransaction( array( 'id' => 91 ) ) );
		$this->end_request();
		$this->assertSame( 1, $this->outbox_inserts() );
		$this->assertCount( 1, $this->queued_of( 'order.updated' ) );
		$this->assertSame( array( array( 0, 'outofstock' ) ), array_map( static function ( $p ) { return array( $p['stock_quantity'], $p['status'] ); }, $this->products() ) );
	}
}
