package http

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"regexp"
	"strings"

	"github.com/go-chi/chi/v5"

	"github.com/motcua/motcua/domain"
	"github.com/motcua/motcua/http/httpkit"
	"github.com/motcua/motcua/http/session"
	"github.com/motcua/motcua/l10n"
	"github.com/motcua/motcua/projections"
)

// Citizens sign in through the national identity provider (VNeID in production, integrations/demoidp
// in the demo and the tests) with the OpenID Connect authorization code flow: PKCE (S256), state
// bound to the browser by a cookie, nonce checked in the ID token. motcua then keeps a server-side
// session (http/session) and gives the browser only its random token, in a cookie of its own —
// never the officials' cookie nor a bearer token, so the two kinds of account never mix
// (docs/citizens.md, docs/security.md "Citizens' sign-in").

// The citizens' routes and cookies.
const (
	CitizenSignInPath   = "/cong-dan/dang-nhap"
	CitizenCallbackPath = "/cong-dan/dang-nhap/callback"
	CitizenSignOutPath  = "/cong-dan/dang-xuat"
	// CitizenHomePath is where a citizen lands once signed in: "Hồ sơ của tôi".
	CitizenHomePath = "/ho-so-cua-toi"

	citizenCookie = "motcua_citizen"
	attemptCookie = "motcua_signin"
)

// CitizenSignInConfig says how to reach the citizens' identity provider and read its ID tokens.
// Claim names are paths as in OIDCConfig ("pid", or "vneid.pid" for a nested claim).
type CitizenSignInConfig struct {
	Issuer       string // the provider's issuer URL (discovery at Issuer + "/.well-known/openid-configuration")
	ClientID     string
	ClientSecret string
	// RedirectURL is motcua's callback as registered at the provider: its public address followed by
	// CitizenCallbackPath.
	RedirectURL string
	// IDClaim carries the 12-digit personal identification number; "identification_number" when empty.
	IDClaim    string
	NameClaim  string // "name" when empty
	PhoneClaim string // "phone_number" when empty
	EmailClaim string // "email" when empty
	// Scopes asked for besides openid; profile, email and phone when empty.
	Scopes     []string
	HTTPClient *http.Client // for discovery, keys and the token endpoint; http.DefaultClient when nil
	// Sessions keeps the sessions and the sign-ins in flight.
	Sessions *session.Store
	// IndexKey keys the blind index a citizen's dossiers are found by (projections.CitizenDossiersView).
	IndexKey projections.ApplicantIndexKey
}

// CitizenSignIn is the citizens' relying party: the provider's endpoints and keys, found by discovery.
type CitizenSignIn struct {
	cfg CitizenSignInConfig
	rp  *relyingParty
}

// personalNumber is the 12-digit personal identification number (Luật Căn cước 2023, art. 12).
var personalNumber = regexp.MustCompile(`^[0-9]{12}$`)

// NewCitizenSignIn reads the provider's discovery document and checks the configuration.
func NewCitizenSignIn(ctx context.Context, cfg CitizenSignInConfig) (*CitizenSignIn, error) {
	if cfg.Sessions == nil || len(cfg.IndexKey) == 0 {
		return nil, errors.New("citizens' sign-in: a session store and the blind index key are required")
	}
	setDefault(&cfg.IDClaim, "identification_number")
	setDefault(&cfg.NameClaim, "name")
	setDefault(&cfg.PhoneClaim, "phone_number")
	setDefault(&cfg.EmailClaim, "email")
	if len(cfg.Scopes) == 0 {
		cfg.Scopes = []string{"profile", "email", "phone"}
	}
	rp, err := newRelyingParty(ctx, relyingPartyConfig{kind: session.Citizen, callbackPath: CitizenCallbackPath, issuer: cfg.Issuer,
		clientID: cfg.ClientID, clientSecret: cfg.ClientSecret, redirectURL: cfg.RedirectURL, scopes: cfg.Scopes, client: cfg.HTTPClient,
		sessions: cfg.Sessions, what: "citizens' sign-in"})
	if err != nil {
		return nil, err
	}
	return &CitizenSignIn{cfg: cfg, rp: rp}, nil
}

// citizenRoutes mounts the sign-in, its callback, the sign-out and the citizen's API.
func (s *Server) citizenRoutes(r chi.Router) {
	if s.citizens == nil {
		return
	}
	r.Get(CitizenSignInPath, s.citizenSignIn)
	r.Get(CitizenCallbackPath, s.citizenCallback)
	r.Post(CitizenSignOutPath, s.citizenSignOut)
}

func (s *Server) citizenAPIRoutes(r chi.Router) {
	if s.citizens == nil {
		return
	}
	r.Group(func(r chi.Router) {
		r.Use(s.requireCitizen)
		r.Get("/me", s.getMe)
		r.Get("/me/dossiers", s.listMyDossiers)
		s.citizenJourneyRoutes(r)
	})
}

// safeCitizenNext keeps the post-sign-in redirect on motcua's own citizen pages.
func safeCitizenNext(next string) string {
	if strings.HasPrefix(next, "/") && !strings.HasPrefix(next, "//") && !strings.HasPrefix(next, "/\\") &&
		!strings.HasPrefix(next, "/can-bo") && !strings.HasPrefix(next, "/api/") {
		return next
	}
	return CitizenHomePath
}

// citizenSignIn begins a sign-in at the citizens' provider.
func (s *Server) citizenSignIn(w http.ResponseWriter, r *http.Request) {
	if err := s.citizens.rp.begin(w, r, safeCitizenNext(r.URL.Query().Get("next"))); err != nil {
		s.writeError(w, r, err)
	}
}

// citizenCallback takes the provider's answer (relyingParty.finish); the ID token must carry a
// 12-digit personal identification number; then the session starts.
func (s *Server) citizenCallback(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	ans, err := s.citizens.rp.finish(w, r)
	if errors.Is(err, errRefused) {
		s.refuseSignIn(w, r, err)
		return
	}
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	cfg := s.citizens.cfg
	number := claimString(ans.claims, cfg.IDClaim)
	if !personalNumber.MatchString(number) {
		s.refuseSignIn(w, r, domain.Errorf(domain.EUNAUTHORIZED, "the ID token's %q claim is not a 12-digit personal identification number", cfg.IDClaim))
		return
	}
	sess := session.Session{Kind: session.Citizen, Subject: ans.token.Subject, Holder: cfg.IndexKey.Of(number), Claims: map[string]string{
		"name": domain.NormalizeText(claimString(ans.claims, cfg.NameClaim)), "id_number": number,
		"phone": claimString(ans.claims, cfg.PhoneClaim), "email": claimString(ans.claims, cfg.EmailClaim)}}
	sessionToken, err := cfg.Sessions.Create(ctx, sess)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	s.logger.InfoContext(ctx, "citizen signed in", "subject", ans.token.Subject)
	http.SetCookie(w, &http.Cookie{Name: citizenCookie, Value: sessionToken, Path: "/", HttpOnly: true, SameSite: http.SameSiteLaxMode, Secure: httpkit.SecureCookie(r)})
	http.Redirect(w, r, ans.attempt.Next, http.StatusSeeOther)
}

// SignInFailedQuery is added to "Hồ sơ của tôi"'s address when a browser's sign-in was refused.
const SignInFailedQuery = "dang-nhap=that-bai"

// refuseSignIn answers a refused sign-in: an API client gets the problem; a browser (it asks for
// HTML) is sent back to "Hồ sơ của tôi", which says in words that the sign-in failed and offers to
// start again — the reason goes to the log, not to the page.
func (s *Server) refuseSignIn(w http.ResponseWriter, r *http.Request, err error) {
	if !strings.Contains(r.Header.Get("Accept"), "text/html") {
		s.writeError(w, r, refusal(err))
		return
	}
	s.logger.WarnContext(r.Context(), "citizen sign-in refused", "err", err)
	http.Redirect(w, r, CitizenHomePath+"?"+SignInFailedQuery, http.StatusSeeOther)
}

// citizenSignOut ends the session in the database, whatever the browser does with its cookie.
// SameSite=Lax keeps the cookie off other sites' posts, so no other site can sign a citizen out.
func (s *Server) citizenSignOut(w http.ResponseWriter, r *http.Request) {
	if c, err := r.Cookie(citizenCookie); err == nil {
		if err := s.citizens.cfg.Sessions.End(r.Context(), c.Value); err != nil {
			s.writeError(w, r, err)
			return
		}
	}
	http.SetCookie(w, &http.Cookie{Name: citizenCookie, Value: "", Path: "/", MaxAge: -1, HttpOnly: true, SameSite: http.SameSiteLaxMode, Secure: httpkit.SecureCookie(r)})
	http.Redirect(w, r, "/tra-cuu", http.StatusSeeOther)
}

type citizenKey struct{}

func citizenOf(ctx context.Context) session.Session {
	c, _ := ctx.Value(citizenKey{}).(session.Session)
	return c
}

// requireCitizen admits requests carrying a live citizen's session cookie and nothing else: a
// request with an Authorization header — an official's token — is refused outright, so an
// official's credentials never read a citizen's space, even beside a citizen's cookie.
func (s *Server) requireCitizen(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "no-store")
		if r.Header.Get("Authorization") != "" {
			s.writeError(w, r, domain.Errorf(domain.EFORBIDDEN, "this is a citizen's endpoint: an official's token is not accepted here; sign in as a citizen at %s", CitizenSignInPath))
			return
		}
		if !sameOrigin(r) {
			s.writeError(w, r, domain.Errorf(domain.EFORBIDDEN, "a citizen's change must come from motcua's own pages, not from another site"))
			return
		}
		c, err := r.Cookie(citizenCookie)
		var sess session.Session
		if err == nil {
			sess, err = s.citizens.cfg.Sessions.Get(r.Context(), c.Value, session.Citizen)
		}
		if err != nil {
			if !errors.Is(err, http.ErrNoCookie) && !errors.Is(err, session.ErrNoSession) {
				s.writeError(w, r, err)
				return
			}
			s.writeError(w, r, domain.Errorf(domain.EUNAUTHORIZED, "no citizen is signed in (or the session ended); sign in at %s", CitizenSignInPath))
			return
		}
		next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), citizenKey{}, sess)))
	})
}

// sameOrigin refuses a citizen's write sent from another site: beside the session cookie's
// SameSite=Lax (which keeps it off other sites' posts), a write whose browser says it comes from
// elsewhere (Sec-Fetch-Site, or else an Origin of another host) is refused, so no other site can
// submit or answer in a citizen's name. A request without either (a script, an API client, an old
// browser) is judged by its cookie alone.
func sameOrigin(r *http.Request) bool {
	if r.Method == http.MethodGet || r.Method == http.MethodHead || r.Method == http.MethodOptions {
		return true
	}
	// The browser's own word first: pages sent with Referrer-Policy no-referrer make it send
	// "Origin: null" on their forms, which says nothing.
	if site := r.Header.Get("Sec-Fetch-Site"); site != "" {
		return site == "same-origin" || site == "none"
	}
	origin := r.Header.Get("Origin")
	if origin == "" || origin == "null" {
		return true
	}
	u, err := url.Parse(origin)
	return err == nil && u.Host == r.Host
}

func (s *Server) getMe(w http.ResponseWriter, r *http.Request) {
	sess := citizenOf(r.Context())
	writeJSON(w, http.StatusOK, httpkit.Me{Subject: sess.Subject, Name: sess.Claims["name"], IDNumber: sess.Claims["id_number"],
		Phone: sess.Claims["phone"], Email: sess.Claims["email"], SignedInAt: sess.Created,
		ExpiresAt: sess.Created.Add(s.citizens.cfg.Sessions.Timeouts().Absolute)})
}

func (s *Server) listMyDossiers(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	req, field, problem := projections.ParsePageRequest(q.Get("limit"), q.Get("after"))
	if field != "" {
		s.writeError(w, r, invalid(field, problem))
		return
	}
	index := s.citizens.cfg.IndexKey.Of(citizenOf(r.Context()).Claims["id_number"])
	page, err := projections.CitizenDossiersOf(r.Context(), s.readDB, index, req, s.now())
	if errors.Is(err, projections.ErrBadCursor) {
		s.writeError(w, r, invalid("after", err.Error()))
		return
	}
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	out := httpkit.MyDossierPage{Items: make([]httpkit.MyDossier, 0, len(page.Items)), Next: page.Next, Total: page.Total, TotalEstimated: page.TotalEstimated}
	for _, d := range page.Items {
		p := d.Status
		item := httpkit.MyDossier{DossierID: d.DossierID, Code: p.Code, Status: p.Status, StatusVI: l10n.VI.Status(p.Status), StatusEN: l10n.EN.Status(p.Status),
			ProcedureCode: p.ProcedureCode, ProcedureName: p.ProcedureName, Since: d.Since, AppointmentDate: p.AppointmentDate, Late: p.Late}
		item.URL = myDossierURL(d.DossierID)
		if p.Status == domain.StatusSupplementRequested {
			// The request's missing items, from the dossier itself: a page holds few such dossiers.
			if own, _, err := s.app.OwnDossier(r.Context(), citizen(r.Context()), d.DossierID); err == nil && own.PendingSupplement != nil {
				item.MissingItems = own.PendingSupplement.MissingItems
			}
		}
		if p.Code != "" {
			item.StatusURL = "/tra-cuu/" + url.PathEscape(p.Code)
			item.EventsURL = "/api/v1/public/dossiers/" + url.PathEscape(p.Code) + "/events"
		}
		out.Items = append(out.Items, item)
	}
	writeJSON(w, http.StatusOK, out)
}
