#!/bin/sh
# Builds the S3-compatible server the blob store's S3 tests start (Versity's S3 gateway, pinned in
# tools/versitygw.mod, outside the module's own requirements) into the cache where
# blobstore/s3blob/versitygwtest looks for it, unless it is there already or MOTCUA_VERSITYGW names one.
# The first build takes about five minutes.
set -eu
cd "$(dirname "$0")/.."

version=v1.8.0 # as tools/versitygw.mod and versitygwtest.Version
if [ -n "${MOTCUA_VERSITYGW:-}" ]; then
	exit 0
fi
target="${XDG_CACHE_HOME:-$HOME/.cache}/motcua/versitygw-$version"
if [ -x "$target" ]; then
	exit 0
fi
mkdir -p "$(dirname "$target")"
go build -modfile=tools/versitygw.mod -o "$target" github.com/versity/versitygw/cmd/versitygw
echo "built $target"
