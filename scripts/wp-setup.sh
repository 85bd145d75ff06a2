#!/usr/bin/env bash
# Prepares a real WordPress (Debian's package) on MariaDB with the plugin linked in.
# Usage: bash scripts/wp-setup.sh CONFIG_NAME DB_NAME [SITE_URL]
#   CONFIG_NAME  -> /etc/wordpress/config-CONFIG_NAME.php (CLI: WORDPRESS_CONFIG=CONFIG_NAME;
#                   under `php -S`, name it after the host, e.g. 127.0.0.1)
#   DB_NAME      -> database created fresh on 127.0.0.1:3306 (root, no password)
# Runs as root. Installs packages only when missing.
set -euo pipefail

CONFIG_NAME="${1:?config name}"
DB_NAME="${2:?database name}"
SITE_URL="${3:-http://${CONFIG_NAME}}"
REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
PLUGINS=/var/lib/wordpress/wp-content/plugins

ensure_packages() {
	if command -v php >/dev/null && command -v phpunit >/dev/null && [ -f /usr/share/wordpress/wp-load.php ] \
		&& php -m | grep -qi '^mysqli$' && php -m | grep -qi '^mbstring$' && php -m | grep -qi '^xml$'; then
		return
	fi
	if [ -z "$(find /var/lib/apt/lists -maxdepth 1 -name '*Packages*' -print -quit 2>/dev/null)" ]; then
		apt-get update -qq
	fi
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
		wordpress php-cli php-mysql php-xml php-mbstring phpunit >/dev/null
}

mysql_ok() { mysql -h127.0.0.1 -P3306 -uroot -e 'SELECT 1' >/dev/null 2>&1; }

ensure_mariadb() {
	if mysql_ok; then return; fi
	if ! command -v mariadbd >/dev/null; then
		DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends mariadb-server >/dev/null
	fi
	mkdir -p /run/mysqld && chown mysql:mysql /run/mysqld 2>/dev/null || true
	start-stop-daemon --start --oknodo --background --exec /usr/sbin/mariadbd -- --user=mysql
	for _ in $(seq 1 60); do mysql_ok && return; sleep 0.5; done
	echo "MariaDB did not answer on 127.0.0.1:3306" >&2
	exit 1
}

write_config() {
	mkdir -p /etc/wordpress
	cat > "/etc/wordpress/config-${CONFIG_NAME}.php" <<PHP
<?php
// Written by scripts/wp-setup.sh for Sales Companion's plugin tests.
define( 'DB_NAME', '${DB_NAME}' );
define( 'DB_USER', 'root' );
define( 'DB_PASSWORD', '' );
define( 'DB_HOST', '127.0.0.1:3306' );
define( 'WP_HOME', '${SITE_URL}' );
define( 'WP_SITEURL', '${SITE_URL}' );
define( 'WP_DEBUG', true );
define( 'WP_DEBUG_DISPLAY', false );
define( 'WP_DEBUG_LOG', false );
define( 'AUTOMATIC_UPDATER_DISABLED', true );
define( 'WP_HTTP_BLOCK_EXTERNAL', true );
define( 'WP_ACCESSIBLE_HOSTS', '127.0.0.1,localhost' );
define( 'DISABLE_WP_CRON', false );
\$table_prefix = 'wp_';
PHP
}

ensure_packages
ensure_mariadb
mysql -h127.0.0.1 -P3306 -uroot -e "DROP DATABASE IF EXISTS \`${DB_NAME}\`; CREATE DATABASE \`${DB_NAME}\` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci;"
write_config
mkdir -p "$PLUGINS"
ln -sfn "$REPO/wp-plugin" "$PLUGINS/sales-companion"
WORDPRESS_CONFIG="$CONFIG_NAME" SC_HTTP_HOST="${SITE_URL#*://}" php -d "error_reporting=E_ALL & ~E_DEPRECATED" -d sendmail_path=/bin/true "$REPO/wp-plugin/tests/bin/install.php" 2> >(grep -v "PHP Deprecated" >&2)
