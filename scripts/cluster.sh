#!/usr/bin/env bash
# Starts a throwaway PostgreSQL, optionally NATS JetStream, and three motcua nodes on this machine,
# for trying a cluster (docs/operations.md): node-1 on 127.0.0.1:8081, node-2 on :8082, node-3 on
# :8083, sharing one database and one data directory. Ctrl-C (or SIGTERM) stops the nodes
# gracefully, then NATS and PostgreSQL, and removes everything. Try: kill -9 a node and watch
# `motcua projections status` move its consumers.
#
#   scripts/cluster.sh [--demo] [--nats]
#     --demo: node-1 seeds the demo's dossiers and prints tokens
#     --nats: a NATS JetStream server (nats-server, built once from the Go module motcua requires)
#             carries the log to the consumers (serve --bus)
#
# NODES=2 runs two nodes; PORT_BASE=9000 puts node-i on 9000+i (default 8080); NATS_PORT picks
# NATS's port (default 4222); MOTCUA_PG_BINDIR picks the PostgreSQL installation; MOTCUA_BIN runs
# that motcua instead of building ./cmd/motcua.
# cmd/motcua's TestClusterScriptStartsThreeReadyNodesAndStopsCleanly runs this script.
set -euo pipefail
cd "$(dirname "$0")/.."
demo=false nats=false
for arg in "$@"; do
	case "$arg" in
	--demo) demo=true ;;
	--nats) nats=true ;;
	*) echo "usage: scripts/cluster.sh [--demo] [--nats]" >&2; exit 2 ;;
	esac
done
port_base=${PORT_BASE:-8080}
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
pids=() nats_pid=""
stop() {
	trap - EXIT INT TERM
	for pid in "${pids[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
	for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
	if [ -n "$nats_pid" ]; then
		kill -TERM "$nats_pid" 2>/dev/null || true
		wait "$nats_pid" 2>/dev/null || true
	fi
	"${as_owner[@]}" "$bindir/pg_ctl" -D "$root/pg/data" -m fast -w stop >/dev/null 2>&1 || true
	rm -rf "$root"
	echo "cluster stopped" >&2
}
trap stop EXIT
trap 'exit 0' INT TERM # the EXIT trap stops everything

"${as_owner[@]}" "$bindir/initdb" -D "$root/pg/data" -U motcua -A trust --no-sync >/dev/null
"${as_owner[@]}" "$bindir/pg_ctl" -D "$root/pg/data" -l "$root/pg/server.log" -w \
	-o "-k $root/pg -c listen_addresses='' -c max_connections=200" start >/dev/null
dsn="postgres://motcua@/postgres?host=$root/pg"
echo "PostgreSQL: $dsn"
bus=()
if $nats; then
	# nats-server is built from the version go.mod requires (the tests embed the same one), once,
	# into the cache, as scripts/ensure-versitygw.sh builds versitygw.
	version=$(go list -m -f '{{.Version}}' github.com/nats-io/nats-server/v2)
	natsd="${XDG_CACHE_HOME:-$HOME/.cache}/motcua/nats-server-$version"
	if [ ! -x "$natsd" ]; then
		mkdir -p "$(dirname "$natsd")"
		go build -o "$natsd" github.com/nats-io/nats-server/v2
	fi
	nats_port=${NATS_PORT:-4222}
	"$natsd" --jetstream --store_dir "$root/nats" --addr 127.0.0.1 --port "$nats_port" >"$root/nats.log" 2>&1 &
	nats_pid=$!
	bus=(--bus "nats://127.0.0.1:$nats_port")
	echo "NATS JetStream: nats://127.0.0.1:$nats_port (log $root/nats.log)"
fi
motcua=${MOTCUA_BIN:-}
if [ -z "$motcua" ]; then
	motcua="$root/motcua"
	go build -o "$motcua" ./cmd/motcua
fi
for i in $(seq 1 "${NODES:-3}"); do
	extra=()
	if [ "$i" = 1 ] && $demo; then extra=(--demo); fi
	addr="127.0.0.1:$((port_base + i))"
	"$motcua" serve --store "$dsn" --data "$root/data" --node "node-$i" --addr "$addr" "${bus[@]}" "${extra[@]}" \
		>"$root/node-$i.out" 2>"$root/node-$i.log" &
	pids+=($!)
	echo "node-$i: http://$addr (log $root/node-$i.log)"
done
echo "status: $motcua projections status --store '$dsn'"
wait -n "${pids[@]}" || true
echo "a node stopped; stopping the others" >&2
