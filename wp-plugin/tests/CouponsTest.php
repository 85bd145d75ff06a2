<?php
/**
 * The route the service calls to have a customer's single-use coupon made in the store.
 *
 * @package SalesCompanion\Tests
 */

namespace SalesCompanion\Tests;

use SalesCompanion\Client;
use SalesCompanion\Settings;

final class CouponsTest extends TestCase {

	private function ask( array $data, $key = self::KEY, $timestamp = null, $msg_id = '' ) {
		$body    = wp_json_encode( $data );
		$request = new \WP_REST_Request( 'POST', '/sales-companion/v1/coupons' );
		$request->set_header( 'Content-Type', 'application/json' );
		foreach ( Client::signature_headers( $body, $key, $timestamp, $msg_id ) as $name => $value ) {
			$request->set_header( $name, $value );
		}
		$request->set_body( $body );
		return rest_do_request( $request );
	}

	private static function coupon( array $changes = array() ) {
		return array_merge(
			array(
				'code'                 => 'SC-ABCDEFGH2345',
				'discount_type'        => 'percent',
				'amount'               => '10',
				'minimum_amount'       => '30.00',
				'individual_use'       => true,
				'usage_limit'          => 1,
				'usage_limit_per_user' => 1,
				'email'                => 'Ann@Example.com',
				'date_expires'         => time() + 7 * DAY_IN_SECONDS,
				'flow'                 => 'win_back',
				'step'                 => 2,
			),
			$changes
		);
	}

	public function test_a_signed_request_makes_a_single_use_coupon_for_one_address(): void {
		$expires  = time() + 7 * DAY_IN_SECONDS;
		$response = $this->ask( self::coupon( array( 'date_expires' => $expires ) ) );
		$this->assertSame( 201, $response->get_status(), wp_json_encode( $response->get_data() ) );
		$id     = wc_get_coupon_id_by_code( 'SC-ABCDEFGH2345' );
		$coupon = new \WC_Coupon( $id );
		$this->assertSame( array( 'id' => $id, 'code' => 'sc-abcdefgh2345', 'created' => true, 'date_expires' => $expires ), $response->get_data() );
		$this->assertSame( array( 'percent', '10', 1, 1, array( 'ann@example.com' ), true, '30.00', '1' ), array( $coupon->get_discount_type(), $coupon->get_amount(), $coupon->get_usage_limit(), $coupon->get_usage_limit_per_user(), $coupon->get_email_restrictions(), $coupon->get_individual_use(), $coupon->get_minimum_amount(), $coupon->get_meta( '_sales_companion_coupon' ) ) );
		$this->assertSame( $expires, $coupon->get_date_expires()->getTimestamp() );
	}

	public function test_asked_again_for_the_same_code_it_answers_the_coupon_it_made(): void {
		$first = $this->ask( self::coupon() );
		$again = $this->ask( self::coupon() ); // A retry after a timeout: a new webhook-id, the same code.
		$this->assertSame( array( 201, 200 ), array( $first->get_status(), $again->get_status() ) );
		$this->assertSame( $first->get_data()['id'], $again->get_data()['id'] );
		$this->assertCount( 1, \WC_Doubles::$coupons );
	}

	public function test_a_code_the_store_holds_already_for_someone_else_is_refused(): void {
		$this->ask( self::coupon() );
		$other = $this->ask( self::coupon( array( 'email' => 'bob@example.com' ) ) );
		$this->assertSame( array( 409, 'code_taken' ), array( $other->get_status(), $other->get_data()['code'] ) );
		$owners = new \WC_Coupon();
		$owners->set_code( 'SUMMER-2026' );
		$owners->save();
		$taken = $this->ask( self::coupon( array( 'code' => 'summer-2026' ) ) );
		$this->assertSame( 409, $taken->get_status() );
		$this->assertCount( 2, \WC_Doubles::$coupons );
	}

	public function test_unsigned_wrongly_signed_stale_and_replayed_requests_are_refused(): void {
		$request = new \WP_REST_Request( 'POST', '/sales-companion/v1/coupons' );
		$request->set_body( wp_json_encode( self::coupon() ) );
		$this->assertSame( 401, rest_do_request( $request )->get_status() );
		$this->assertSame( 401, $this->ask( self::coupon(), 'another-key' )->get_status() );
		$stale = $this->ask( self::coupon(), self::KEY, time() - 301 );
		$this->assertSame( 401, $stale->get_status() );
		$this->assertStringContainsString( '5 minutes', $stale->get_data()['message'] );
		$once = 'msg_' . str_replace( '-', '', wp_generate_uuid4() );
		$this->assertSame( 201, $this->ask( self::coupon(), self::KEY, null, $once )->get_status() );
		$replay = $this->ask( self::coupon(), self::KEY, null, $once );
		$this->assertSame( 401, $replay->get_status() );
		$this->assertStringContainsString( 'replay', $replay->get_data()['message'] );
		$this->assertCount( 1, \WC_Doubles::$coupons );
	}

	public function test_bad_fields_get_422_with_field_messages_and_no_coupon(): void {
		$response = $this->ask( self::coupon( array( 'code' => 'x', 'amount' => '150', 'email' => 'nope', 'date_expires' => time() - 10 ) ) );
		$this->assertSame( 422, $response->get_status() );
		$this->assertSame( array( 'code', 'amount', 'email', 'date_expires' ), array_keys( $response->get_data()['fields'] ) );
		$fixed_product = $this->ask( self::coupon( array( 'discount_type' => 'fixed_product' ) ) );
		$this->assertSame( array( 'discount_type' ), array_keys( $fixed_product->get_data()['fields'] ) );
		$this->assertSame( array(), \WC_Doubles::$coupons );
	}

	public function test_without_woocommerce_the_store_answers_not_supported(): void {
		$settings = get_option( Settings::OPTION );
		update_option( Settings::OPTION, array_merge( $settings, array( 'sources' => array( 'edd', 'fluentcart' ) ) ) );
		$response = $this->ask( self::coupon() );
		$this->assertSame( array( 501, 'not_supported' ), array( $response->get_status(), $response->get_data()['code'] ) );
		$this->assertSame( array(), \WC_Doubles::$coupons );
	}
}
