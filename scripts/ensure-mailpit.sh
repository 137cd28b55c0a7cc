#!/bin/sh
# Builds the SMTP server the e-mail tests start (Mailpit, pinned in tools/mailpit.mod, outside the
# module's own requirements) into the cache where integrations/email/mailpittest looks for it, unless
# it is there already or MOTCUA_MAILPIT names one. The first build takes a few minutes.
set -eu
cd "$(dirname "$0")/.."

version=v1.33.1 # as tools/mailpit.mod and mailpittest.Version
if [ -n "${MOTCUA_MAILPIT:-}" ]; then
	exit 0
fi
target="${XDG_CACHE_HOME:-$HOME/.cache}/motcua/mailpit-$version"
if [ -x "$target" ]; then
	exit 0
fi
mkdir -p "$(dirname "$target")"
go build -modfile=tools/mailpit.mod -o "$target" github.com/axllent/mailpit
echo "built $target"
