#!/usr/bin/env bash
# Starts a throwaway PostgreSQL and three motcua nodes on this machine, for trying a cluster
# (docs/operations.md): node-1 on 127.0.0.1:8081, node-2 on :8082, node-3 on :8083, sharing one
# database and one data directory. Ctrl-C stops the nodes (gracefully) and PostgreSQL, and removes
# everything. Try: kill -9 a node and watch `motcua projections status` move its consumers.
#
#   scripts/cluster.sh [--demo]      # --demo: node-1 seeds the demo's dossiers and prints tokens
#
# NODES=2 runs two nodes; MOTCUA_PG_BINDIR picks the PostgreSQL installation.
set -euo pipefail
cd "$(dirname "$0")/.."
sh scripts/ensure-postgres.sh
bindir=${MOTCUA_PG_BINDIR:-}
if [ -z "$bindir" ]; then
	for dir in /usr/lib/postgresql/15/bin $(ls -d /usr/lib/postgresql/*/bin | sort -V -r); do
		if [ -x "$dir/initdb" ]; then bindir=$dir; break; fi
	done
fi
root=$(mktemp -d /tmp/motcua-cluster-XXXXXX)
chmod 755 "$root"
as_owner=()
if [ "$(id -u)" = 0 ]; then # PostgreSQL refuses to run as root
	mkdir "$root/pg" && chown nobody "$root/pg" && as_owner=(runuser -u nobody --)
fi
pids=()
stop() {
	trap - EXIT INT TERM
	for pid in "${pids[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
	wait "${pids[@]}" 2>/dev/null || true
	"${as_owner[@]}" "$bindir/pg_ctl" -D "$root/pg/data" -m fast -w stop >/dev/null 2>&1 || true
	rm -rf "$root"
}
trap stop EXIT INT TERM

"${as_owner[@]}" "$bindir/initdb" -D "$root/pg/data" -U motcua -A trust --no-sync >/dev/null
"${as_owner[@]}" "$bindir/pg_ctl" -D "$root/pg/data" -l "$root/pg/server.log" -w \
	-o "-k $root/pg -c listen_addresses='' -c max_connections=200" start >/dev/null
dsn="postgres://motcua@/postgres?host=$root/pg"
go build -o "$root/motcua" ./cmd/motcua
echo "PostgreSQL: $dsn"
for i in $(seq 1 "${NODES:-3}"); do
	extra=()
	if [ "$i" = 1 ] && [ "${1:-}" = "--demo" ]; then extra=(--demo); fi
	"$root/motcua" serve --store "$dsn" --data "$root/data" --node "node-$i" --addr "127.0.0.1:808$i" "${extra[@]}" \
		>"$root/node-$i.out" 2>"$root/node-$i.log" &
	pids+=($!)
	echo "node-$i: http://127.0.0.1:808$i (log $root/node-$i.log)"
done
echo "status: $root/motcua projections status --store '$dsn'"
wait -n "${pids[@]}" || true
echo "a node stopped; stopping the others" >&2
