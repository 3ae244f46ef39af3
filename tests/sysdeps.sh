#!/bin/sh
# Make sure the programs the tests start are installed. They are never skipped:
# if they are missing and cannot be installed, this fails and says so.
set -eu
# Korean glyphs for the layout screenshots (tests/browser/test_layout.py):
# without a CJK font headless Chromium draws boxes. Nothing asserts on them,
# so this is installed when possible and never required.
if ! fc-list :lang=ko 2>/dev/null | grep -q . && [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null 2>&1; then
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq fonts-noto-cjk >/dev/null 2>&1 \
        || echo "note: fonts-noto-cjk not installed; Korean screenshots will show boxes" >&2
fi
missing=""
command -v chromium >/dev/null 2>&1 || [ -n "${CHROMIUM_PATH:-}" ] || missing="$missing chromium"
command -v turnserver >/dev/null 2>&1 || missing="$missing coturn"
command -v redis-server >/dev/null 2>&1 || missing="$missing redis-server"
[ -z "$missing" ] && exit 0
if [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "Installing:$missing"
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $missing >/dev/null \
        || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $missing >/dev/null; }
    exit 0
fi
echo "The tests need:$missing. Install them (Debian: apt-get install$missing)," >&2
echo "or set CHROMIUM_PATH to a Chromium binary." >&2
exit 1
