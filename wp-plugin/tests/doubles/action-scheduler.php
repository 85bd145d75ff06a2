<?php
/**
 * Double of Action Scheduler's public API (woocommerce/action-scheduler functions.php),
 * same names and argument lists; scheduled actions are kept in $GLOBALS['sc_test_actions'].
 *
 * @package SalesCompanion\Tests
 */

function as_enqueue_async_action( $hook, $args = array(), $group = '', $unique = false, $priority = 10 ) {
	return as_schedule_single_action( time(), $hook, $args, $group, $unique, $priority );
}

function as_schedule_single_action( $timestamp, $hook, $args = array(), $group = '', $unique = false, $priority = 10 ) {
	$GLOBALS['sc_test_actions'][] = array( 'timestamp' => $timestamp, 'hook' => $hook, 'args' => $args, 'group' => $group );
	return count( $GLOBALS['sc_test_actions'] );
}

function as_has_scheduled_action( $hook, $args = null, $group = '' ) {
	foreach ( (array) ( $GLOBALS['sc_test_actions'] ?? array() ) as $action ) {
		if ( $action['hook'] === $hook && ( '' === $group || $action['group'] === $group ) ) {
			return true;
		}
	}
	return false;
}

function as_unschedule_all_actions( $hook, $args = array(), $group = '' ) {
	$GLOBALS['sc_test_actions'] = array_values(
		array_filter(
			(array) ( $GLOBALS['sc_test_actions'] ?? array() ),
			function ( $action ) use ( $hook ) {
				return $action['hook'] !== $hook;
			}
		)
	);
}
