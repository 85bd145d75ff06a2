<?php
/**
 * Writes the plugin's translation template from its gettext calls (no wp-cli here).
 *
 * Usage (from anywhere):
 *   php scripts/make-pot.php            rewrites wp-plugin/languages/sales-companion.pot
 *   php scripts/make-pot.php --check    exits 1 when the committed .pot is out of date
 *   php scripts/make-pot.php [--check] PLUGIN_DIR POT_FILE   (another plugin folder; tests)
 *
 * Reads every .php file under the plugin folder except tests/, with PHP's own tokenizer,
 * and keeps the calls whose text domain is the plugin header's "Text Domain". The output
 * has no creation date, and references name files without line numbers, so the same
 * strings always give the same file and moving code around does not make it stale.
 *
 * @package SalesCompanion
 */

// phpcs:disable WordPress -- a command-line tool, not plugin code.

const SC_POT_KEYWORDS = array(
	// function => argument roles, in order: s = msgid, p = plural, c = context, d = domain, _ = other.
	'__'             => 'sd',
	'_e'             => 'sd',
	'esc_html__'     => 'sd',
	'esc_html_e'     => 'sd',
	'esc_attr__'     => 'sd',
	'esc_attr_e'     => 'sd',
	'_x'             => 'scd',
	'_ex'            => 'scd',
	'esc_html_x'     => 'scd',
	'esc_attr_x'     => 'scd',
	'_n'             => 'sp_d',
	'_nx'            => 'sp_cd',
	'_n_noop'        => 'spd',
	'_nx_noop'       => 'spcd',
);

const SC_POT_HEADERS = array(
	'Plugin Name' => 'Plugin Name of the plugin',
	'Description' => 'Description of the plugin',
	'Author'      => 'Author of the plugin',
);

/**
 * Runs the command; returns the exit status.
 *
 * @param string[] $args Command-line arguments after the script name.
 * @return int
 */
function sc_pot_main( array $args ) {
	$check = in_array( '--check', $args, true );
	$paths = array_values( array_diff( $args, array( '--check' ) ) );
	$root  = isset( $paths[0] ) ? rtrim( $paths[0], '/' ) : dirname( __DIR__ ) . '/wp-plugin';
	$pot   = isset( $paths[1] ) ? $paths[1] : $root . '/languages/sales-companion.pot';
	$text  = sc_pot_build( $root );
	if ( ! $check ) {
		file_put_contents( $pot, $text );
		fwrite( STDOUT, "wrote {$pot}\n" );
		return 0;
	}
	if ( is_readable( $pot ) && file_get_contents( $pot ) === $text ) {
		return 0;
	}
	fwrite( STDERR, "{$pot} is out of date with the plugin's strings: run php scripts/make-pot.php\n" );
	return 1;
}

/**
 * The .pot text of a plugin folder.
 *
 * @param string $root Plugin folder.
 * @return string
 */
function sc_pot_build( $root ) {
	$header  = sc_pot_plugin_header( $root );
	$domain  = $header['Text Domain'];
	$entries = sc_pot_header_entries( $header );
	foreach ( sc_pot_files( $root ) as $file ) {
		$relative = substr( $file, strlen( $root ) + 1 );
		foreach ( sc_pot_calls( file_get_contents( $file ) ) as $call ) {
			if ( $call['domain'] !== $domain ) {
				continue;
			}
			if ( null === $call['msgid'] ) {
				fwrite( STDERR, "{$relative}:{$call['line']}: the message is not one string literal; left out\n" );
				continue;
			}
			$entries = sc_pot_add( $entries, $call, $relative );
		}
	}
	return sc_pot_render( $header, $entries );
}

/**
 * The header fields of the plugin's main file (the .php file in the folder with "Plugin Name:").
 *
 * @param string $root Plugin folder.
 * @return array<string, string>
 */
function sc_pot_plugin_header( $root ) {
	foreach ( glob( $root . '/*.php' ) as $file ) {
		$head = file_get_contents( $file, false, null, 0, 8192 );
		if ( preg_match( '/^[ \t\/*#@]*Plugin Name:(.*)$/mi', $head ) ) {
			$fields = array( 'File' => basename( $file ) );
			foreach ( array( 'Plugin Name', 'Description', 'Author', 'Version', 'License', 'Text Domain' ) as $name ) {
				$fields[ $name ] = preg_match( '/^[ \t\/*#@]*' . preg_quote( $name, '/' ) . ':(.*)$/mi', $head, $m ) ? trim( $m[1] ) : '';
			}
			return $fields;
		}
	}
	throw new RuntimeException( "no plugin header in {$root}" );
}

/**
 * Entries for the translatable header fields, as wp-cli's make-pot writes them.
 *
 * @param array<string, string> $header Header fields.
 * @return array<string, array>
 */
function sc_pot_header_entries( array $header ) {
	$entries = array();
	foreach ( SC_POT_HEADERS as $name => $comment ) {
		if ( '' !== $header[ $name ] ) {
			$call    = array(
				'msgid'   => $header[ $name ],
				'plural'  => null,
				'context' => null,
				'comment' => $comment,
			);
			$entries = sc_pot_add( $entries, $call, $header['File'] );
		}
	}
	return $entries;
}

/**
 * The plugin's PHP files, sorted, without tests/.
 *
 * @param string $root Plugin folder.
 * @return string[]
 */
function sc_pot_files( $root ) {
	$files    = array();
	$iterator = new RecursiveIteratorIterator( new RecursiveDirectoryIterator( $root, FilesystemIterator::SKIP_DOTS ) );
	foreach ( $iterator as $file ) {
		$relative = substr( $file->getPathname(), strlen( $root ) + 1 );
		if ( 'php' === $file->getExtension() && 0 !== strpos( $relative, 'tests/' ) ) {
			$files[] = $file->getPathname();
		}
	}
	sort( $files, SORT_STRING );
	return $files;
}

/**
 * The gettext calls of one PHP source whose string arguments are literals.
 *
 * @param string $code PHP source.
 * @return array<int, array{msgid: string, plural: ?string, context: ?string, domain: ?string, comment: string, line: int}>
 */
function sc_pot_calls( $code ) {
	$tokens  = array_values( array_filter( token_get_all( $code ), 'sc_pot_is_code' ) );
	$calls   = array();
	$comment = array(
		'text' => '',
		'line' => 0,
	);
	foreach ( $tokens as $i => $token ) {
		if ( is_array( $token ) && in_array( $token[0], array( T_COMMENT, T_DOC_COMMENT ), true ) ) {
			$comment = sc_pot_translators_comment( $token, $comment );
			continue;
		}
		if ( ! sc_pot_is_keyword_call( $tokens, $i ) ) {
			continue;
		}
		$call            = sc_pot_call( $token, sc_pot_arguments( $tokens, $i + 2 ) );
		$call['comment'] = $comment['line'] >= $token[2] - 1 ? $comment['text'] : '';
		$calls[]         = $call;
	}
	return $calls;
}

/**
 * Whether a token matters here (whitespace does not).
 *
 * @param mixed $token Token.
 * @return bool
 */
function sc_pot_is_code( $token ) {
	return ! is_array( $token ) || T_WHITESPACE !== $token[0];
}

/**
 * The last "translators:" comment seen, with the line it ends on.
 *
 * @param array $token    Comment token.
 * @param array $previous The one before.
 * @return array{text: string, line: int}
 */
function sc_pot_translators_comment( array $token, array $previous ) {
	$text = trim( preg_replace( '/^\s*(\/\*+|\/\/|\*)\s?|\s*\*+\/\s*$/m', '', $token[1] ) );
	if ( 0 !== stripos( $text, 'translators:' ) ) {
		return $previous;
	}
	return array(
		'text' => preg_replace( '/\s+/', ' ', $text ),
		'line' => $token[2] + substr_count( $token[1], "\n" ),
	);
}

/**
 * Whether tokens[i] names a gettext function and a call follows (not a method or a definition).
 *
 * @param array $tokens Tokens.
 * @param int   $i      Index.
 * @return bool
 */
function sc_pot_is_keyword_call( array $tokens, $i ) {
	$token = $tokens[ $i ];
	if ( ! is_array( $token ) || T_STRING !== $token[0] || ! array_key_exists( $token[1], SC_POT_KEYWORDS ) ) {
		return false;
	}
	$before = $i > 0 ? $tokens[ $i - 1 ] : null;
	if ( is_array( $before ) && in_array( $before[0], array( T_OBJECT_OPERATOR, T_DOUBLE_COLON, T_FUNCTION ), true ) ) {
		return false;
	}
	return isset( $tokens[ $i + 1 ] ) && '(' === $tokens[ $i + 1 ];
}

/**
 * The arguments of a call, each the decoded string literal or null when not one.
 *
 * @param array $tokens Tokens.
 * @param int   $start  Index after the opening parenthesis.
 * @return array<int, ?string>
 */
function sc_pot_arguments( array $tokens, $start ) {
	$arguments = array();
	$current   = array();
	$depth     = 0;
	for ( $i = $start; isset( $tokens[ $i ] ); $i++ ) {
		$token = $tokens[ $i ];
		if ( is_array( $token ) && in_array( $token[0], array( T_COMMENT, T_DOC_COMMENT ), true ) ) {
			continue;
		}
		if ( 0 === $depth && ( ')' === $token || ',' === $token ) ) {
			$arguments[] = sc_pot_literal( $current );
			$current     = array();
			if ( ')' === $token ) {
				break;
			}
			continue;
		}
		$depth    += in_array( $token, array( '(', '[', '{' ), true ) ? 1 : ( in_array( $token, array( ')', ']', '}' ), true ) ? -1 : 0 );
		$current[] = $token;
	}
	return $arguments;
}

/**
 * The string of an argument that is a single literal, else null.
 *
 * @param array $tokens The argument's tokens.
 * @return string|null
 */
function sc_pot_literal( array $tokens ) {
	if ( 1 !== count( $tokens ) || ! is_array( $tokens[0] ) || T_CONSTANT_ENCAPSED_STRING !== $tokens[0][0] ) {
		return null;
	}
	$raw  = $tokens[0][1];
	$body = substr( $raw, 1, -1 );
	if ( "'" === $raw[0] ) {
		return strtr( $body, array( '\\\\' => '\\', "\\'" => "'" ) );
	}
	return stripcslashes( str_replace( '\\$', '$', $body ) );
}

/**
 * The parts of one call; msgid is null when the message is not a literal.
 *
 * @param array $token     The function name token.
 * @param array $arguments Decoded arguments.
 * @return array
 */
function sc_pot_call( array $token, array $arguments ) {
	$roles = SC_POT_KEYWORDS[ $token[1] ];
	$call  = array(
		'msgid'   => null,
		'plural'  => null,
		'context' => null,
		'domain'  => null,
		'line'    => $token[2],
	);
	$names = array(
		's' => 'msgid',
		'p' => 'plural',
		'c' => 'context',
		'd' => 'domain',
	);
	foreach ( str_split( $roles ) as $position => $role ) {
		if ( isset( $names[ $role ] ) ) {
			$call[ $names[ $role ] ] = isset( $arguments[ $position ] ) ? $arguments[ $position ] : null;
		}
	}
	if ( '' === $call['msgid'] ) {
		$call['msgid'] = null;
	}
	return $call;
}

/**
 * Adds a call to the entries: one entry per context and message, references and comments merged.
 *
 * @param array  $entries   Entries so far, by key.
 * @param array  $call      The call.
 * @param string $reference File, relative to the plugin folder.
 * @return array
 */
function sc_pot_add( array $entries, array $call, $reference ) {
	$key = $call['context'] . "\x04" . $call['msgid'];
	if ( ! isset( $entries[ $key ] ) ) {
		$entries[ $key ] = array(
			'msgid'      => $call['msgid'],
			'plural'     => $call['plural'],
			'context'    => $call['context'],
			'comments'   => array(),
			'references' => array(),
		);
	}
	if ( ! in_array( $reference, $entries[ $key ]['references'], true ) ) {
		$entries[ $key ]['references'][] = $reference;
	}
	if ( '' !== $call['comment'] && ! in_array( $call['comment'], $entries[ $key ]['comments'], true ) ) {
		$entries[ $key ]['comments'][] = $call['comment'];
	}
	return $entries;
}

/**
 * The .pot file.
 *
 * @param array<string, string> $header  Plugin header fields.
 * @param array                 $entries Entries in the order first seen.
 * @return string
 */
function sc_pot_render( array $header, array $entries ) {
	$out = sc_pot_preamble( $header );
	foreach ( $entries as $entry ) {
		$out = array_merge( $out, array( '' ), sc_pot_entry( $entry ) );
	}
	return implode( "\n", $out ) . "\n";
}

/**
 * The comments and the header entry of the .pot file (no dates: the same code gives the same file).
 *
 * @param array<string, string> $header Plugin header fields.
 * @return string[]
 */
function sc_pot_preamble( array $header ) {
	$out = array();
	if ( '' !== $header['Author'] ) {
		$out[] = '# Copyright (C) ' . $header['Author'];
	}
	if ( '' !== $header['License'] ) {
		$out[] = '# This file is distributed under the ' . $header['License'] . '.';
	}
	$out[]  = '# Generated by scripts/make-pot.php; do not edit by hand.';
	$out[]  = 'msgid ""';
	$out[]  = 'msgstr ""';
	$fields = array(
		'Project-Id-Version: ' . trim( $header['Plugin Name'] . ' ' . $header['Version'] ),
		'Report-Msgid-Bugs-To: ',
		'MIME-Version: 1.0',
		'Content-Type: text/plain; charset=UTF-8',
		'Content-Transfer-Encoding: 8bit',
		'Language-Team: ',
		'Plural-Forms: nplurals=INTEGER; plural=EXPRESSION;',
		'X-Domain: ' . $header['Text Domain'],
	);
	foreach ( $fields as $field ) {
		$out[] = sc_pot_quote( $field . "\n" );
	}
	return $out;
}

/**
 * The lines of one entry.
 *
 * @param array $entry Entry.
 * @return string[]
 */
function sc_pot_entry( array $entry ) {
	$lines = array();
	foreach ( $entry['comments'] as $comment ) {
		$lines[] = '#. ' . $comment;
	}
	$lines[] = '#: ' . implode( ' ', $entry['references'] );
	if ( preg_match( '/%(\d+\$)?[-+ 0\'#]*\d*(\.\d+)?[bcdeEfFgGosuxX]/', $entry['msgid'] . $entry['plural'] ) ) {
		$lines[] = '#, php-format';
	}
	if ( null !== $entry['context'] ) {
		$lines[] = 'msgctxt ' . sc_pot_quote( $entry['context'] );
	}
	$lines[] = 'msgid ' . sc_pot_quote( $entry['msgid'] );
	if ( null === $entry['plural'] ) {
		$lines[] = 'msgstr ""';
		return $lines;
	}
	$lines[] = 'msgid_plural ' . sc_pot_quote( $entry['plural'] );
	$lines[] = 'msgstr[0] ""';
	$lines[] = 'msgstr[1] ""';
	return $lines;
}

/**
 * A PO string literal.
 *
 * @param string $text Text.
 * @return string
 */
function sc_pot_quote( $text ) {
	return '"' . strtr(
		$text,
		array(
			'\\' => '\\\\',
			'"'  => '\\"',
			"\n" => '\\n',
			"\t" => '\\t',
			"\r" => '\\r',
		)
	) . '"';
}

if ( PHP_SAPI === 'cli' && isset( $argv[0] ) && realpath( $argv[0] ) === __FILE__ ) {
	exit( sc_pot_main( array_slice( $argv, 1 ) ) );
}
