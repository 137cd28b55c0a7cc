#!/bin/sh
# Makes sure a headless Chromium is installed, because the browser tests (http/browser_test.go) drive
# the real pages with it. Installs Debian's chromium package when no browser is found; does nothing,
# quietly, when one is present. MOTCUA_CHROMIUM may name the browser binary to use.
set -eu

has_browser() {
	for bin in ${MOTCUA_CHROMIUM:-} chromium chromium-browser google-chrome; do
		if command -v "$bin" >/dev/null 2>&1; then
			return 0
		fi
	done
	return 1
}

if has_browser; then
	exit 0
fi

as_root=""
if [ "$(id -u)" -ne 0 ]; then
	as_root="sudo"
fi

echo "ensure-chromium: installing Chromium from Debian's packages" >&2
$as_root env DEBIAN_FRONTEND=noninteractive apt-get update -qq
# fonts-noto-core carries Vietnamese glyphs, so screenshots show diacritics rather than boxes.
$as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends chromium fonts-noto-core >/dev/null

if ! has_browser; then
	echo "ensure-chromium: installed the chromium package but found no chromium on PATH" >&2
	exit 1
fi
