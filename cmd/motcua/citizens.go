package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/motcua/motcua/cmd/motcua/demo"
	"github.com/motcua/motcua/engine"
	mhttp "github.com/motcua/motcua/http"
	"github.com/motcua/motcua/http/session"
	"github.com/motcua/motcua/integrations/demoidp"
	"github.com/motcua/motcua/projections"
)

// citizenOptions are serve's flags for the citizens' sign-in through the national identity
// provider (docs/citizens.md).
type citizenOptions struct {
	issuer, clientID, secretFile, redirectURL  string
	idClaim, nameClaim, phoneClaim, emailClaim string
	scopes                                     string
	idle, absolute                             time.Duration
	demoIdPAddr                                string
}

func addCitizenFlags(fs *flag.FlagSet) *citizenOptions {
	o := &citizenOptions{}
	fs.StringVar(&o.issuer, "citizen-oidc-issuer", "", "OpenID Connect issuer URL of the citizens' identity provider (VNeID); without it citizens do not sign in, except with --demo (the built-in demo provider)")
	fs.StringVar(&o.clientID, "citizen-oidc-client-id", "", "motcua's client id at the citizens' identity provider")
	fs.StringVar(&o.secretFile, "citizen-oidc-client-secret-file", "", "file holding motcua's client secret at the citizens' identity provider (kept off the command line)")
	fs.StringVar(&o.redirectURL, "citizen-oidc-redirect-url", "", "motcua's callback as registered at the provider, https://<public address>"+mhttp.CitizenCallbackPath+" (default: --public-url followed by it)")
	fs.StringVar(&o.idClaim, "citizen-oidc-id-claim", demoidp.DefaultIDClaim, "claim of the ID token carrying the 12-digit personal identification number (dotted path for a nested claim)")
	fs.StringVar(&o.nameClaim, "citizen-oidc-name-claim", "name", "claim holding the citizen's full name")
	fs.StringVar(&o.phoneClaim, "citizen-oidc-phone-claim", "phone_number", "claim holding the citizen's phone number")
	fs.StringVar(&o.emailClaim, "citizen-oidc-email-claim", "email", "claim holding the citizen's e-mail address")
	fs.StringVar(&o.scopes, "citizen-oidc-scopes", "profile email phone", "scopes asked for besides openid, space-separated")
	fs.DurationVar(&o.idle, "citizen-session-idle", session.DefaultTimeouts.Idle, "a citizen's session ends after this long without a request")
	fs.DurationVar(&o.absolute, "citizen-session-max", session.DefaultTimeouts.Absolute, "a citizen's session ends this long after sign-in, whatever")
	fs.StringVar(&o.demoIdPAddr, "demo-idp-addr", "localhost:0", "with --demo: listen address of the built-in demo identity provider (browsers must reach it)")
	return o
}

// citizenReadModels is the citizens' index of dossiers (projections.CitizenDossiersView), keyed
// with the deployment's blind index key — the access log's, so both find the same person. It is
// fed, rebuilt and erased with the keyless read models wherever they are.
func citizenReadModels(dataDir string) ([]engine.Consumer, error) {
	key, err := citizenIndexKey(dataDir)
	if err != nil {
		return nil, err
	}
	return []engine.Consumer{projections.CitizenDossiersView{Key: key}}, nil
}

func citizenIndexKey(dataDir string) (projections.ApplicantIndexKey, error) {
	key, err := loadOrCreateKey(dataDir, accessLogKeyFile)
	if err != nil {
		return nil, err
	}
	return projections.NewApplicantIndexKey(key.Seed())
}

// citizenSignIn is what serve runs for citizens: the relying party, and with --demo the demo
// provider's server.
type citizenSignIn struct {
	signIn *mhttp.CitizenSignIn // nil: citizens do not sign in
	idp    *http.Server
	idpLn  net.Listener
	// demoIssuer is the demo provider's issuer when one runs, which the demo officials sign in at too.
	demoIssuer string
}

// build wires the citizens' sign-in: the configured provider, or with --demo and none configured
// the built-in demo provider, started here on its own listener (it must answer discovery before
// the relying party is built). motcuaAddr is where serve listens, for the demo's redirect URL.
// officials, when not nil, are the demo officials' client and people, registered at the same demo
// provider.
func (o *citizenOptions) build(ctx context.Context, d *deployment, dataDir string, withDemo bool, publicURL string, motcuaAddr net.Addr,
	officials *demoOfficialsClient, stdout io.Writer, logger *slog.Logger) (*citizenSignIn, error) {
	if o.idle <= 0 || o.absolute <= 0 || o.idle > o.absolute {
		return nil, errors.New("--citizen-session-idle and --citizen-session-max must be positive, the idle timeout no longer than the other")
	}
	if o.issuer == "" && !withDemo {
		if o.clientID != "" || o.secretFile != "" {
			return nil, errors.New("--citizen-oidc-client-id and --citizen-oidc-client-secret-file need --citizen-oidc-issuer")
		}
		return &citizenSignIn{}, nil
	}
	key, err := citizenIndexKey(dataDir)
	if err != nil {
		return nil, err
	}
	// The sessions live in the durable database, as the access log does (ReadDB: the store's own
	// file on SQLite, its database on PostgreSQL), never in the read models' rebuildable pool.
	sessions, err := session.New(d.ReadDB, d.Dialect(), session.Timeouts{Idle: o.idle, Absolute: o.absolute, Attempt: session.DefaultTimeouts.Attempt})
	if err != nil {
		return nil, err
	}
	if err := sessions.Migrate(ctx); err != nil {
		return nil, err
	}
	redirect := o.redirectURL
	if redirect == "" && publicURL != "" {
		redirect = strings.TrimSuffix(publicURL, "/") + mhttp.CitizenCallbackPath
	}
	cfg := mhttp.CitizenSignInConfig{Issuer: o.issuer, ClientID: o.clientID, RedirectURL: redirect, IDClaim: o.idClaim, NameClaim: o.nameClaim,
		PhoneClaim: o.phoneClaim, EmailClaim: o.emailClaim, Scopes: strings.Fields(o.scopes), Sessions: sessions, IndexKey: key}
	if o.secretFile != "" {
		secret, err := os.ReadFile(o.secretFile)
		if err != nil {
			return nil, fmt.Errorf("--citizen-oidc-client-secret-file: %w", err)
		}
		cfg.ClientSecret = strings.TrimSpace(string(secret))
	}
	out := &citizenSignIn{}
	if o.issuer == "" { // --demo: the built-in provider stands in for VNeID
		if cfg.RedirectURL == "" {
			cfg.RedirectURL = "http://" + localAddress(motcuaAddr) + mhttp.CitizenCallbackPath
		}
		if err := out.startDemoProvider(o.demoIdPAddr, &cfg, officials, logger); err != nil {
			return nil, err
		}
		printDemoCitizens(stdout, out.idpLn.Addr(), strings.TrimSuffix(cfg.RedirectURL, mhttp.CitizenCallbackPath))
	}
	if out.signIn, err = mhttp.NewCitizenSignIn(ctx, cfg); err != nil {
		out.close()
		return nil, err
	}
	return out, nil
}

// localAddress is addr as a browser on this machine reaches it: a wildcard host is localhost.
func localAddress(addr net.Addr) string {
	host, port, err := net.SplitHostPort(addr.String())
	if err != nil {
		return addr.String()
	}
	if ip := net.ParseIP(host); host == "" || (ip != nil && ip.IsUnspecified()) {
		host = "localhost"
	}
	return net.JoinHostPort(host, port)
}

// demoCitizens are the demo provider's citizens: each carries the identification number of one of
// the demo's seeded dossiers, so "Hồ sơ của tôi" shows it.
func demoCitizens() []demoidp.Person {
	names := []string{"Nguyễn Thị Lan", "Trần Văn Hùng", "Lê Minh Châu"}
	people := make([]demoidp.Person, len(names))
	for i, name := range names {
		people[i] = demoidp.Person{Subject: fmt.Sprintf("demo-citizen-%d", i+1), Name: name, IDNumber: demo.ApplicantIDNumber(i),
			Phone: fmt.Sprintf("09120000%02d", i+1), Email: fmt.Sprintf("congdan%d@example.vn", i+1)}
	}
	return people
}

// startDemoProvider starts the demo provider on its own listener and points cfg at it, with a
// client secret new at every start.
func (c *citizenSignIn) startDemoProvider(addr string, cfg *mhttp.CitizenSignInConfig, officials *demoOfficialsClient, logger *slog.Logger) error {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("--demo-idp-addr: %w", err)
	}
	cfg.Issuer, cfg.ClientID, cfg.ClientSecret, cfg.IDClaim = "http://"+localAddress(ln.Addr()), "motcua-demo", session.RandomToken(), demoidp.DefaultIDClaim
	people, clients := demoCitizens(), []demoidp.Client{{ID: cfg.ClientID, Secret: cfg.ClientSecret, RedirectURIs: []string{cfg.RedirectURL}}}
	for i := range people {
		people[i].Clients = []string{cfg.ClientID}
	}
	if officials != nil {
		people, clients = append(people, officials.people...), append(clients, officials.client)
	}
	provider, err := demoidp.New(demoidp.Config{Issuer: cfg.Issuer, People: people, Clients: clients})
	if err != nil {
		ln.Close()
		return err
	}
	c.idp, c.idpLn, c.demoIssuer = &http.Server{Handler: provider, ReadHeaderTimeout: 10 * time.Second}, ln, cfg.Issuer
	go func() {
		if err := c.idp.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			logger.Error("demo identity provider", "err", err)
		}
	}()
	return nil
}

// close stops the demo provider, when one runs.
func (c *citizenSignIn) close() {
	if c.idp != nil {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = c.idp.Shutdown(ctx)
	}
}

func printDemoCitizens(w io.Writer, idp net.Addr, motcua string) {
	fmt.Fprintf(w, "Demo identity provider (simulates VNeID, not the real one) at http://%s\n", localAddress(idp))
	fmt.Fprintf(w, "Citizens sign in at %s%s, then see \"Hồ sơ của tôi\" at %s%s — demo citizens:\n", motcua, mhttp.CitizenSignInPath, motcua, mhttp.CitizenHomePath)
	for _, p := range demoCitizens() {
		fmt.Fprintf(w, "  %-16s %s  %s  %s\n", p.Name, p.IDNumber, p.Phone, p.Email)
	}
}

// endCitizenSessions ends every citizen's session of the person with idNumber (their data was
// erased; the API's erasure does the same through the server).
func endCitizenSessions(ctx context.Context, d *deployment, dataDir, idNumber string) error {
	key, err := citizenIndexKey(dataDir)
	if err != nil {
		return err
	}
	sessions, err := session.New(d.ReadDB, d.Dialect(), session.DefaultTimeouts)
	if err != nil {
		return err
	}
	_, err = sessions.EndHolder(ctx, session.Citizen, key.Of(idNumber))
	return err
}
