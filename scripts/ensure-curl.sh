#!/bin/sh
# Makes sure curl is installed, because the README's walk-through (cmd/motcua/readme_test.go runs it)
# uses it. Installs Debian's curl package when it is missing; does nothing, quietly, when present.
set -eu

if command -v curl >/dev/null 2>&1; then
	exit 0
fi

as_root=""
if [ "$(id -u)" -ne 0 ]; then
	as_root="sudo"
fi

echo "ensure-curl: installing curl from Debian's packages" >&2
$as_root env DEBIAN_FRONTEND=noninteractive apt-get update -qq
$as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends curl ca-certificates >/dev/null

if ! command -v curl >/dev/null 2>&1; then
	echo "ensure-curl: installed the curl package but found no curl on PATH" >&2
	exit 1
fi
