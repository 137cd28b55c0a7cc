package main

import (
	"context"
	"crypto"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"sync"

	"github.com/motcua/motcua/commands"
	"github.com/motcua/motcua/domain"
)

// fileAgencyKeys keeps each agency's result-signing key in dir as <agency code>.pem (PKCS#8: Ed25519,
// ECDSA P-256 or RSA, e.g. a key the national CA certified). An agency without a file gets a new
// Ed25519 key on first use, as development and the demo need; a production deployment installs its
// agencies' keys there beforehand, or wires an HSM's crypto.Signer as commands.AgencySigners instead.
type fileAgencyKeys struct {
	dir    string
	logger *slog.Logger
	mu     sync.Mutex
	loaded map[string]crypto.Signer
}

var _ commands.AgencySigners = (*fileAgencyKeys)(nil)

func newFileAgencyKeys(dir string, logger *slog.Logger) *fileAgencyKeys {
	return &fileAgencyKeys{dir: dir, logger: logger, loaded: map[string]crypto.Signer{}}
}

// SignerFor implements commands.AgencySigners.
func (k *fileAgencyKeys) SignerFor(ctx context.Context, agency string) (crypto.Signer, error) {
	// The code names a file: only a QCVN 102 identifier may, never a path.
	if !domain.ValidUnitCode(agency) {
		return nil, fmt.Errorf("%q is not an agency code", agency)
	}
	k.mu.Lock()
	defer k.mu.Unlock()
	if signer, ok := k.loaded[agency]; ok {
		return signer, nil
	}
	file := agency + ".pem"
	data, err := os.ReadFile(filepath.Join(k.dir, file))
	var signer crypto.Signer
	switch {
	case errors.Is(err, fs.ErrNotExist), err == nil && len(data) == 0: // empty: a creation a full disk cut short
		if signer, err = loadOrCreateKey(k.dir, file); err != nil {
			return nil, err
		}
		keyID, _ := commands.KeyID(signer.Public())
		k.logger.WarnContext(ctx, "created a signing key for an agency: publish its key id, or install the agency's certified key instead",
			"agency", agency, "key_id", keyID, "file", filepath.Join(k.dir, file))
	case err != nil:
		return nil, err
	default:
		if signer, err = parseSigner(data); err != nil {
			return nil, fmt.Errorf("%s: %w", filepath.Join(k.dir, file), err)
		}
	}
	k.loaded[agency] = signer
	return signer, nil
}

func parseSigner(data []byte) (crypto.Signer, error) {
	block, _ := pem.Decode(data)
	if block == nil {
		return nil, errors.New("no PEM block")
	}
	key, err := x509.ParsePKCS8PrivateKey(block.Bytes)
	if err != nil {
		return nil, err
	}
	signer, ok := key.(crypto.Signer)
	if !ok {
		return nil, fmt.Errorf("a %T cannot sign", key)
	}
	return signer, nil
}
