package main

import (
	"context"

	"github.com/motcua/motcua/accesslog"
)

// accessLogKeyFile keys the access log's blind index of applicants (docs/security.md, "Access
// log"): an Ed25519 key file like the others, whose 32-byte seed is the HMAC key, so it is created
// and kept (0600, written whole or not at all) the same way. Every node of a deployment must hold
// the same file, as for the token key; a new key makes the entries recorded before it unfindable
// by applicant (still by dossier).
const accessLogKeyFile = "access-log-index-key.pem"

// openAccessLog opens the access log in the deployment's durable database (ReadDB: the store's own
// file on SQLite, its database on PostgreSQL — never the read models' unsynced pool, since entries
// are written once and never rebuilt), creating its table and append-only triggers.
func openAccessLog(ctx context.Context, d *deployment, dataDir string) (*accesslog.Log, error) {
	key, err := loadOrCreateKey(dataDir, accessLogKeyFile)
	if err != nil {
		return nil, err
	}
	log, err := accesslog.New(d.ReadDB, d.Dialect(), key.Seed())
	if err != nil {
		return nil, err
	}
	if err := log.Migrate(ctx); err != nil {
		return nil, err
	}
	return log, nil
}
