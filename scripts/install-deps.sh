#!/usr/bin/env bash
# Install what Flywheel needs to build and test on Debian 12 (run as root, or with sudo).
# Build: a C compiler, make, libmicrohttpd, SQLite, libcurl + OpenSSL (webhooks), zlib, xxHash, zstd, libyaml.
# Tests: Node.js >= 20.20 (the SDK tests' posthog-node needs it), the npm packages
# pinned in tests/e2e/package-lock.json, and Chromium (the dashboard test drives it).
# The dashboard's own npm packages (web/, esbuild + uPlot) are only needed to change
# it (`make web`): the built files in web/dist are committed, so `make` needs none.
set -euo pipefail
cd "$(dirname "$0")/.."
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
PKGS="build-essential pkg-config libmicrohttpd-dev libsqlite3-dev libcurl4-openssl-dev libssl-dev zlib1g-dev libxxhash-dev libzstd-dev libjansson-dev libyaml-dev chromium"
missing=""
for p in $PKGS; do dpkg -s "$p" >/dev/null 2>&1 || missing="$missing $p"; done
if ! command -v node >/dev/null 2>&1; then missing="$missing nodejs npm"; fi
if [ -n "$missing" ]; then
	$SUDO apt-get update -qq
	DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq $missing
fi
if [ "${1:-}" != "--no-npm" ] && [ -f tests/e2e/package-lock.json ]; then
	(cd tests/e2e && npm ci --no-audit --no-fund --loglevel=error)
fi
echo "dependencies installed"
