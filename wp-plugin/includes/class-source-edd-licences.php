<?php
/**
 * Easy Digital Downloads: Software Licensing licences and Recurring subscriptions, for Source_EDD.
 *
 * @package SalesCompanion
 */

namespace SalesCompanion;

if ( ! defined( 'ABSPATH' ) ) {
	exit;
}

/**
 * Notes licences changed in the request (Source_EDD::flush_extras() records them as they are then)
 * and records a Recurring subscription's renewal or expiry at once, both as subscription.updated.
 */
trait Source_EDD_Licences {

	/**
	 * Software Licensing licences changed in this request.
	 *
	 * @var array<int, true>
	 */
	private $licenses = array();

	/**
	 * Software Licensing: edd_sl_post_set_status (int $license_id, string $status).
	 *
	 * @param int    $license_id License.
	 * @param string $status     Status.
	 * @return void
	 */
	public function on_license_status( $license_id, $status = '' ) {
		$this->licenses[ (int) $license_id ] = true;
	}

	/**
	 * Software Licensing: edd_sl_store_license (int $license_id, int $download_id, int $payment_id,
	 * string $type). A new licence is written "inactive" without set_status().
	 *
	 * @param int $license_id License.
	 * @return void
	 */
	public function on_license_stored( $license_id ) {
		$this->licenses[ (int) $license_id ] = true;
	}

	/**
	 * Software Licensing: edd_sl_post_set_expiration (int $license_id, int $expiration) and
	 * edd_sl_post_license_renewal (int $license_id, int $new_expiration).
	 *
	 * @param int $license_id License.
	 * @return void
	 */
	public function on_license_expiration( $license_id ) {
		$this->licenses[ (int) $license_id ] = true;
	}

	/**
	 * Recurring: edd_subscription_post_renew (int $sub_id, string $expiration, EDD_Subscription $subscription).
	 *
	 * @param int    $sub_id       Subscription.
	 * @param string $expiration   New expiration.
	 * @param object $subscription Subscription.
	 * @return void
	 */
	public function on_subscription_renewed( $sub_id, $expiration, $subscription ) {
		$this->record_subscription( $sub_id, 'subscription', 'active', $subscription->product_id, $expiration, (int) $subscription->customer_id );
	}

	/**
	 * Recurring: edd_subscription_expired (int $sub_id, EDD_Subscription $subscription).
	 *
	 * @param int    $sub_id       Subscription.
	 * @param object $subscription Subscription.
	 * @return void
	 */
	public function on_subscription_expired( $sub_id, $subscription ) {
		$this->record_subscription( $sub_id, 'subscription', 'expired', $subscription->product_id, $subscription->expiration, (int) $subscription->customer_id );
	}

	/**
	 * Records one Software Licensing licence as it is now.
	 *
	 * @param int $license_id License.
	 * @return void
	 */
	private function record_license( $license_id ) {
		$license = function_exists( 'edd_software_licensing' ) ? edd_software_licensing()->get_license( $license_id ) : null;
		if ( ! $license ) {
			return;
		}
		// 0 or empty: a lifetime licence.
		$expires = empty( $license->expiration ) ? null : ( is_numeric( $license->expiration ) ? (int) $license->expiration : $license->expiration );
		$this->record_subscription( $license->ID, 'license', $license->status, $license->download_id, $expires, (int) $license->customer_id );
	}

	/**
	 * Records a licence or subscription.
	 *
	 * @param int    $id          Id.
	 * @param string $kind        subscription or license.
	 * @param string $status      Status.
	 * @param int    $product_id  Download.
	 * @param mixed  $expires     Expiry.
	 * @param int    $customer_id EDD customer.
	 * @return void
	 */
	private function record_subscription( $id, $kind, $status, $product_id, $expires, $customer_id ) {
		$customer = function_exists( 'edd_get_customer' ) ? edd_get_customer( $customer_id ) : null;
		$this->record(
			'subscription.updated',
			array(
				'id'          => (string) $id,
				'kind'        => $kind,
				'status'      => (string) $status,
				'product_id'  => (string) $product_id,
				'expires_at'  => Events::iso( $expires ),
				'renewal_url' => edd_get_checkout_uri(),
			),
			$customer ? array(
				'email'      => $customer->email,
				'wp_user_id' => (int) $customer->user_id ? (int) $customer->user_id : null,
			) : array()
		);
	}
}
