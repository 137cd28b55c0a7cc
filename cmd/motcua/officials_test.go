package main

import (
	"bytes"
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	mhttp "github.com/motcua/motcua/http"
	"github.com/motcua/motcua/http/session"
)

// motcua officials add creates a local account whose password only an argon2id hash keeps, refuses
// an official the tokens would refuse or a weak password, lists the accounts, and disable stops the
// account and ends its sessions.
func TestOfficialsCommandAddsListsAndDisablesLocalAccounts(t *testing.T) {
	ctx := context.Background()
	dataDir := t.TempDir()
	officials := func(args ...string) (string, error) {
		var out bytes.Buffer
		err := run(ctx, append(append([]string{"officials"}, args...), "--data", dataDir), &out, io.Discard)
		return out.String(), err
	}
	passwordFile := filepath.Join(t.TempDir(), "password")
	if err := os.WriteFile(passwordFile, []byte("một mật khẩu đủ dài\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	for name, args := range map[string][]string{
		"an agency role without an agency": {"add", "--login", "hoa.le", "--sub", "tn01", "--name", "Lê Thị Hoa", "--role", "reception", "--password-file", passwordFile},
		"an unknown role":                  {"add", "--login", "hoa.le", "--sub", "tn01", "--name", "Lê Thị Hoa", "--role", "janitor", "--agency", "000.00.00.H56"},
		"a login with capitals":            {"add", "--login", "Hoa.Le", "--sub", "tn01", "--name", "Lê Thị Hoa", "--role", "reception", "--agency", "000.00.00.H56"},
	} {
		if _, err := officials(args...); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
	short := filepath.Join(t.TempDir(), "short")
	if err := os.WriteFile(short, []byte("ngắn\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := officials("add", "--login", "hoa.le", "--sub", "tn01", "--name", "Lê Thị Hoa", "--role", "reception", "--agency", "000.00.00.H56", "--password-file", short); err == nil ||
		!strings.Contains(err.Error(), "at least 12") {
		t.Errorf("a short password: %v", err)
	}
	out, err := officials("add", "--login", "hoa.le", "--sub", "tn01", "--name", "Lê Thị Hoa", "--role", "reception,cashier", "--agency", "000.00.00.H56", "--password-file", passwordFile)
	if err != nil || strings.Contains(out, "password") {
		t.Fatalf("add with a password file: %v\n%s", err, out)
	}
	out, err = officials("add", "--login", "thanhtra", "--sub", "tt01", "--name", "Thanh tra", "--role", "inspector")
	made := regexp.MustCompile(`password \(shown once\): (\S+)`).FindStringSubmatch(out)
	if err != nil || made == nil {
		t.Fatalf("add with a password made: %v\n%s", err, out)
	}

	d, err := openDeployment(ctx, &storeFlags{dataDir: dataDir}, openOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	accounts, err := session.NewAccounts(d.ReadDB, d.Dialect())
	if err != nil {
		t.Fatal(err)
	}
	if acc, err := accounts.Authenticate(ctx, "hoa.le", "một mật khẩu đủ dài"); err != nil || acc.ID != "tn01" || strings.Join(acc.Roles, ",") != "reception,cashier" {
		t.Errorf("the file's password: %+v, %v", acc, err)
	}
	if _, err := accounts.Authenticate(ctx, "thanhtra", made[1]); err != nil {
		t.Errorf("the password made: %v", err)
	}
	var stored string
	if err := d.ReadDB.QueryRow(`SELECT password_hash FROM official_accounts WHERE login = 'hoa.le'`).Scan(&stored); err != nil ||
		!strings.HasPrefix(stored, "$argon2id$v=19$") || strings.Contains(stored, "mật khẩu") {
		t.Errorf("the stored password: %q, %v", stored, err)
	}

	sessions, err := session.New(d.ReadDB, d.Dialect(), session.DefaultTimeouts)
	if err != nil {
		t.Fatal(err)
	}
	token, err := sessions.Create(ctx, session.Session{Kind: session.Official, Subject: "tn01", Holder: mhttp.AccountHolder("hoa.le")})
	if err != nil {
		t.Fatal(err)
	}
	if out, err := officials("disable", "--login", "hoa.le"); err != nil || !strings.Contains(out, "1 session(s) ended") {
		t.Fatalf("disable: %v\n%s", err, out)
	}
	if _, err := sessions.Get(ctx, token, session.Official); !errors.Is(err, session.ErrNoSession) {
		t.Errorf("the disabled account's session lives on: %v", err)
	}
	if _, err := accounts.Authenticate(ctx, "hoa.le", "một mật khẩu đủ dài"); !errors.Is(err, session.ErrBadCredentials) {
		t.Errorf("a disabled account signs in: %v", err)
	}
	if _, err := officials("disable", "--login", "nobody"); err == nil {
		t.Error("disabling an unknown login succeeded")
	}
	out, err = officials("list")
	if err != nil || !regexp.MustCompile(`hoa\.le\s+tn01\s+Lê Thị Hoa\s+reception,cashier\s+000\.00\.00\.H56\s+disabled`).MatchString(out) ||
		!regexp.MustCompile(`thanhtra\s+tt01\s+Thanh tra\s+inspector\s+enabled`).MatchString(out) {
		t.Errorf("list: %v\n%s", err, out)
	}
}
