#!/usr/bin/env bash
# Builds dist/sales-companion-<version>.zip from wp-plugin/ (tests left out).
# The version is read from the plugin header, its only home.
set -euo pipefail

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VERSION="$(sed -n 's/^ \* Version: *//p' "$REPO/wp-plugin/sales-companion.php" | tr -d '[:space:]')"
OUT="$REPO/dist/sales-companion-${VERSION}.zip"
STAGE="$(mktemp -d)"
trap 'rm -rf "$STAGE"' EXIT

mkdir -p "$STAGE/sales-companion" "$REPO/dist"
(cd "$REPO/wp-plugin" && tar --exclude=./tests -cf - .) | (cd "$STAGE/sales-companion" && tar -xf -)
rm -f "$OUT"
(cd "$STAGE" && python3 -c '
import os, sys, zipfile
with zipfile.ZipFile(sys.argv[1], "w", zipfile.ZIP_DEFLATED) as z:
    for root, _, files in os.walk("sales-companion"):
        for name in sorted(files):
            z.write(os.path.join(root, name))
' "$OUT")
echo "$OUT"
