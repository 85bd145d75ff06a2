#!/usr/bin/env bash
# The plugin's tests against a real WordPress (Debian's package) on MariaDB.
# Run as root from the repository root: bash scripts/test-php.sh
# Fresh machine: installs the packages, starts MariaDB, creates the database and the
# WordPress config, installs WordPress, links and activates the plugin, lints, runs PHPUnit.
set -euo pipefail

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$REPO"

bash scripts/wp-setup.sh sctest sc_wp_test http://shop.test

echo "php -l over every plugin file"
lint_failed=0
while IFS= read -r -d '' file; do
	if ! out="$(php -l "$file" 2>&1)"; then
		echo "$out" >&2
		lint_failed=1
	fi
done < <(find wp-plugin -name '*.php' -print0)
if [ "$lint_failed" -ne 0 ]; then
	echo "php -l failed" >&2
	exit 1
fi

# WordPress Coding Standards, when a phpcs with WPCS 3.1 is at hand (not installable from the
# registries here; docs/plugin.md says how it was run): PHPCS=/path/to/phpcs bash scripts/test-php.sh
if [ -n "${PHPCS:-}" ]; then
	echo "phpcs with the WordPress standard"
	$PHPCS -s --standard=wp-plugin/tests/phpcs.xml
fi

# WordPress 6.1 itself raises PHP 8.2 deprecations while loading; they are not ours.
WORDPRESS_CONFIG=sctest phpunit -d display_errors=stderr -c wp-plugin/tests/phpunit.xml 2> >(grep -v "PHP Deprecated" >&2)
