package session_test

import (
	"context"
	"database/sql"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/motcua/motcua/engine"
	"github.com/motcua/motcua/http/session"
)

// A password is kept as an argon2id hash with its own salt and parameters; the right password
// verifies, any other — or a hash altered or asking for absurd memory — does not.
func TestPasswordsAreHashedWithArgon2id(t *testing.T) {
	a, b := session.HashPassword("mật khẩu đủ dài"), session.HashPassword("mật khẩu đủ dài")
	if a == b || !strings.HasPrefix(a, "$argon2id$v=19$m=19456,t=2,p=1$") {
		t.Fatalf("hashes %q and %q: want argon2id, salted", a, b)
	}
	if !session.VerifyPassword(a, "mật khẩu đủ dài") || session.VerifyPassword(a, "mật khẩu đủ dàii") || session.VerifyPassword(a, "") {
		t.Error("verification does not tell the right password from others")
	}
	for _, bad := range []string{"", "plain", strings.Replace(a, "argon2id", "argon2i", 1), strings.Replace(a, "m=19456", "m=99999999", 1),
		a[:len(a)-4] + "AAAA"} {
		if session.VerifyPassword(bad, "mật khẩu đủ dài") {
			t.Errorf("the hash %q verifies", bad)
		}
	}
}

// Accounts on SQLite and PostgreSQL: put, authenticate, replace the password, disable, list in
// login order; an unknown login and a wrong password are the same refusal.
func TestAccountsAuthenticateAndDisable(t *testing.T) {
	forEachDatabase(t, func(t *testing.T, db *sql.DB, dialect engine.Dialect) {
		ctx := context.Background()
		accounts, err := session.NewAccounts(db, dialect)
		if err != nil {
			t.Fatal(err)
		}
		hoa := session.Account{Login: "hoa.le", ID: "tn01", Name: "Lê Thị Hoa", Roles: []string{"reception", "cashier"}, Agency: "000.00.00.H56"}
		if err := accounts.Put(ctx, hoa, "ngắn"); err == nil {
			t.Error("a short password was accepted")
		}
		if err := accounts.Put(ctx, session.Account{Login: "Hoa Le", ID: "x", Name: "x", Roles: []string{"head"}}, "mật khẩu đủ dài"); err == nil {
			t.Error("a login with a space was accepted")
		}
		if err := accounts.Put(ctx, hoa, "mật khẩu đủ dài"); err != nil {
			t.Fatal(err)
		}
		if err := accounts.Put(ctx, session.Account{Login: "an.nguyen", ID: "tt01", Name: "Nguyễn An", Roles: []string{"inspector"}}, "một mật khẩu khác"); err != nil {
			t.Fatal(err)
		}
		got, err := accounts.Authenticate(ctx, " Hoa.Le ", "mật khẩu đủ dài")
		if err != nil || got.ID != "tn01" || got.Agency != "000.00.00.H56" || strings.Join(got.Roles, " ") != "reception cashier" {
			t.Fatalf("authenticate: %+v, %v", got, err)
		}
		for login, password := range map[string]string{"hoa.le": "mật khẩu sai", "khong.co": "mật khẩu đủ dài"} {
			if _, err := accounts.Authenticate(ctx, login, password); !errors.Is(err, session.ErrBadCredentials) {
				t.Errorf("%s: %v", login, err)
			}
		}
		if err := accounts.Put(ctx, hoa, "mật khẩu mới đủ dài"); err != nil {
			t.Fatal(err)
		}
		if _, err := accounts.Authenticate(ctx, "hoa.le", "mật khẩu đủ dài"); !errors.Is(err, session.ErrBadCredentials) {
			t.Error("the replaced password still signs in")
		}
		if err := accounts.Disable(ctx, "hoa.le"); err != nil {
			t.Fatal(err)
		}
		if _, err := accounts.Authenticate(ctx, "hoa.le", "mật khẩu mới đủ dài"); !errors.Is(err, session.ErrBadCredentials) {
			t.Error("a disabled account signs in")
		}
		if err := accounts.Disable(ctx, "khong.co"); !errors.Is(err, session.ErrNoAccount) {
			t.Errorf("disable an unknown login: %v", err)
		}
		list, err := accounts.List(ctx, "", 10)
		if err != nil || len(list) != 2 || list[0].Login != "an.nguyen" || list[1].Login != "hoa.le" || !list[1].Disabled || list[0].Disabled {
			t.Fatalf("list: %+v, %v", list, err)
		}
		if after, err := accounts.List(ctx, "an.nguyen", 10); err != nil || len(after) != 1 || after[0].Login != "hoa.le" {
			t.Errorf("list after an.nguyen: %+v, %v", after, err)
		}
	})
}

// Each kind's store purges only its own kind's expired sessions: the citizens' shorter timeouts do
// not end officials' sessions kept in the same table.
func TestEachKindPurgesItsOwnSessions(t *testing.T) {
	forEachDatabase(t, func(t *testing.T, db *sql.DB, dialect engine.Dialect) {
		ctx := context.Background()
		citizens, c := newStore(t, db, dialect) // 30 minutes idle, 2 hours in all
		officials, err := session.New(db, dialect, session.Timeouts{Idle: 4 * time.Hour, Absolute: 12 * time.Hour, Attempt: 10 * time.Minute})
		if err != nil {
			t.Fatal(err)
		}
		officials = officials.WithClock(c.Now)
		official, err := officials.Create(ctx, session.Session{Kind: session.Official, Subject: "tn01"})
		if err != nil {
			t.Fatal(err)
		}
		c.Advance(3 * time.Hour)
		if _, err := citizens.Create(ctx, session.Session{Kind: session.Citizen, Subject: "vneid-an"}); err != nil {
			t.Fatal(err)
		}
		if _, err := officials.Get(ctx, official, session.Official); err != nil {
			t.Errorf("the citizens' purge ended an official's session: %v", err)
		}
	})
}

// The demo's accounts are hashed at the demo's cost, real ones at the default; both sign in, each
// verified with the parameters its hash records.
func TestDemoAccountsAreHashedAtTheirOwnCost(t *testing.T) {
	forEachDatabase(t, func(t *testing.T, db *sql.DB, dialect engine.Dialect) {
		ctx := context.Background()
		for _, c := range []struct {
			login string
			cost  session.HashCost
			want  string
		}{{"that.nguyen", session.DefaultHashCost, "$m=19456,t=2,"}, {"demo-1-reception", session.DemoHashCost, "$m=1024,t=1,"}} {
			accounts, err := session.NewAccounts(db, dialect)
			if err != nil {
				t.Fatal(err)
			}
			if c.cost != session.DefaultHashCost {
				accounts.WithHashCost(c.cost)
			}
			if err := accounts.Put(ctx, session.Account{Login: c.login, ID: c.login, Name: "Cán bộ", Roles: []string{"reception"}}, "mật khẩu đủ dài"); err != nil {
				t.Fatal(err)
			}
			var hash string
			if err := db.QueryRowContext(ctx, `SELECT password_hash FROM official_accounts WHERE login = $1`, c.login).Scan(&hash); err != nil {
				t.Fatal(err)
			}
			if !strings.Contains(hash, c.want) {
				t.Errorf("%s: hash %s, want the parameters %s", c.login, hash, c.want)
			}
			if _, err := accounts.Authenticate(ctx, c.login, "mật khẩu đủ dài"); err != nil {
				t.Errorf("%s: %v", c.login, err)
			}
			if _, err := accounts.Authenticate(ctx, c.login, "mật khẩu sai rồi"); !errors.Is(err, session.ErrBadCredentials) {
				t.Errorf("%s: a wrong password: %v", c.login, err)
			}
		}
	})
}
