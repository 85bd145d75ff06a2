<?php
/**
 * Test doubles for Easy Digital Downloads, a part of doubles/edd.php: it requires this file, and
 * its header says what the doubles follow.
 * Software Licensing's EDD_SL_License and Recurring's EDD_Subscription.
 *
 * @package SalesCompanion\Tests
 */

// phpcs:disable Generic.Files.OneObjectStructurePerFile, Squiz.Commenting

/**
 * As Software Licensing's EDD_SL_License (pronamic/edd-software-licensing v3.8.14
 * includes/classes/class-sl-license.php). The real set_status() and set_expiration() are
 * private (reached through update() and renew()); public here so tests can call them.
 */
class EDD_SL_License {
	public $ID;
	public $download_id;
	public $expiration;
	public $customer_id;
	public $user_id;
	public $is_lifetime = false;
	public $status = 'active';

	/**
	 * As create() (lines 313-368): the row is inserted "inactive" and its key, expiration and
	 * status written with update(), which fires no status hook; then
	 * edd_sl_store_license( $license_id, $download_id, $payment_id, $type ).
	 */
	public function create( $download_id, $payment_id, $customer_id, $expiration ) {
		$this->ID          = EDD_Doubles::next_id();
		$this->download_id = $download_id;
		$this->customer_id = $customer_id;
		$this->status      = 'inactive';
		$this->expiration  = $expiration;
		EDD_Doubles::$licenses[ $this->ID ] = $this;
		do_action( 'edd_sl_store_license', $this->ID, $download_id, $payment_id, 'default' );
		return array( $this->ID );
	}

	/**
	 * As renew() (lines 545-585): set_expiration( $new ), then
	 * edd_sl_post_license_renewal( $license_id, $new_expiration ).
	 */
	public function renew( $payment_id = 0, $new_expiration = null ) {
		$new_expiration = null === $new_expiration ? strtotime( '+1 year', (int) $this->expiration ) : $new_expiration;
		$updated        = $this->set_expiration( $new_expiration );
		do_action( 'edd_sl_post_license_renewal', $this->ID, $new_expiration );
		return $updated;
	}

	/** As set_status() (lines 1823-1857): edd_sl_post_set_status( $license_id, $status ) after the row is saved. */
	public function set_status( $status ) {
		if ( strtolower( $this->status ) === strtolower( $status ) ) {
			return;
		}
		$this->status = $status;
		do_action( 'edd_sl_post_set_status', $this->ID, $status );
		return true;
	}

	/**
	 * As set_expiration() (lines 1866-1895): the row is saved, set_status() fires while the
	 * object still has the old expiration, then $this->expiration changes and
	 * edd_sl_post_set_expiration( $license_id, $expiration ) fires.
	 */
	public function set_expiration( $expiration = false ) {
		if ( ! empty( $expiration ) && $expiration < time() ) {
			$this->set_status( 'expired' );
		} else {
			$this->set_status( 'active' );
		}
		$this->expiration  = $expiration;
		$this->is_lifetime = empty( $expiration );
		do_action( 'edd_sl_post_set_expiration', $this->ID, $expiration );
		return true;
	}
}

class EDD_Software_Licensing {
	public function get_license( $license_id, $by_key = false ) {
		return EDD_Doubles::$licenses[ (int) $license_id ] ?? false;
	}
}

function edd_software_licensing() {
	return new EDD_Software_Licensing();
}

class EDD_Subscription {
	public $id;
	public $product_id;
	public $customer_id;
	public $expiration;
	public $status = 'active';
	/** As EDD_Subscription::renew(): edd_subscription_post_renew( $id, $expiration, $this, $payment_id ). */
	public function renew( $payment_id = 0 ) {
		$this->expiration = gmdate( 'Y-m-d H:i:s', strtotime( '+1 year' ) );
		do_action( 'edd_subscription_post_renew', $this->id, $this->expiration, $this, $payment_id );
	}
	/** As EDD_Subscription::expire(): edd_subscription_expired( $id, $this ). */
	public function expire( $check_expiration = false ) {
		$this->status = 'expired';
		do_action( 'edd_subscription_expired', $this->id, $this );
	}
}
