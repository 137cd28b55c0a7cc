#!/bin/sh
# Makes sure PostgreSQL server binaries (initdb, pg_ctl, postgres) are installed, because the tests of
# eventstore/postgres start their own throwaway cluster from them (see eventstore/postgres/pgtest). Installs
# Debian's postgresql package when they are missing; does nothing, quietly, when they are present.
set -eu

has_server() {
	for dir in ${MOTCUA_PG_BINDIR:-} /usr/lib/postgresql/*/bin; do
		if [ -x "$dir/initdb" ] && [ -x "$dir/pg_ctl" ] && [ -x "$dir/postgres" ]; then
			return 0
		fi
	done
	return 1
}

if has_server; then
	exit 0
fi

as_root=""
if [ "$(id -u)" -ne 0 ]; then
	as_root="sudo"
fi

echo "ensure-postgres: installing PostgreSQL server binaries from Debian's packages" >&2
# The tests run their own clusters: don't let the package create and start a default one on port 5432.
if [ ! -e /etc/postgresql-common/createcluster.conf ]; then
	$as_root mkdir -p /etc/postgresql-common
	echo "create_main_cluster = false" | $as_root tee /etc/postgresql-common/createcluster.conf >/dev/null
fi
$as_root env DEBIAN_FRONTEND=noninteractive apt-get update -qq
$as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends postgresql >/dev/null

if ! has_server; then
	echo "ensure-postgres: installed the postgresql package but found no initdb/pg_ctl/postgres under /usr/lib/postgresql/*/bin" >&2
	exit 1
fi
