package main

import (
	"crypto/ed25519"
	"crypto/rand"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
)

// tokenKeyFile is the deployment's local Ed25519 key for officials' bearer tokens, in the data dir.
const tokenKeyFile = "token-signing-key.pem"

// loadOrCreateTokenKey reads the token signing key from dataDir, creating it (mode 0600) on first use.
func loadOrCreateTokenKey(dataDir string) (ed25519.PrivateKey, error) {
	return loadOrCreateKey(dataDir, tokenKeyFile)
}

// loadOrCreateKey reads the Ed25519 key in file under dir, creating it (mode 0600, the directory
// 0700) on first use. An empty file is what an older motcua left when the disk filled up while it
// created the key: no key was ever used from it, so it is created afresh.
func loadOrCreateKey(dir, file string) (ed25519.PrivateKey, error) {
	path := filepath.Join(dir, file)
	data, err := os.ReadFile(path)
	if err == nil && len(data) == 0 {
		if err := os.Remove(path); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return nil, err
		}
		err = fs.ErrNotExist
	}
	if errors.Is(err, fs.ErrNotExist) {
		_, key, err := ed25519.GenerateKey(rand.Reader)
		if err != nil {
			return nil, err
		}
		der, err := x509.MarshalPKCS8PrivateKey(key)
		if err != nil {
			return nil, err
		}
		if err := ensurePrivateDir(dir); err != nil {
			return nil, err
		}
		created, err := createFileAtomically(path, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), 0o600)
		if err != nil {
			return nil, err
		}
		if !created {
			// Another process created it first: use its key.
			return loadOrCreateKey(dir, file)
		}
		return key, nil
	}
	if err != nil {
		return nil, err
	}
	block, _ := pem.Decode(data)
	if block == nil {
		return nil, fmt.Errorf("%s: no PEM block", path)
	}
	parsed, err := x509.ParsePKCS8PrivateKey(block.Bytes)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	key, ok := parsed.(ed25519.PrivateKey)
	if !ok {
		return nil, fmt.Errorf("%s: not an Ed25519 key", path)
	}
	return key, nil
}
