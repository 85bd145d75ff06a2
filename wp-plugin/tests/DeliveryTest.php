<?php
/**
 * The outbox reaches the service in signed, ordered batches; failures wait.
 *
 * @package SalesCompanion\Tests
 */

namespace SalesCompanion\Tests;

use SalesCompanion\Delivery;
use SalesCompanion\Scheduler;

final class DeliveryTest extends TestCase {

	private function record_pages( $count ) {
		$events = Plugin()->get( 'events' );
		for ( $i = 0; $i < $count; $i++ ) {
			$events->record( 'page.viewed', 'custom', array( 'url' => 'http://shop.test/p/' . $i, 'referrer' => '' ) );
		}
	}

	private function urls_sent() {
		return array_map(
			static function ( $event ) {
				return $event['data']['url'];
			},
			FakeService::sent_events()
		);
	}

	public function test_events_go_in_signed_batches_of_at_most_100_oldest_first(): void {
		$this->record_pages( 250 );
		$this->assertSame( 250, $this->deliver() );
		$sizes = array_map(
			static function ( $request ) {
				return count( json_decode( $request['body'], true )['events'] );
			},
			FakeService::$requests
		);
		$this->assertSame( array( 100, 100, 50 ), $sizes );
		$this->assertSame( 'http://shop.test/p/0', $this->urls_sent()[0] );
		$this->assertSame( 'http://shop.test/p/249', $this->urls_sent()[249] );
		$this->assertSame( array(), $this->queued() );
		$this->assertSame( 'http://companion.test/v1/sites/site_1/events', FakeService::$requests[0]['url'] );
	}

	public function test_each_batch_carries_a_standard_webhooks_signature_over_id_timestamp_and_body(): void {
		$this->record_pages( 1 );
		$this->deliver();
		$request  = FakeService::$requests[0];
		$headers  = $request['headers'];
		$expected = base64_encode( hash_hmac( 'sha256', $headers['webhook-id'] . '.' . $headers['webhook-timestamp'] . '.' . $request['body'], self::KEY, true ) );
		$this->assertSame( 'v1,' . $expected, $headers['webhook-signature'] );
		$this->assertEqualsWithDelta( time(), (int) $headers['webhook-timestamp'], 5 );
		$this->assertStringNotContainsString( 'whsec_', $request['body'] );
	}

	public function test_an_event_the_service_rejects_is_marked_failed_with_its_reason_and_the_rest_flow_on(): void {
		$this->record_pages( 3 );
		$bad                   = $this->queued()[1]['id'];
		FakeService::$answers  = array( array( 202, array( 'accepted' => 2, 'duplicates' => 0, 'rejected' => array( array( 'index' => 1, 'id' => $bad, 'fields' => array( 'data.url' => array( 'Not a valid URL.' ) ) ) ) ) ) );
		$this->assertSame( 2, $this->deliver() );
		$failures = Plugin()->get( 'outbox' )->failures();
		$this->assertCount( 1, $failures );
		$this->assertSame( $bad, $failures[0]->event_id );
		$this->assertStringContainsString( 'Not a valid URL.', $failures[0]->last_error );
		$this->assertSame( array( 'pending' => 0, 'failed' => 1 ), Plugin()->get( 'outbox' )->counts() );
	}

	public function test_while_the_service_is_down_events_wait_with_growing_backoff_and_then_arrive_in_order(): void {
		$this->record_pages( 5 );
		FakeService::$answers = array( array( 503, array( 'error' => 'maintenance' ) ) );
		$this->assertSame( 0, $this->deliver() );
		$state = Plugin()->get( 'delivery' )->state();
		$this->assertEqualsWithDelta( time() + 60, $state['retry_at'], 2 );
		$this->assertStringContainsString( '503', $state['last_error'] );
		$this->assertNotFalse( wp_next_scheduled( Scheduler::DELIVER ) );

		$this->assertSame( 0, $this->deliver() );
		$this->assertCount( 1, FakeService::$requests, 'no attempt before the backoff ends' );

		Plugin()->get( 'delivery' )->run( true );
		$this->assertEqualsWithDelta( time() + 120, Plugin()->get( 'delivery' )->state()['retry_at'], 2 );

		$this->record_pages( 2 );
		FakeService::$requests = array();
		FakeService::$answers  = array( FakeService::accept_all() );
		$this->assertSame( 7, Plugin()->get( 'delivery' )->run( true ) );
		$this->assertSame( array( 'http://shop.test/p/0', 'http://shop.test/p/1', 'http://shop.test/p/2', 'http://shop.test/p/3', 'http://shop.test/p/4', 'http://shop.test/p/0', 'http://shop.test/p/1' ), $this->urls_sent() );
		$this->assertSame( 0, Plugin()->get( 'delivery' )->state()['failures'] );
	}

	public function test_during_a_backoff_one_run_stays_scheduled_for_its_end(): void {
		$this->record_pages( 1 );
		FakeService::$answers = array( array( 500, array( 'error' => 'boom' ) ) );
		$this->deliver();
		wp_clear_scheduled_hook( Scheduler::DELIVER );
		$this->assertSame( 0, $this->deliver() );
		$this->assertEqualsWithDelta( Plugin()->get( 'delivery' )->state()['retry_at'], wp_next_scheduled( Scheduler::DELIVER ), 2 );
	}

	public function test_text_in_any_script_survives_the_outbox_and_the_wire(): void {
		Plugin()->get( 'events' )->record( 'product.viewed', 'woocommerce', array( 'product_id' => '5', 'name' => 'Tasse à café ☕ «Ünïcode»' ) );
		$this->deliver();
		$this->assertSame( 'Tasse à café ☕ «Ünïcode»', FakeService::sent_events()[0]['data']['name'] );
	}

	public function test_backoff_doubles_up_to_an_hour(): void {
		$this->assertSame( array( 60, 120, 240, 480, 960, 1920, 3600, 3600 ), array_map( array( Delivery::class, 'backoff_seconds' ), range( 1, 8 ) ) );
	}

	public function test_a_timeout_is_a_transient_error_that_never_escapes(): void {
		$this->record_pages( 1 );
		FakeService::$answers = array( new \WP_Error( 'http_request_failed', 'cURL error 28: Operation timed out' ) );
		$this->assertSame( 0, $this->deliver() );
		$this->assertStringContainsString( 'timed out', Plugin()->get( 'delivery' )->state()['last_error'] );
		$this->assertCount( 1, $this->queued() );
	}

	public function test_a_refused_signature_keeps_the_events_and_says_what_to_check(): void {
		$this->record_pages( 2 );
		FakeService::$answers = array( array( 401, array( 'error' => 'bad signature' ) ) );
		$this->deliver();
		$this->assertCount( 2, $this->queued() );
		$this->assertStringContainsString( 'check the secret', Plugin()->get( 'delivery' )->state()['last_error'] );
	}

	public function test_a_batch_too_large_is_split_until_it_fits(): void {
		$this->record_pages( 4 );
		FakeService::$answers = array(
			static function ( $request ) {
				$n = count( json_decode( $request['body'], true )['events'] );
				return $n > 1 ? array( 413, array( 'error' => 'too large' ) ) : array( 202, array( 'accepted' => 1, 'duplicates' => 0, 'rejected' => array() ) );
			},
		);
		$this->assertSame( 4, $this->deliver() );
		$this->assertSame( array(), $this->queued() );
	}

	public function test_a_batch_with_nothing_valid_is_marked_failed(): void {
		$this->record_pages( 2 );
		FakeService::$answers = array( array( 422, array( 'error' => 'nothing valid', 'rejected' => array() ) ), FakeService::accept_all() );
		$this->deliver();
		$this->assertSame( array( 'pending' => 0, 'failed' => 2 ), Plugin()->get( 'outbox' )->counts() );
		$this->assertSame( 'nothing valid', Plugin()->get( 'outbox' )->failures()[0]->last_error );
	}

	public function test_retry_now_sends_failed_events_again(): void {
		$this->record_pages( 2 );
		FakeService::$answers = array( array( 422, array( 'error' => 'schema' ) ), FakeService::accept_all() );
		$this->deliver();
		$this->assertSame( 2, Plugin()->get( 'delivery' )->retry_now() );
		$this->assertSame( array( 'pending' => 0, 'failed' => 0 ), Plugin()->get( 'outbox' )->counts() );
	}

	public function test_two_runs_at_once_never_send_the_same_events(): void {
		$this->record_pages( 1 );
		add_option( 'sales_companion_delivery_lock', time() + 60, '', false );
		$this->assertSame( 0, $this->deliver() );
		$this->assertSame( array(), FakeService::$requests );
		update_option( 'sales_companion_delivery_lock', time() - 1 );
		$this->assertSame( 1, $this->deliver() );
	}

	public function test_nothing_is_sent_until_the_connection_is_configured(): void {
		update_option( 'sales_companion_settings', array() );
		$this->record_pages( 1 );
		$this->assertSame( 0, $this->deliver() );
		$this->assertSame( array(), FakeService::$requests );
		$this->assertCount( 1, $this->queued() );
	}

	public function test_the_scheduled_hook_runs_delivery(): void {
		$this->record_pages( 1 );
		do_action( Scheduler::DELIVER );
		$this->assertSame( array(), $this->queued() );
	}
}
