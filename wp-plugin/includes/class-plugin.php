<?php
/**
 * Wires the components to the hooks listed in Hooks::TABLE.
 *
 * @package SalesCompanion
 */

namespace SalesCompanion;

if ( ! defined( 'ABSPATH' ) ) {
	exit;
}

/**
 * The plugin: one instance holding one object per component.
 */
final class Plugin {

	/**
	 * Singleton.
	 *
	 * @var Plugin|null
	 */
	private static $instance = null;

	/**
	 * Components by key.
	 *
	 * @var array<string, object>
	 */
	private $components = array();

	/**
	 * Whether boot() ran.
	 *
	 * @var bool
	 */
	private $booted = false;

	/**
	 * The shared instance.
	 *
	 * @return Plugin
	 */
	public static function instance() {
		if ( null === self::$instance ) {
			self::$instance = new self();
		}
		return self::$instance;
	}

	/**
	 * Version from the plugin header (one place).
	 *
	 * @return string
	 */
	public static function version() {
		static $version = null;
		if ( null === $version ) {
			$data    = get_file_data( SALES_COMPANION_FILE, array( 'Version' => 'Version' ) );
			$version = (string) $data['Version'];
		}
		return $version;
	}

	/**
	 * Creates the components and registers the non-store hooks; store hooks wait
	 * for plugins_loaded, when the store plugins have defined their classes.
	 *
	 * @return void
	 */
	public function boot() {
		if ( $this->booted ) {
			return;
		}
		$this->booted     = true;
		$settings         = new Settings();
		$outbox           = new Outbox();
		$client           = new Client( $settings );
		$events           = new Events( $settings );
		$this->components = array(
			'plugin'      => $this,
			'settings'    => $settings,
			'outbox'      => $outbox,
			'client'      => $client,
			'events'      => $events,
			'scheduler'   => new Scheduler(),
			'wake'        => new Wake( $settings ),
			'delivery'    => new Delivery( $outbox, $client, $settings ),
			'woocommerce' => new Source_WooCommerce( $events ),
			'edd'         => new Source_EDD( $events ),
			'fluentcart'  => new Source_FluentCart( $events ),
			'tracker'     => new Tracker( $events, $settings ),
			'coupons'     => new Coupons( $settings ),
			'recovery'    => new Recovery( $settings ),
			'privacy'     => new Privacy( $client, $outbox ),
			'history'     => new History( $events ),
			'admin'       => new Admin( $settings, $client, $outbox ),
			'reports'     => new Reports( $settings, $client ),
		);
		$this->register( array_diff( array_keys( $this->components ), Hooks::SOURCES ) );
		add_action( 'plugins_loaded', array( $this, 'register_sources' ), 20, 0 );
	}

	/**
	 * A component by key.
	 *
	 * @param string $key Component key.
	 * @return object
	 */
	public function get( $key ) {
		return $this->components[ $key ];
	}

	/**
	 * Registers the hooks of the detected and enabled store sources.
	 *
	 * @return void
	 */
	public function register_sources() {
		$enabled = $this->get( 'settings' )->active_sources();
		$this->register( $enabled );
	}

	/**
	 * Registers every table row of the given components.
	 *
	 * @param string[] $keys Component keys.
	 * @return void
	 */
	private function register( array $keys ) {
		foreach ( Hooks::TABLE as $row ) {
			list( $hook, $component, $method, $priority, $args ) = $row;
			if ( in_array( $component, $keys, true ) ) {
				add_action( $hook, array( $this->components[ $component ], $method ), $priority, $args );
			}
		}
	}

	/**
	 * Runs on init, before the plugin's other init work: loads the translations
	 * of languages/ (translate.wordpress.org's, in wp-content/languages, win).
	 *
	 * @return void
	 */
	public function load_textdomain() {
		load_plugin_textdomain( 'sales-companion', false, dirname( plugin_basename( SALES_COMPANION_FILE ) ) . '/languages' );
	}

	/**
	 * Runs on init: makes sure the delivery safety net is scheduled.
	 *
	 * @return void
	 */
	public function on_init() {
		$this->get( 'scheduler' )->ensure_recurring();
	}

	/**
	 * Turns what the collectors noted during the request into outbox rows and,
	 * when anything was recorded, asks the scheduler for a delivery run after
	 * the response. No network call happens here.
	 *
	 * @return int Events recorded.
	 */
	public function flush() {
		if ( doing_action( 'shutdown' ) && function_exists( 'fastcgi_finish_request' ) && $this->has_pending() ) {
			// PHP-FPM: the shopper has the whole page before the outbox INSERT runs.
			fastcgi_finish_request();
		}
		foreach ( Hooks::SOURCES as $source ) {
			$this->get( $source )->flush();
		}
		// Everything the request recorded (orders, refunds, the cart, tracker events): one INSERT.
		Outbox::write_buffered();
		$recorded = $this->get( 'events' )->take_recorded_count();
		if ( $recorded > 0 ) {
			// Only when the outbox was empty (an autoloaded flag, no query): a loopback request
			// written and left wakes delivery, which then costs this request no query.
			$this->get( 'scheduler' )->after_recording( $this->get( 'wake' ) );
		}
		return $recorded;
	}

	/**
	 * Whether a collector noted anything in this request.
	 *
	 * @return bool
	 */
	private function has_pending() {
		if ( Outbox::has_buffered() ) {
			return true;
		}
		foreach ( Hooks::SOURCES as $source ) {
			if ( $this->get( $source )->has_pending() ) {
				return true;
			}
		}
		return false;
	}
}
