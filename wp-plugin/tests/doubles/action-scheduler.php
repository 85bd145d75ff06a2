<?php
/**
 * Double of Action Scheduler's public API (woocommerce/action-scheduler functions.php, trunk 9c12a73 after 3.8.2;
 * line numbers below are of that file),
 * same names and argument lists; scheduled actions are kept in $GLOBALS['sc_test_actions'],
 * each with the status the real store gives it (pending, then in-progress while it runs,
 * then complete).
 *
 * @package SalesCompanion\Tests
 */

/**
 * The status names (action-scheduler classes/abstracts/ActionScheduler_Store.php lines 9-13).
 */
abstract class ActionScheduler_Store {
	const STATUS_COMPLETE = 'complete';
	const STATUS_PENDING  = 'pending';
	const STATUS_RUNNING  = 'in-progress';
	const STATUS_FAILED   = 'failed';
	const STATUS_CANCELED = 'canceled';
}

// functions.php line 19.
function as_enqueue_async_action( $hook, $args = array(), $group = '', $unique = false, $priority = 10 ) {
	return as_schedule_single_action( time(), $hook, $args, $group, $unique, $priority );
}

// functions.php line 69. `$unique` (documented at line 64) refuses a
// second action while a pending OR in-progress one has the same hook and group.
function as_schedule_single_action( $timestamp, $hook, $args = array(), $group = '', $unique = false, $priority = 10 ) {
	if ( $unique && as_has_scheduled_action( $hook, null, $group ) ) {
		return 0;
	}
	$GLOBALS['sc_test_actions'][] = array(
		'timestamp' => $timestamp,
		'hook'      => $hook,
		'args'      => $args,
		'group'     => $group,
		'status'    => ActionScheduler_Store::STATUS_PENDING,
	);
	return count( $GLOBALS['sc_test_actions'] );
}

/**
 * Whether an action matches a query of as_get_scheduled_actions() (hook, group, status).
 */
function sc_test_action_matches( array $action, $hook, $group, $statuses ) {
	return ( '' === $hook || $action['hook'] === $hook )
		&& ( '' === $group || $action['group'] === $group )
		&& ( array() === $statuses || in_array( $action['status'] ?? ActionScheduler_Store::STATUS_PENDING, $statuses, true ) );
}

// functions.php lines 396-414: queries STATUS_RUNNING and STATUS_PENDING, so the action that is
// running right now (and calls this) counts as scheduled.
function as_has_scheduled_action( $hook, $args = null, $group = '' ) {
	foreach ( (array) ( $GLOBALS['sc_test_actions'] ?? array() ) as $action ) {
		if ( sc_test_action_matches( $action, $hook, $group, array( ActionScheduler_Store::STATUS_RUNNING, ActionScheduler_Store::STATUS_PENDING ) ) ) {
			return true;
		}
	}
	return false;
}

// functions.php lines 343-381: true for an in-progress action, else the timestamp of the
// earliest pending one, else false.
function as_next_scheduled_action( $hook, $args = null, $group = '' ) {
	$next = false;
	foreach ( (array) ( $GLOBALS['sc_test_actions'] ?? array() ) as $action ) {
		if ( sc_test_action_matches( $action, $hook, $group, array( ActionScheduler_Store::STATUS_RUNNING ) ) ) {
			return true;
		}
		if ( sc_test_action_matches( $action, $hook, $group, array( ActionScheduler_Store::STATUS_PENDING ) ) && ( false === $next || $action['timestamp'] < $next ) ) {
			$next = (int) $action['timestamp'];
		}
	}
	return $next;
}

// functions.php line 439: hook, group, status (one or an array), per_page (default 5); 'ids'
// returns the action ids, OBJECT the actions keyed by id.
function as_get_scheduled_actions( $args = array(), $return_format = OBJECT ) {
	// The real one is a query of the actions table (ActionScheduler_DBStore::query_actions): counted.
	$GLOBALS['sc_test_lookups'] = ( $GLOBALS['sc_test_lookups'] ?? 0 ) + 1;
	$statuses = isset( $args['status'] ) && '' !== $args['status'] ? (array) $args['status'] : array();
	$found    = array();
	foreach ( (array) ( $GLOBALS['sc_test_actions'] ?? array() ) as $index => $action ) {
		if ( sc_test_action_matches( $action, $args['hook'] ?? '', $args['group'] ?? '', $statuses ) ) {
			$found[ $index + 1 ] = $action;
		}
	}
	$per_page = isset( $args['per_page'] ) ? (int) $args['per_page'] : 5;
	if ( $per_page >= 0 ) {
		$found = array_slice( $found, 0, $per_page, true );
	}
	return 'ids' === $return_format || 'int' === $return_format ? array_keys( $found ) : $found;
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

/**
 * Runs the pending actions that are due, as the queue runner does
 * (classes/abstracts/ActionScheduler_Abstract_QueueRunner.php process_action(), lines 101-104:
 * log_execution() marks the action in-progress, then execute() fires its hook, then
 * mark_complete()). Actions scheduled while one runs wait for the next call.
 *
 * @return int Actions run.
 */
function sc_test_run_due_actions() {
	$due = array();
	foreach ( (array) ( $GLOBALS['sc_test_actions'] ?? array() ) as $index => $action ) {
		if ( ActionScheduler_Store::STATUS_PENDING === ( $action['status'] ?? ActionScheduler_Store::STATUS_PENDING ) && $action['timestamp'] <= time() ) {
			$due[] = $index;
		}
	}
	foreach ( $due as $index ) {
		$GLOBALS['sc_test_actions'][ $index ]['status'] = ActionScheduler_Store::STATUS_RUNNING;
		// classes/actions/ActionScheduler_Action.php execute() (3.7.4, WooCommerce 8.9.1): an action whose
		// hook has no callback in the running request throws, and the runner marks it failed. On a real
		// shop a queue runner that started before the plugin was activated did that to a history batch.
		if ( ! has_action( $GLOBALS['sc_test_actions'][ $index ]['hook'] ) ) {
			$GLOBALS['sc_test_actions'][ $index ]['status'] = ActionScheduler_Store::STATUS_FAILED;
			continue;
		}
		do_action_ref_array( $GLOBALS['sc_test_actions'][ $index ]['hook'], array_values( (array) $GLOBALS['sc_test_actions'][ $index ]['args'] ) );
		$GLOBALS['sc_test_actions'][ $index ]['status'] = ActionScheduler_Store::STATUS_COMPLETE;
	}
	return count( $due );
}
