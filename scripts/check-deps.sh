#!/bin/sh
# Checks the dependency rule of each folder (docs/architecture.md) with go list -deps: what a
# folder's packages import, directly or not, test files left out. Prints every broken rule and
# exits non-zero when there is one.
set -eu
cd "$(dirname "$0")/.."

module=github.com/motcua/motcua
broken=0

# only PACKAGES ALLOWED WHY: the packages of ours that PACKAGES (patterns, space-separated) depend
# on all match ALLOWED (an extended regular expression over import paths, after the module's path).
only() {
	# shellcheck disable=SC2086 # PACKAGES is a list
	found=$(go list -deps $1 | grep "^$module/" | sed "s#^$module/##" | grep -Ev "^($2)(/|\$)" || true)
	if [ -n "$found" ]; then
		printf '%s depends on what it must not (%s):\n%s\n' "$1" "$3" "$found" >&2
		broken=1
	fi
}

# domain/domaintest, the fixtures of everyone's tests, may use the test helpers of internal/.
only "./domain ./domain/calendar" "domain" "domain imports nothing of ours but its own subpackages"
only ./eventstore/... "eventstore" "the stores know nothing of the dossiers nor of what reads them"
only ./blobstore/... "blobstore|eventstore" "the file store keeps bytes under digests, sealed with the event store's shredding keys; it knows nothing of the dossiers"
only ./commands/... "commands|domain|eventstore" "use cases know neither the web nor the consumers of the log"
only ./engine/... "engine|domain|eventstore" "the engine feeds every kind of consumer and knows none of them"
only ./projections/... "projections|engine|domain|eventstore" "read models are fed by the engine, not by the use cases or the web"
only ./integrations/... "integrations|engine|domain|eventstore|l10n" "integrations are fed by the engine and read the dossier through the store; they know neither the use cases, the read models nor the web"
only ./timers/... "timers|engine|domain|eventstore|l10n|integrations" "timers are fed by the engine and tell through the outbox; they know neither the use cases, the read models nor the web"
only ./accesslog/... "accesslog|projections|engine|domain|eventstore" "the access log is written by the edge and takes only the lists' page contract and the SQL dialect; it knows neither the use cases, the consumers nor the web"
only ./docs "docs" "the documents the binary serves (the API's contract) import nothing of ours"
only ./l10n "l10n|domain" "the catalogue of words knows only the codes it names"
only ./http/httpkit "http/httpkit|commands|projections|engine|domain|eventstore" "what the API and the pages share imports neither, nor their words"
only ./http/workbook "http/workbook|l10n|projections|engine|domain|eventstore" "the workbooks the API and the pages both build know neither, only the read models' rows and the words"
only ./http/session "http/session|engine|domain|eventstore" "the sessions of people signed in keep tokens and claims in the durable database; they know neither face nor the use cases"
only ./http/printform "http/printform|http/httpkit|commands|l10n|projections|engine|domain|eventstore" "the printable forms the API and the pages both draw know neither, only the dossier, the read models' rows and the words"
only ./http/web "http/web|http/httpkit|http/workbook|http/printform|l10n|commands|projections|engine|domain|eventstore" "the pages get the API as web.API and never import it"

exit $broken
