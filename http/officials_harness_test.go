package http_test

import (
	"context"
	"database/sql"
	"net/http"
	"net/url"
	"testing"

	"github.com/jackc/pgx/v5/stdlib"
	"github.com/motcua/motcua/engine"
	mhttp "github.com/motcua/motcua/http"
	"github.com/motcua/motcua/http/session"
)

// pageSession signs an official in to the pages of the server at baseURL with their API token and
// returns the Cookie header value of the session it opened: the pages take a server-side
// session's random token, never a bearer token.
func pageSession(t *testing.T, baseURL, token string) string {
	t.Helper()
	resp, err := noRedirects.PostForm(baseURL+"/can-bo/dang-nhap", url.Values{"token": {token}})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	for _, c := range resp.Cookies() {
		if c.Name == "motcua_session" && c.Value != "" {
			if resp.StatusCode != http.StatusSeeOther {
				t.Fatalf("sign-in with a token answered %d", resp.StatusCode)
			}
			return c.Name + "=" + c.Value
		}
	}
	t.Fatalf("sign-in with a token answered %d and no session cookie", resp.StatusCode)
	return ""
}

// tokenSignIn is the officials' sign-in of a test server built without a read database: API tokens
// open page sessions kept in db (a SQLite file or a PostgreSQL database through pgx).
func tokenSignIn(t testing.TB, db *sql.DB) *mhttp.OfficialSignIn {
	t.Helper()
	dialect := engine.SQLite
	if _, pgx := db.Driver().(*stdlib.Driver); pgx {
		dialect = engine.PostgreSQL
	}
	sessions, err := session.New(db, dialect, session.DefaultTimeouts)
	if err != nil {
		t.Fatal(err)
	}
	o, err := mhttp.NewOfficialSignIn(context.Background(), mhttp.OfficialSignInConfig{Sessions: sessions, Tokens: true})
	if err != nil {
		t.Fatal(err)
	}
	return o
}
