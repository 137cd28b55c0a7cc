package http

import (
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/go-chi/chi/v5"

	"github.com/motcua/motcua/commands"
	"github.com/motcua/motcua/domain"
	"github.com/motcua/motcua/integrations/portal/inbound"
	"github.com/motcua/motcua/projections"
)

// The catalog with its history (docs/api.md, "The catalog"; docs/catalog.md, "The catalog's
// history"): every official reads the catalog in force at a date and the history of each procedure
// and agency — inspectors check which fees and workflow applied when; admins publish, amend and
// withdraw, and import the national procedure database's list after a dry run.

// maxImportBytes bounds an import: a province's list of some two thousand procedures is a few MB.
const maxImportBytes = 16 << 20

func (s *Server) catalogRoutes(r chi.Router) {
	r.With(s.catalogReader).Get("/catalog/procedures", s.catalogProcedures)
	r.With(s.catalogReader).Get("/catalog/procedures/{code}", s.catalogProcedure)
	r.With(s.catalogReader).Get("/catalog/procedures/{code}/history", s.catalogVersionsOf(domain.CatalogKindProcedure))
	r.With(s.catalogReader).Get("/catalog/agencies", s.catalogAgencies)
	r.With(s.catalogReader).Get("/catalog/agencies/{code}/history", s.catalogVersionsOf(domain.CatalogKindAgency))
	r.With(s.catalogReader).Get("/catalog/history", s.catalogHistory)
	r.Post("/catalog/procedures", s.publishProcedure)
	r.Post("/catalog/procedures/{code}/withdraw", s.withdrawProcedure)
	r.Post("/catalog/agencies", s.publishAgency)
	r.Post("/catalog/agencies/{code}/withdraw", s.withdrawAgency)
}

// catalogImportRoutes hold the import, outside the idempotency keys (whose body limit is a
// dossier's): an import repeated after it was recorded is refused by its revision (409).
func (s *Server) catalogImportRoutes(r chi.Router) {
	r.Post("/catalog/import", s.importCatalog)
}

// catalogReader lets through the officials who read anything (commands.ScopeFor): those of an
// agency, inspectors and admins; an official of no agency reads nothing, the catalog included.
func (s *Server) catalogReader(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if _, err := commands.ScopeFor(callerOf(r.Context()), ""); err != nil {
			s.writeError(w, r, err)
			return
		}
		next.ServeHTTP(w, r)
	})
}

// catalogMoment reads ?at= (YYYY-MM-DD: that day's end, Vietnam time, or an RFC 3339 instant);
// absent: now.
func (s *Server) catalogMoment(r *http.Request) (time.Time, error) {
	at := r.URL.Query().Get("at")
	if at == "" {
		return s.now(), nil
	}
	if day, err := time.ParseInLocation(time.DateOnly, at, domain.VietnamTime); err == nil {
		return day.AddDate(0, 0, 1).Add(-time.Nanosecond), nil
	}
	if t, err := time.Parse(time.RFC3339, at); err == nil {
		return t, nil
	}
	return time.Time{}, invalid("at", "must be a date YYYY-MM-DD or an RFC 3339 instant")
}

// catalogVersionAnswer is one version of a procedure or agency, with who recorded it.
type catalogVersionAnswer struct {
	domain.CatalogVersion
	RecordedBy catalogActor `json:"recorded_by"`
}

type catalogActor struct {
	ID   string `json:"id"`
	Name string `json:"name"`
}

// catalogEntry is a procedure or agency in force at a moment: its content and the version's
// revision and change.
type catalogEntry struct {
	Code      string               `json:"code"`
	Name      string               `json:"name"`
	Revision  uint64               `json:"revision"`
	Change    domain.CatalogChange `json:"change"`
	Procedure *domain.Procedure    `json:"procedure,omitempty"`
	Agency    *domain.Agency       `json:"agency,omitempty"`
}

// catalogAnswer is a page of the catalog at a moment, and the catalog's revision then.
type catalogAnswer struct {
	At       time.Time `json:"at"`
	Revision uint64    `json:"revision"`
	projections.Page[catalogEntry]
}

func (s *Server) catalogPage(w http.ResponseWriter, r *http.Request, kind string) {
	at, err := s.catalogMoment(r)
	var v domain.Validation
	if err != nil {
		v.Add("at", "must be a date YYYY-MM-DD or an RFC 3339 instant")
	}
	req, field, problem := projections.ParsePageRequest(r.URL.Query().Get("limit"), r.URL.Query().Get("after"))
	if field != "" {
		v.Add(field, "%s", problem)
	}
	if len(req.After) > 1 || (len(req.After) == 1 && !validCatalogCode(req.After[0])) ||
		(len(req.After) == 1 && kind == domain.CatalogKindAgency && !domain.ValidUnitCode(req.After[0])) {
		v.Add("after", "%s", projections.ErrBadCursor.Error())
	}
	if err := v.Err(); err != nil {
		s.writeError(w, r, err)
		return
	}
	catalog, history, err := s.app.CatalogAt(r.Context(), at)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	var entries []catalogEntry
	if kind == domain.CatalogKindProcedure {
		for i := range catalog.Procedures {
			p := &catalog.Procedures[i]
			entries = append(entries, catalogEntry{Code: p.Code, Name: p.Name, Procedure: p})
		}
	} else {
		for i := range catalog.Agencies {
			a := &catalog.Agencies[i]
			entries = append(entries, catalogEntry{Code: a.Code, Name: a.Name, Agency: a})
		}
	}
	slices.SortFunc(entries, func(a, b catalogEntry) int { return strings.Compare(a.Code, b.Code) })
	total := len(entries)
	if len(req.After) == 1 {
		from, _ := slices.BinarySearchFunc(entries, req.After[0], func(e catalogEntry, code string) int {
			return strings.Compare(e.Code, code+"\x00")
		})
		entries = entries[from:]
	}
	entries = entries[:min(len(entries), req.Size()+1)]
	for i := range entries {
		if version, ok := inForce(history, kind, entries[i].Code, at); ok {
			entries[i].Revision, entries[i].Change = version.Revision, version.Change
		}
	}
	page := projections.PageOf(entries, req.Size(), func(e catalogEntry) projections.Cursor { return projections.Cursor{e.Code} })
	page.Total = total
	writeJSON(w, http.StatusOK, catalogAnswer{At: at, Revision: history.Revision, Page: page})
}

// inForce is the version of kind/code in force at t, as At chooses it; false when none or withdrawn.
func inForce(h *domain.CatalogHistory, kind, code string, t time.Time) (domain.CatalogVersion, bool) {
	v, ok := h.InForce(kind, code, t, h.Revision)
	return v, ok && !v.Withdrawn
}

// catalogProcedures: GET /api/v1/catalog/procedures?at=&limit=&after= — the procedures in force
// at a date (now by default), by code, paged.
func (s *Server) catalogProcedures(w http.ResponseWriter, r *http.Request) {
	s.catalogPage(w, r, domain.CatalogKindProcedure)
}

// catalogAgencies: GET /api/v1/catalog/agencies?at=&limit=&after= — the agencies, likewise.
func (s *Server) catalogAgencies(w http.ResponseWriter, r *http.Request) {
	s.catalogPage(w, r, domain.CatalogKindAgency)
}

// catalogProcedure: GET /api/v1/catalog/procedures/{code}?at= — one procedure as in force at a
// date: "which workflow and fees applied on 12/3/2025".
func (s *Server) catalogProcedure(w http.ResponseWriter, r *http.Request) {
	at, err := s.catalogMoment(r)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	_, history, err := s.app.CatalogAt(r.Context(), at)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	code := chi.URLParam(r, "code")
	version, ok := inForce(history, domain.CatalogKindProcedure, code, at)
	if !ok {
		s.writeError(w, r, domain.Errorf(domain.ENOTFOUND, "procedure %s was not in force at %s", code, at.In(domain.VietnamTime).Format(time.RFC3339)))
		return
	}
	writeJSON(w, http.StatusOK, s.versionAnswer(version))
}

func (s *Server) versionAnswer(v domain.CatalogVersion) catalogVersionAnswer {
	actor := s.app.CatalogRecordedBy(v.Revision)
	return catalogVersionAnswer{CatalogVersion: v, RecordedBy: catalogActor{ID: actor.ID, Name: actor.Name}}
}

// versionsPage pages versions newest first; the cursor is the position in the history.
func (s *Server) versionsPage(w http.ResponseWriter, r *http.Request, versions []domain.CatalogVersion, positions []int) {
	req, field, problem := projections.ParsePageRequest(r.URL.Query().Get("limit"), r.URL.Query().Get("after"))
	if field != "" {
		s.writeError(w, r, invalid(field, problem))
		return
	}
	before := len(versions)
	if len(req.After) > 0 {
		n, err := strconv.Atoi(req.After[0])
		if err != nil || len(req.After) != 1 || n < 0 {
			s.writeError(w, r, invalid("after", projections.ErrBadCursor.Error()))
			return
		}
		before, _ = slices.BinarySearch(positions, n)
	}
	page := projections.Page[catalogVersionAnswer]{Items: []catalogVersionAnswer{}, Total: len(versions)}
	for i := before - 1; i >= 0 && len(page.Items) < req.Size(); i-- {
		page.Items = append(page.Items, s.versionAnswer(versions[i]))
		if len(page.Items) == req.Size() && i > 0 {
			page.Next = projections.Cursor{strconv.Itoa(positions[i])}.Encode()
		}
	}
	writeJSON(w, http.StatusOK, page)
}

// catalogVersionsOf: GET /api/v1/catalog/procedures/{code}/history (agencies likewise) — every
// version of one procedure, newest first, with its basis, date of effect, who recorded it and when.
func (s *Server) catalogVersionsOf(kind string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if err := s.app.RefreshCatalog(r.Context()); err != nil {
			s.writeError(w, r, err)
			return
		}
		code := chi.URLParam(r, "code")
		var versions []domain.CatalogVersion
		var positions []int
		for i, v := range s.app.CatalogHistory().Versions() {
			if v.Kind == kind && v.Code == code {
				versions, positions = append(versions, v), append(positions, i)
			}
		}
		if len(versions) == 0 {
			s.writeError(w, r, domain.Errorf(domain.ENOTFOUND, "%s %s has no history in the catalog", kind, code))
			return
		}
		s.versionsPage(w, r, versions, positions)
	}
}

// catalogHistory: GET /api/v1/catalog/history — every change of the catalog, newest first, paged.
func (s *Server) catalogHistory(w http.ResponseWriter, r *http.Request) {
	if err := s.app.RefreshCatalog(r.Context()); err != nil {
		s.writeError(w, r, err)
		return
	}
	versions := s.app.CatalogHistory().Versions()
	positions := make([]int, len(versions))
	for i := range positions {
		positions[i] = i
	}
	s.versionsPage(w, r, versions, positions)
}

func (s *Server) publishProcedure(w http.ResponseWriter, r *http.Request) {
	var in commands.PublishProcedureInput
	if err := decodeBody(r, &in); err != nil {
		s.writeError(w, r, err)
		return
	}
	s.catalogChanged(w, r)(s.app.PublishProcedure(r.Context(), callerOf(r.Context()), in))
}

func (s *Server) publishAgency(w http.ResponseWriter, r *http.Request) {
	var in commands.PublishAgencyInput
	if err := decodeBody(r, &in); err != nil {
		s.writeError(w, r, err)
		return
	}
	s.catalogChanged(w, r)(s.app.PublishAgency(r.Context(), callerOf(r.Context()), in))
}

func (s *Server) withdrawProcedure(w http.ResponseWriter, r *http.Request) {
	var in commands.CatalogWithdrawInput
	if err := decodeBody(r, &in); err != nil {
		s.writeError(w, r, err)
		return
	}
	in.Code = chi.URLParam(r, "code")
	s.catalogChanged(w, r)(s.app.WithdrawProcedure(r.Context(), callerOf(r.Context()), in))
}

func (s *Server) withdrawAgency(w http.ResponseWriter, r *http.Request) {
	var in commands.CatalogWithdrawInput
	if err := decodeBody(r, &in); err != nil {
		s.writeError(w, r, err)
		return
	}
	in.Code = chi.URLParam(r, "code")
	s.catalogChanged(w, r)(s.app.WithdrawAgency(r.Context(), callerOf(r.Context()), in))
}

func (s *Server) catalogChanged(w http.ResponseWriter, r *http.Request) func(commands.CatalogResult, error) {
	return func(res commands.CatalogResult, err error) {
		if err != nil {
			s.writeError(w, r, err)
			return
		}
		writeJSON(w, http.StatusOK, res)
	}
}

// importDiff is what an import would change (the dry run's answer) or changed.
type importDiff struct {
	DryRun   bool          `json:"dry_run"`
	Revision uint64        `json:"revision"` // the catalog's revision compared with: send it back to apply
	Listed   int           `json:"listed"`
	Changed  []importEntry `json:"changed"`
	Removed  []importEntry `json:"removed"`
	// Added are on the list but not in the catalog: not imported, since their competent agency and
	// internal workflow are the province's to give (publish each with POST /catalog/procedures).
	Added  []importEntry           `json:"added"`
	Result *commands.CatalogResult `json:"result,omitempty"`
}

type importEntry struct {
	Code    string              `json:"code"`
	Name    string              `json:"name"`
	Changes []importFieldChange `json:"changes,omitempty"`
}

type importFieldChange struct {
	Field string `json:"field"`
	Old   string `json:"old"`
	New   string `json:"new"`
}

// importCatalog: POST /api/v1/catalog/import?dry_run=true|false&basis=…&effective_from=…&revision=N
// — admins only. The body is the national procedure database's list (JSON as LayDanhSachTTHC
// answers it, or the same columns as an .xlsx workbook: docs/catalog.md). The dry run answers the
// differences and the revision they were computed at; applying sends that revision back and
// records the changes and removals as one change of the catalog.
func (s *Server) importCatalog(w http.ResponseWriter, r *http.Request) {
	caller := callerOf(r.Context())
	if !caller.Has(commands.RoleAdmin) {
		s.writeError(w, r, domain.Errorf(domain.EFORBIDDEN, "only an administrator imports the catalog"))
		return
	}
	q := r.URL.Query()
	var v domain.Validation
	dryRun := q.Get("dry_run") != "false"
	v.Check(slices.Contains([]string{"", "true", "false"}, q.Get("dry_run")), "dry_run", "must be true or false")
	var revision uint64
	if !dryRun {
		n, err := strconv.ParseUint(q.Get("revision"), 10, 64)
		v.Check(err == nil, "revision", "is required to apply: the revision the dry run answered")
		revision = n
	}
	if err := v.Err(); err != nil {
		s.writeError(w, r, err)
		return
	}
	body, err := readBody(r, maxImportBytes)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	list, err := inbound.ParseProcedureExport(body, r.Header.Get("Content-Type"))
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	catalog, history, err := s.app.CatalogAt(r.Context(), s.now())
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	diff := inbound.DiffCatalog(catalog, list)
	answer := importDiff{DryRun: dryRun, Revision: history.Revision, Listed: len(list.Result), Changed: []importEntry{}, Removed: []importEntry{}, Added: []importEntry{}}
	for _, c := range diff.Changed {
		e := importEntry{Code: c.Code, Name: c.Name}
		for _, f := range c.Changes {
			e.Changes = append(e.Changes, importFieldChange{Field: f.Field, Old: f.Old, New: f.New})
		}
		answer.Changed = append(answer.Changed, e)
	}
	for _, p := range diff.Removed {
		answer.Removed = append(answer.Removed, importEntry{Code: p.Code, Name: p.Name})
	}
	for _, p := range diff.Added {
		answer.Added = append(answer.Added, importEntry{Code: p.Code, Name: p.Name})
	}
	if dryRun || diff.Empty() || len(diff.Changed)+len(diff.Removed) == 0 {
		writeJSON(w, http.StatusOK, answer) // nothing to record: new procedures need the province's part first
		return
	}
	in := commands.ImportInput{CatalogTermsInput: commands.CatalogTermsInput{Basis: domain.NormalizeText(q.Get("basis")),
		EffectiveFrom: q.Get("effective_from"), Revision: revision}, Procedures: diff.Updated(), Withdrawn: diff.RemovedCodes()}
	res, err := s.app.ImportCatalog(r.Context(), caller, in)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	answer.Result = &res
	writeJSON(w, http.StatusOK, answer)
}
