package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/motcua/motcua/commands"
	mhttp "github.com/motcua/motcua/http"
	"github.com/motcua/motcua/http/session"
	"github.com/motcua/motcua/integrations/demoidp"
)

const officialsUsage = `motcua officials — officials' local accounts: sign-in to the pages with a password where the
province runs no identity provider (the embedded default)

Usage:
  motcua officials add     --login LOGIN --sub ID --name NAME --role ROLE[,ROLE] [--agency CODE]
                           [--password-file FILE] [--store URL] [--data DIR]
  motcua officials list    [--after LOGIN] [--limit N] [--store URL] [--data DIR]
  motcua officials disable --login LOGIN [--store URL] [--data DIR]

add creates the account, or replaces its details and password (and enables it again). The password
is read from --password-file ("-": standard input), never from the command line; without it a
random one is made and printed once. Only its argon2id hash is kept, in the deployment's durable
database (the store's SQLite file, or its PostgreSQL database). --agency is required for every role
but inspector and admin. disable stops the account from signing in and ends its sessions.
`

func runOfficials(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if done, err := subcommand("officials", args, officialsUsage, stdout, stderr, "add", "list", "disable"); done {
		return err
	}
	fs := flag.NewFlagSet("officials "+args[0], flag.ContinueOnError)
	fs.SetOutput(stderr)
	storage := addStoreFlags(fs, storeURLUsage, "data directory (for sqlite stores)")
	login := fs.String("login", "", "the account's login: lower-case letters, digits, '.', '-', '_'")
	var sub, name, roles, agency, passwordFile, after *string
	var limit *int
	switch args[0] {
	case "add":
		sub = fs.String("sub", "", "the official's id, recorded as the actor of their events")
		name = fs.String("name", "", "the official's full name")
		roles = fs.String("role", "", "comma-separated roles: reception, specialist, head, signer, cashier, inspector, admin")
		agency = fs.String("agency", "", "the official's agency identifier (QCVN 102); required for every role but inspector and admin")
		passwordFile = fs.String("password-file", "", `file holding the password ("-": standard input); without it a random password is made and printed`)
	case "list":
		after = fs.String("after", "", "list the accounts after this login")
		limit = fs.Int("limit", 50, "accounts listed at most")
	}
	if err := fs.Parse(args[1:]); err != nil {
		return err
	}
	d, err := openDeployment(ctx, storage, openOptions{migrateStore: true})
	if err != nil {
		return err
	}
	defer d.Close()
	accounts, err := session.NewAccounts(d.ReadDB, d.Dialect())
	if err != nil {
		return err
	}
	switch args[0] {
	case "add":
		caller := commands.Caller{ID: *sub, Name: *name, Agency: *agency}
		for _, r := range strings.Split(*roles, ",") {
			if r = strings.TrimSpace(r); r != "" {
				caller.Roles = append(caller.Roles, commands.Role(r))
			}
		}
		if err := mhttp.CheckOfficial(caller); err != nil {
			return fmt.Errorf("officials add: %w", err)
		}
		if err := session.CheckLogin(*login); err != nil {
			return fmt.Errorf("officials add: --login: %w", err)
		}
		password, made, err := readPassword(*passwordFile, os.Stdin)
		if err != nil {
			return fmt.Errorf("officials add: %w", err)
		}
		if err := accounts.Put(ctx, session.Account{Login: *login, ID: caller.ID, Name: caller.Name, Roles: roleNames(caller.Roles), Agency: caller.Agency}, password); err != nil {
			return fmt.Errorf("officials add: %w", err)
		}
		fmt.Fprintf(stdout, "account %s for %s (%s) can sign in at /can-bo/dang-nhap\n", *login, caller.Name, strings.Join(roleNames(caller.Roles), ", "))
		if made {
			fmt.Fprintf(stdout, "password (shown once): %s\n", password)
		}
		return nil
	case "disable":
		if err := accounts.Disable(ctx, *login); errors.Is(err, session.ErrNoAccount) {
			return fmt.Errorf("officials disable: no account %q", *login)
		} else if err != nil {
			return err
		}
		sessions, err := session.New(d.ReadDB, d.Dialect(), session.DefaultTimeouts)
		if err != nil {
			return err
		}
		ended, err := sessions.EndHolder(ctx, session.Official, mhttp.AccountHolder(*login))
		if err != nil {
			return err
		}
		fmt.Fprintf(stdout, "account %s disabled; %d session(s) ended\n", *login, ended)
		return nil
	default:
		list, err := accounts.List(ctx, *after, max(1, min(*limit, 500)))
		if err != nil {
			return err
		}
		w := tabwriter.NewWriter(stdout, 2, 4, 2, ' ', 0)
		fmt.Fprintln(w, "LOGIN\tID\tNAME\tROLES\tAGENCY\tSTATE\tCHANGED")
		for _, a := range list {
			state := "enabled"
			if a.Disabled {
				state = "disabled"
			}
			fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", a.Login, a.ID, a.Name, strings.Join(a.Roles, ","), a.Agency, state, a.Updated.Format(time.DateOnly))
		}
		return w.Flush()
	}
}

func roleNames(roles []commands.Role) []string {
	out := make([]string, len(roles))
	for i, r := range roles {
		out[i] = string(r)
	}
	return out
}

// readPassword reads the password from file ("-": stdin), trimming the line's end; without a file
// it makes one (made).
func readPassword(file string, stdin io.Reader) (password string, made bool, err error) {
	if file == "" {
		return newPassword(), true, nil
	}
	var data []byte
	if file == "-" {
		data, err = io.ReadAll(io.LimitReader(stdin, session.MaxPasswordBytes+2))
	} else {
		data, err = os.ReadFile(file)
	}
	if err != nil {
		return "", false, err
	}
	return strings.TrimRight(string(data), "\r\n"), false, nil
}

// newPassword is 16 random characters of base64url: 96 bits.
func newPassword() string { return session.RandomToken()[:16] }

// officialOptions are serve's flags for how officials sign in to the pages: the province's
// identity provider's client (its issuer, client id and claims are signInOptions'), local
// accounts, and the sessions' timeouts.
type officialOptions struct {
	secretFile, redirectURL, scopes string
	idle, absolute                  time.Duration
	localAccounts                   bool
	localAccountsSet                bool
}

func addOfficialFlags(fs *flag.FlagSet) *officialOptions {
	o := &officialOptions{}
	fs.StringVar(&o.secretFile, "oidc-client-secret-file", "", "file holding motcua's client secret at the officials' identity provider (kept off the command line); with --oidc-issuer, officials sign in to the pages there")
	fs.StringVar(&o.redirectURL, "oidc-redirect-url", "", "motcua's callback as registered at the officials' provider, https://<public address>"+mhttp.OfficialCallbackPath+" (default: --public-url followed by it); the provider must also accept <public address>/can-bo/dang-nhap after a sign-out")
	fs.StringVar(&o.scopes, "oidc-scopes", "profile", "scopes asked of the officials' provider besides openid, space-separated (e.g. \"profile roles\")")
	fs.DurationVar(&o.idle, "official-session-idle", session.DefaultTimeouts.Idle, "an official's page session ends after this long without a request")
	fs.DurationVar(&o.absolute, "official-session-max", session.DefaultTimeouts.Absolute, "an official's page session ends this long after sign-in, whatever")
	fs.Func("local-accounts", "officials may sign in with a local account's password (motcua officials add): true without --oidc-issuer, false with it unless given", func(v string) error {
		b, err := parseBool(v)
		o.localAccounts, o.localAccountsSet = b, true
		return err
	})
	return o
}

func parseBool(v string) (bool, error) {
	switch v {
	case "", "true", "1", "yes":
		return true, nil
	case "false", "0", "no":
		return false, nil
	}
	return false, fmt.Errorf("%q is not true or false", v)
}

// demoOfficialsClient is the officials' client at the demo identity provider (started with the
// citizens' when serve runs --demo without --oidc-issuer), and the demo officials it lets in.
type demoOfficialsClient struct {
	client demoidp.Client
	people []demoidp.Person
}

// demoClient registers the officials at the demo provider: with --demo and no provider of the
// province's configured; nil otherwise.
func (o *officialOptions) demoClient(signIn *signInOptions, withDemo bool, officials []commands.Caller, publicURL string, motcuaAddr net.Addr) *demoOfficialsClient {
	if !withDemo || signIn.issuer != "" {
		return nil
	}
	base := "http://" + localAddress(motcuaAddr)
	if publicURL != "" {
		base = strings.TrimSuffix(publicURL, "/")
	}
	c := &demoOfficialsClient{client: demoidp.Client{ID: "motcua-demo-officials", Secret: session.RandomToken(),
		RedirectURIs: []string{base + mhttp.OfficialCallbackPath}, PostLogoutRedirectURIs: []string{base + "/can-bo/dang-nhap"}}}
	for _, official := range officials {
		about := string(official.Roles[0])
		if official.Agency != "" {
			about += " · " + official.Agency
		}
		c.people = append(c.people, demoidp.Person{Subject: official.ID, Name: official.Name, About: about, Clients: []string{c.client.ID},
			Claims: map[string]any{"roles": roleNames(official.Roles), "agency": official.Agency}})
	}
	return c
}

// build wires the officials' sign-in to the pages: the province's provider when --oidc-issuer is
// given (or the demo provider, demoIssuer, that serve --demo started), local accounts, API tokens
// where the API accepts local tokens, and the sessions in the durable database.
func (o *officialOptions) build(ctx context.Context, d *deployment, signIn *signInOptions, publicURL string, demo *demoOfficialsClient, demoIssuer string) (*mhttp.OfficialSignIn, error) {
	if o.idle <= 0 || o.absolute <= 0 || o.idle > o.absolute {
		return nil, errors.New("--official-session-idle and --official-session-max must be positive, the idle timeout no longer than the other")
	}
	sessions, err := session.New(d.ReadDB, d.Dialect(), session.Timeouts{Idle: o.idle, Absolute: o.absolute, Attempt: session.DefaultTimeouts.Attempt})
	if err != nil {
		return nil, err
	}
	if err := sessions.Migrate(ctx); err != nil {
		return nil, err
	}
	cfg := mhttp.OfficialSignInConfig{Sessions: sessions, Tokens: signIn.issuer == "" || signIn.localTokens}
	if passwords := o.localAccounts || (!o.localAccountsSet && signIn.issuer == ""); passwords {
		if cfg.Accounts, err = session.NewAccounts(d.ReadDB, d.Dialect()); err != nil {
			return nil, err
		}
		if err := cfg.Accounts.Migrate(ctx); err != nil {
			return nil, err
		}
	}
	mapping := mhttp.OIDCConfig{Issuer: signIn.issuer, ClientID: signIn.clientID, IDClaim: signIn.idClaim, NameClaim: signIn.nameClaim,
		RolesClaim: signIn.rolesClaim, AgencyClaim: signIn.agencyClaim, RolePrefix: signIn.rolePrefix}
	switch {
	case signIn.issuer != "":
		provider := &mhttp.OfficialProvider{OIDCConfig: mapping, RedirectURL: o.redirectURL, Scopes: strings.Fields(o.scopes)}
		if provider.RedirectURL == "" && publicURL != "" {
			provider.RedirectURL = strings.TrimSuffix(publicURL, "/") + mhttp.OfficialCallbackPath
		}
		if o.secretFile != "" {
			secret, err := os.ReadFile(o.secretFile)
			if err != nil {
				return nil, fmt.Errorf("--oidc-client-secret-file: %w", err)
			}
			provider.ClientSecret = strings.TrimSpace(string(secret))
		}
		if provider.RedirectURL != "" {
			cfg.Provider = provider
		}
	case demo != nil && demoIssuer != "":
		mapping.Issuer, mapping.ClientID = demoIssuer, demo.client.ID
		cfg.Provider = &mhttp.OfficialProvider{OIDCConfig: mapping, ClientSecret: demo.client.Secret, RedirectURL: demo.client.RedirectURIs[0]}
	}
	return mhttp.NewOfficialSignIn(ctx, cfg)
}

// demoLogins creates (or resets) a local account for each demo official with a password new at
// every start, and prints the log-ins.
func demoLogins(ctx context.Context, d *deployment, officials []commands.Caller, motcua string, viaProvider bool, w io.Writer) error {
	accounts, err := session.NewAccounts(d.ReadDB, d.Dialect())
	if err != nil {
		return err
	}
	accounts.WithHashCost(session.DemoHashCost)
	fmt.Fprintf(w, "Demo officials sign in at %s/can-bo/dang-nhap", motcua)
	if viaProvider {
		fmt.Fprint(w, " through the demo identity provider, or")
	}
	fmt.Fprintln(w, " with a login and password (new at every start):")
	for _, o := range officials {
		password := newPassword()
		if err := accounts.Put(ctx, session.Account{Login: o.ID, ID: o.ID, Name: o.Name, Roles: roleNames(o.Roles), Agency: o.Agency}, password); err != nil {
			return fmt.Errorf("demo account %s: %w", o.ID, err)
		}
		fmt.Fprintf(w, "  %-22s %-11s %-15s login %-18s password %s\n", o.Name, o.Roles[0], o.Agency, o.ID, password)
	}
	return nil
}
