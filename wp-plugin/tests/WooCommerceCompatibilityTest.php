<?php
/**
 * WooCommerce hears which of its features the plugin supports, whatever sources
 * the owner switched on.
 *
 * @package SalesCompanion\Tests
 */

namespace SalesCompanion\Tests;

use Automattic\WooCommerce\Utilities\FeaturesUtil;
use SalesCompanion\Settings;

final class WooCommerceCompatibilityTest extends TestCase {

	public function test_hpos_and_checkout_blocks_compatibility_is_declared_in_before_woocommerce_init(): void {
		FeaturesUtil::$declared = array();
		do_action( 'before_woocommerce_init', '' );
		$this->assertTrue( FeaturesUtil::$declared['custom_order_tables'][ SALES_COMPANION_FILE ] );
		$this->assertTrue( FeaturesUtil::$declared['cart_checkout_blocks'][ SALES_COMPANION_FILE ] );
	}

	public function test_compatibility_is_still_declared_when_the_woocommerce_source_is_switched_off(): void {
		$settings            = get_option( Settings::OPTION );
		$settings['sources'] = array( 'edd' );
		update_option( Settings::OPTION, $settings );
		$declared = $this->declared_in_a_fresh_request();
		$this->assertSame( array( SALES_COMPANION_FILE => true ), $declared['custom_order_tables'] ?? null );
		$this->assertSame( array( SALES_COMPANION_FILE => true ), $declared['cart_checkout_blocks'] ?? null );
	}

	/**
	 * What the plugin declared in a new PHP process that loads WordPress with the
	 * saved settings (store hooks are wired at plugins_loaded, so only a fresh
	 * load shows what a switched-off source leaves out).
	 *
	 * @return array
	 */
	private function declared_in_a_fresh_request() {
		$errors  = tempnam( sys_get_temp_dir(), 'sc-declared' );
		$command = array( PHP_BINARY, '-d', 'display_errors=stderr', __DIR__ . '/bin/declared-features.php' );
		$process = proc_open( $command, array( 1 => array( 'pipe', 'w' ), 2 => array( 'file', $errors, 'w' ) ), $pipes );
		$output  = stream_get_contents( $pipes[1] );
		fclose( $pipes[1] );
		$status = proc_close( $process );
		$stderr = (string) file_get_contents( $errors );
		unlink( $errors );
		$this->assertSame( 0, $status, $stderr );
		$lines = explode( "\n", trim( $output ) );
		return (array) json_decode( end( $lines ), true );
	}
}
