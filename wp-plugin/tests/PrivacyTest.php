<?php
/**
 * WordPress's privacy tools export and erase what the service holds.
 *
 * @package SalesCompanion\Tests
 */

namespace SalesCompanion\Tests;

final class PrivacyTest extends TestCase {

	private function exporter() {
		return apply_filters( 'wp_privacy_personal_data_exporters', array() )['sales-companion'];
	}

	private function eraser() {
		return apply_filters( 'wp_privacy_personal_data_erasers', array() )['sales-companion'];
	}

	public function test_an_export_request_includes_what_the_service_stores(): void {
		FakeService::$answers = array( array( 200, array( 'email' => 'ann@example.com', 'orders' => array( array( 'id' => '7', 'total' => '25.00' ) ) ) ) );
		$result               = call_user_func( $this->exporter()['callback'], 'ann@example.com', 1 );
		$request              = FakeService::$requests[0];
		$this->assertSame( array( 'POST', 'http://companion.test/v1/sites/site_1/privacy/export', '{"email":"ann@example.com"}' ), array( $request['method'], $request['url'], $request['body'] ) );
		$this->assertTrue( $result['done'] );
		$item = $result['data'][0];
		$this->assertSame( 'Sales Companion', $item['group_label'] );
		$this->assertSame( array( 'email', 'orders' ), array_column( $item['data'], 'name' ) );
		$this->assertStringContainsString( '"total": "25.00"', $item['data'][1]['value'] );
	}

	public function test_an_export_the_service_cannot_answer_is_an_error_in_words(): void {
		FakeService::$answers = array( new \WP_Error( 'http_request_failed', 'Connection refused' ) );
		$result               = call_user_func( $this->exporter()['callback'], 'ann@example.com', 1 );
		$this->assertInstanceOf( \WP_Error::class, $result );
		$this->assertStringContainsString( 'Connection refused', $result->get_error_message() );
	}

	public function test_an_erasure_reaches_the_service_and_drops_queued_events_of_that_person(): void {
		$events = Plugin()->get( 'events' );
		$events->record( 'customer.updated', 'custom', array(), array( 'email' => 'Ann@Example.com' ) );
		$events->record( 'customer.updated', 'custom', array(), array( 'email' => 'bob@example.com' ) );
		FakeService::$answers = array( array( 200, array( 'erased' => true ) ) );
		$result               = call_user_func( $this->eraser()['callback'], 'ann@example.com', 1 );
		$this->assertSame( array( 'items_removed' => true, 'items_retained' => false, 'messages' => array(), 'done' => true ), $result );
		$this->assertSame( 'http://companion.test/v1/sites/site_1/privacy/erase', FakeService::$requests[0]['url'] );
		$left = $this->queued();
		$this->assertCount( 1, $left );
		$this->assertSame( 'bob@example.com', $left[0]['contact']['email'] );
	}

	public function test_an_erasure_the_service_refuses_is_reported_as_retained(): void {
		FakeService::$answers = array( array( 503, array( 'error' => 'down' ) ) );
		$result               = call_user_func( $this->eraser()['callback'], 'ann@example.com', 1 );
		$this->assertFalse( $result['items_removed'] );
		$this->assertTrue( $result['items_retained'] );
		$this->assertStringContainsString( '503', $result['messages'][0] );
	}
}
