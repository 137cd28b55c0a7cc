package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"time"

	"github.com/motcua/motcua/domain"
	"github.com/motcua/motcua/integrations/portal"
	"github.com/motcua/motcua/integrations/portal/inbound"
)

const catalogUsage = `motcua catalog — the procedure catalog

  motcua catalog refresh --from-portal URL [--apply] [--data DIR] [--catalog FILE] [--calendar FILE]
                         [--portal-token-url URL --portal-client-id ID --portal-client-secret-file FILE]

refresh compares the catalog serve uses (--catalog, else <data>/catalog.json, else the built-in demo)
with the national portal's procedure list (LayDanhSachTTHC) and prints the procedures added, removed
and changed, with what changed. Nothing is written without --apply; with it, the changes and removals
are written to --catalog (else <data>/catalog.json), checked as serve checks a catalog. Procedures new
on the portal are listed, not added: give them their competent agency and internal workflow by hand.
serve reads the catalog when it starts: restart it to use the new one.
`

// maxProcedureListBytes bounds the portal's answer: a province lists a few thousand procedures.
const maxProcedureListBytes = 64 << 20

func runCatalog(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if done, err := subcommand("catalog", args, catalogUsage, stdout, stderr, "refresh"); done {
		return err
	}
	fs := flag.NewFlagSet("catalog refresh", flag.ContinueOnError)
	fs.SetOutput(stderr)
	dataDir := fs.String("data", "./data", "data directory: <data>/catalog.json is the catalog when --catalog is not given")
	domainFiles := addDomainFlags(fs)
	from := fs.String("from-portal", "", "URL of the national portal's procedure list (LayDanhSachTTHC)")
	apply := fs.Bool("apply", false, "write the changes and removals to the catalog file")
	timeout := fs.Duration("timeout", time.Minute, "longest the portal may take to answer")
	tokenURL := fs.String("portal-token-url", os.Getenv("MOTCUA_PORTAL_TOKEN_URL"), "the portal's token endpoint (client credentials), when the list needs a token ($MOTCUA_PORTAL_TOKEN_URL)")
	clientID := fs.String("portal-client-id", os.Getenv("MOTCUA_PORTAL_CLIENT_ID"), "this province's client id at the portal ($MOTCUA_PORTAL_CLIENT_ID)")
	clientSecretFile := fs.String("portal-client-secret-file", os.Getenv("MOTCUA_PORTAL_CLIENT_SECRET_FILE"), "file holding the client secret ($MOTCUA_PORTAL_CLIENT_SECRET_FILE)")
	if err := fs.Parse(args[1:]); err != nil {
		return err
	}
	if *from == "" {
		return errors.New("catalog refresh: --from-portal URL is required")
	}
	target := domainFiles.catalog
	if target == "" {
		target = filepath.Join(*dataDir, catalogFile)
		if fileExists(target) {
			domainFiles.catalog = target
		}
	}
	rules, err := domainFiles.load()
	if err != nil {
		return err
	}
	client := &http.Client{Timeout: *timeout}
	var token *portal.TokenSource
	if *tokenURL != "" {
		secret, err := readSecretFile(*clientSecretFile)
		if err != nil {
			return fmt.Errorf("--portal-client-secret-file: %w", err)
		}
		token = &portal.TokenSource{URL: *tokenURL, ClientID: *clientID, ClientSecret: string(secret), HTTP: client}
	}
	list, err := fetchProcedureList(ctx, client, token, *from)
	if err != nil {
		return err
	}
	diff := inbound.DiffCatalog(rules.catalog, list)
	source := "the built-in demo catalog"
	if domainFiles.catalog != "" {
		source = domainFiles.catalog
	}
	printCatalogDiff(stdout, diff, source, len(list.Result))
	if diff.Empty() || len(diff.Changed)+len(diff.Removed) == 0 {
		return nil
	}
	if !*apply {
		fmt.Fprintln(stdout, "Nothing written: run again with --apply to write the changes and removals.")
		return nil
	}
	next := diff.Apply(rules.catalog)
	data, err := json.MarshalIndent(next, "", "  ")
	if err != nil {
		return err
	}
	data = append(data, '\n')
	// Checked as serve will check it: a shorter time the workflow no longer fits is refused here.
	if _, err := domain.ParseCatalog(data, rules.calendar); err != nil {
		return fmt.Errorf("the refreshed catalog would not load, nothing written: %w", err)
	}
	if err := replaceFileAtomically(target, data, 0o644); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "Written to %s: %d changed, %d removed. Restart motcua serve to use it.\n", target, len(diff.Changed), len(diff.Removed))
	return nil
}

func fetchProcedureList(ctx context.Context, client *http.Client, token *portal.TokenSource, url string) (inbound.ProcedureList, error) {
	resp, err := token.Get(ctx, client, url)
	if err != nil {
		return inbound.ProcedureList{}, fmt.Errorf("the portal's procedure list: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return inbound.ProcedureList{}, fmt.Errorf("the portal's procedure list: answered %s", resp.Status)
	}
	data, err := io.ReadAll(io.LimitReader(resp.Body, maxProcedureListBytes+1))
	if err != nil {
		return inbound.ProcedureList{}, fmt.Errorf("the portal's procedure list: %w", err)
	}
	if len(data) > maxProcedureListBytes {
		return inbound.ProcedureList{}, fmt.Errorf("the portal's procedure list is larger than %d bytes", maxProcedureListBytes)
	}
	return inbound.ParseProcedureList(data)
}

func printCatalogDiff(w io.Writer, diff inbound.CatalogDiff, source string, listed int) {
	fmt.Fprintf(w, "%s against the national portal's list (%d procedures):\n", source, listed)
	if diff.Empty() {
		fmt.Fprintln(w, "  the same: nothing to change.")
		return
	}
	for _, c := range diff.Changed {
		fmt.Fprintf(w, "changed  %s  %s\n", c.Code, c.Name)
		for _, f := range c.Changes {
			fmt.Fprintf(w, "    %s: %s → %s\n", f.Field, f.Old, f.New)
		}
	}
	for _, p := range diff.Removed {
		fmt.Fprintf(w, "removed  %s  %s  (no longer on the portal; its dossiers keep what they recorded)\n", p.Code, p.Name)
	}
	for _, p := range diff.Added {
		fmt.Fprintf(w, "added    %s  %s  (new on the portal; not applied: give it its competent agency and internal workflow in the catalog file, docs/catalog.md)\n", p.Code, p.Name)
	}
}

// replaceFileAtomically puts data at path, replacing what is there, whole or not at all: a
// temporary file in the same directory, fsynced, renamed over path, and the directory fsynced.
func replaceFileAtomically(path string, data []byte, perm os.FileMode) error {
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	tmp, err := os.CreateTemp(dir, "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Chmod(perm); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return err
	}
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}
