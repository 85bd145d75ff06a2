<?php
/**
 * Double of the WP Consent API plugin's wp_has_consent( $category ) (rlankhorst/wp-consent-level-api,
 * api.php). Categories allowed are listed in $GLOBALS['sc_test_consent'].
 *
 * @package SalesCompanion\Tests
 */

function wp_has_consent( $category ) {
	return in_array( $category, (array) ( $GLOBALS['sc_test_consent'] ?? array() ), true );
}
