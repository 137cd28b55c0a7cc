#!/bin/sh
# Runs every test of motcua, as CI does. Installs what the tests need when it is missing:
# PostgreSQL's server binaries, from Debian's packages (the tests start their own throwaway clusters).
set -eu
cd "$(dirname "$0")/.."
./scripts/ensure-postgres.sh
./scripts/ensure-chromium.sh
go vet ./...
go test -race -count=1 -timeout 30m ./...

# Each fuzz target (request and event decoders, codes, crypto-shredding) runs 5,000 inputs beyond its
# seed corpus (a few seconds); FUZZTIME=1m scripts/test.sh digs deeper. A count, not a duration: with
# a duration Go 1.26's fuzzer can fail a target at the deadline with "context deadline exceeded" and
# no finding when the machine is loaded (golang/go#75804, fixed in Go 1.27). A finding fails the run
# and is written to the package's testdata/fuzz, where it stays as a regression seed once fixed.
for dir in $(grep -rl --include='*_test.go' '^func Fuzz' . | xargs -n1 dirname | sort -u); do
	for target in $(go test -list '^Fuzz' "$dir" | grep '^Fuzz'); do
		go test -run='^$' -fuzz="^${target}\$" -fuzztime="${FUZZTIME:-5000x}" "$dir"
	done
done
