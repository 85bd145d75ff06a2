<?php
/**
 * The plugin is translatable: its strings are in languages/sales-companion.pot,
 * kept in step with the code, and translations load from languages/.
 *
 * @package SalesCompanion\Tests
 */

namespace SalesCompanion\Tests;

final class TranslationTest extends TestCase {

	/**
	 * Runs scripts/make-pot.php with the given arguments.
	 *
	 * @param string[] $args Arguments.
	 * @return array{0: int, 1: string} Exit status and standard error.
	 */
	private function make_pot( array $args ) {
		$command = array_merge( array( PHP_BINARY, dirname( __DIR__, 2 ) . '/scripts/make-pot.php' ), $args );
		$process = proc_open( $command, array( 1 => array( 'pipe', 'w' ), 2 => array( 'pipe', 'w' ) ), $pipes );
		stream_get_contents( $pipes[1] );
		$errors = stream_get_contents( $pipes[2] );
		fclose( $pipes[1] );
		fclose( $pipes[2] );
		return array( proc_close( $process ), $errors );
	}

	public function test_the_plugin_header_names_the_text_domain_and_the_languages_folder(): void {
		$header = get_file_data( SALES_COMPANION_FILE, array( 'domain' => 'Text Domain', 'path' => 'Domain Path' ) );
		$this->assertSame( array( 'domain' => 'sales-companion', 'path' => '/languages' ), $header );
		$this->assertFileExists( dirname( SALES_COMPANION_FILE ) . '/languages/sales-companion.pot' );
	}

	public function test_translations_are_loaded_from_the_plugins_languages_folder(): void {
		$asked = array();
		$spy   = static function ( $mofile, $domain ) use ( &$asked ) {
			$asked[] = array( $domain, $mofile );
			return $mofile;
		};
		add_filter( 'load_textdomain_mofile', $spy, 10, 2 );
		Plugin()->load_textdomain();
		remove_filter( 'load_textdomain_mofile', $spy, 10 );
		$expected = WP_PLUGIN_DIR . '/sales-companion/languages/sales-companion-' . determine_locale() . '.mo';
		$this->assertContains( array( 'sales-companion', $expected ), $asked );
	}

	public function test_the_committed_pot_holds_exactly_the_strings_of_the_code(): void {
		list( $status, $errors ) = $this->make_pot( array( '--check' ) );
		$this->assertSame( 0, $status, $errors );
	}

	public function test_the_pot_script_reads_every_gettext_form_of_the_text_domain_only(): void {
		$root = sys_get_temp_dir() . '/sc-pot-' . wp_generate_password( 8, false );
		mkdir( $root . '/includes', 0777, true );
		mkdir( $root . '/tests' );
		file_put_contents( $root . '/demo.php', "<?php\n/**\n * Plugin Name: Demo\n * Version: 1.2.3\n * Text Domain: demo\n */\n" );
		file_put_contents( $root . '/tests/skip.php', "<?php\n__( 'From a test', 'demo' );\n" );
		file_put_contents(
			$root . '/includes/class-x.php',
			"<?php\n" .
			"esc_html_e( 'Plain \"quoted\" it\\'s', 'demo' );\n" .
			"/* translators: %d: count */\n" .
			"printf( _n( '%d item', '%d items', \$n, 'demo' ), \$n );\n" .
			"_x( 'Post', 'verb', 'demo' );\n" .
			"_nx( 'One', 'Many', 2, 'noun', 'demo' );\n" .
			"__( 'Other domain', 'other' );\n" .
			"__( 'Con' . 'cat', 'demo' );\n" .
			"\$o->__( 'A method', 'demo' );\n" .
			"esc_attr__( 'Plain \"quoted\" it\\'s', 'demo' );\n"
		);
		$pot = $root . '/demo.pot';
		$this->make_pot( array( $root, $pot ) );
		$text = (string) file_get_contents( $pot );
		$this->assertSame( 0, $this->make_pot( array( '--check', $root, $pot ) )[0] );
		file_put_contents( $root . '/includes/class-x.php', "__( 'New', 'demo' );\n", FILE_APPEND );
		$this->assertSame( 1, $this->make_pot( array( '--check', $root, $pot ) )[0], 'a new string makes the .pot stale' );
		foreach ( array( 'demo.php', 'demo.pot', 'tests/skip.php', 'includes/class-x.php', 'tests', 'includes', '' ) as $made ) {
			is_dir( "{$root}/{$made}" ) ? rmdir( "{$root}/{$made}" ) : unlink( "{$root}/{$made}" );
		}

		$this->assertStringContainsString( "#: includes/class-x.php\nmsgid \"Plain \\\"quoted\\\" it's\"\n", $text );
		$this->assertStringContainsString( "#. translators: %d: count\n#: includes/class-x.php\n#, php-format\nmsgid \"%d item\"\nmsgid_plural \"%d items\"\n", $text );
		$this->assertStringContainsString( "msgctxt \"verb\"\nmsgid \"Post\"\n", $text );
		$this->assertStringContainsString( "msgctxt \"noun\"\nmsgid \"One\"\nmsgid_plural \"Many\"\n", $text );
		$this->assertStringContainsString( "#. Plugin Name of the plugin\n#: demo.php\nmsgid \"Demo\"\n", $text );
		$this->assertStringContainsString( '"Project-Id-Version: Demo 1.2.3\n"', $text );
		foreach ( array( 'Other domain', 'Con', 'A method', 'From a test' ) as $left_out ) {
			$this->assertStringNotContainsString( 'msgid "' . $left_out . '"', $text );
		}
	}
}
