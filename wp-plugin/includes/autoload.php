<?php
/**
 * Class loader: SalesCompanion\Foo_Bar lives in includes/class-foo-bar.php.
 *
 * @package SalesCompanion
 */

if ( ! defined( 'ABSPATH' ) ) {
	exit;
}

spl_autoload_register(
	static function ( $class_name ) {
		$prefix = 'SalesCompanion\\';
		if ( 0 !== strpos( $class_name, $prefix ) ) {
			return;
		}
		$short = substr( $class_name, strlen( $prefix ) );
		$file  = __DIR__ . '/class-' . strtolower( str_replace( '_', '-', $short ) ) . '.php';
		if ( is_readable( $file ) ) {
			require_once $file;
		}
	}
);
