#!/usr/bin/env bash
# Install everything the tests need on a fresh machine: Debian packages, the Python venv, npm tools.
set -euo pipefail
cd "$(dirname "$0")/.."

APT_PACKAGES=(wordpress php-cli php-mysql php-xml php-mbstring phpunit chromium)
missing=()
for pkg in "${APT_PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "setup: installing Debian packages: ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

make --no-print-directory venv

if [ ! -x node_modules/.bin/prism ] || [ ! -d node_modules/playwright-core ] || [ ! -d node_modules/chart.js ]; then
  echo "setup: installing npm tools (Prism, playwright-core, chart.js)"
  npm install --no-audit --no-fund --loglevel=error
fi
echo "setup: done"
