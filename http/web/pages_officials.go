package web

import (
	"cmp"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/go-chi/chi/v5"

	"github.com/motcua/motcua/commands"
	"github.com/motcua/motcua/domain"
	"github.com/motcua/motcua/eventstore"
	"github.com/motcua/motcua/http/httpkit"
	"github.com/motcua/motcua/http/printform"
	"github.com/motcua/motcua/projections"
)

// maxFormBytes bounds a page form: an uploaded result document is hashed, never kept.
const maxFormBytes = 20 << 20

// queueView is the officials' work queue: one page of it, or for an inspector looking at every
// agency, one line per agency.
type queueView struct {
	Scope      string // "" the agency's own (what waits on its officials), involved, or mine
	Unit       string
	Agency     string
	Procedure  string
	Status     string
	DueWithin  int
	AllSeen    bool // inspectors and admins may look at every agency
	Units      []domain.Department
	Agencies   []domain.Agency
	Statuses   []domain.Status
	Items      []queueItem
	Total      int
	Estimated  bool // Total is a lower bound: the queue is longer
	Overdue    int
	NextURL    string // the page after this one, if any
	FirstURL   string // the first page, when this is not it
	Overview   bool   // one line per agency (Summary) rather than dossiers
	Summary    []agencySummary
	SummaryDue int // "due soon" horizon of the summary, in working days
}

type queueItem struct {
	projections.WorkItem
	Mine    bool
	Actions []domain.Action // what the official's roles may do now
	Alarms  []QueueAlarm    // its armed and fired deadline alarms, when the timers run
}

// MoreFiles counts the dossier's files its line does not list (the dossier page lists them).
func (q queueItem) MoreFiles() int { return q.FileCount - len(q.Files) }

// agencySummary is one agency's line of the inspector's overview, linking to its queue.
type agencySummary struct {
	projections.AgencyQueueSummary
	Name string
	URL  string
}

// maxQueueDueWithinDays bounds the queue's "due within" filter.
const maxQueueDueWithinDays = 60

func (s *Pages) queuePage(w http.ResponseWriter, r *http.Request) {
	l := langOf(w, r)
	caller, _ := officialOf(r)
	q := r.URL.Query()
	agencies, err := httpkit.ReadScope(caller, q.Get("co-quan"))
	if err != nil {
		s.renderScopeRefusal(w, r, caller, err)
		return
	}
	req, field, problem := projections.ParsePageRequest(q.Get("limit"), q.Get("after"))
	if field != "" {
		s.renderError(w, r, http.StatusBadRequest, "error.bad_page", field+" "+problem)
		return
	}
	page := &queueView{Scope: q.Get("pham-vi"), Unit: q.Get("don-vi"), Agency: agencies.Agency(), Procedure: q.Get("thu-tuc"),
		Status: q.Get("trang-thai"), AllSeen: caller.ProvinceWide(), Statuses: projections.QueueStatuses, SummaryDue: projections.SummaryDueWithinDays}
	if text := q.Get("han"); text != "" {
		n, err := strconv.Atoi(text)
		if err != nil || n < 1 || n > maxQueueDueWithinDays {
			s.renderError(w, r, http.StatusBadRequest, "error.bad_page", "han: 1–"+strconv.Itoa(maxQueueDueWithinDays))
			return
		}
		page.DueWithin = n
	}
	if page.Status != "" && !slices.Contains(projections.QueueStatuses, domain.Status(page.Status)) {
		s.renderError(w, r, http.StatusBadRequest, "error.bad_page", "trang-thai")
		return
	}
	if page.AllSeen {
		page.Agencies = s.app.Catalog().Agencies
	}
	if a, ok := s.app.Catalog().Agency(cmp.Or(agencies.Agency(), caller.Agency)); ok {
		page.Units = a.Departments
	}
	if agencies.All() && page.Scope == "" {
		// Every agency's queue starts in figures, one line per agency; "involved" or "mine" lists dossiers.
		s.queueSummaryPage(w, r, page)
		return
	}
	filter := projections.WorkQueueFilter{Agency: agencies, Unit: page.Unit, ProcedureCode: page.Procedure,
		Status: domain.Status(page.Status), DueWithinDays: page.DueWithin}
	switch page.Scope {
	case "mine":
		filter.OfficialID = caller.ID
	case "involved":
	default:
		// An agency's own queue: what waits on its officials now.
		filter.Responsible = agencies.Agency()
	}
	result, err := projections.WorkQueueOf(r.Context(), s.readDB, filter, req, s.app.Calendar, s.now())
	if errors.Is(err, projections.ErrBadCursor) {
		s.renderError(w, r, http.StatusBadRequest, "error.bad_page", "after "+err.Error())
		return
	}
	if err == nil {
		page.Overdue, err = projections.WorkQueueOverdueOf(r.Context(), s.readDB, filter, s.app.Calendar, s.now())
	}
	if err != nil {
		s.logger.ErrorContext(r.Context(), "work queue", "err", err)
		s.renderError(w, r, http.StatusInternalServerError, "error.internal")
		return
	}
	if err := s.record(r, httpkit.PersonalRead{List: httpkit.ListWorkQueue, Filter: q.Encode()}); err != nil {
		s.readNotRecorded(w, r, err)
		return
	}
	page.Total, page.Estimated = result.Total, result.TotalEstimated
	var alarms map[string][]QueueAlarm
	if s.alarms != nil && len(result.Items) > 0 {
		ids := make([]string, len(result.Items))
		for i, it := range result.Items {
			ids[i] = it.DossierID
		}
		if alarms, err = s.alarms(r.Context(), ids); err != nil {
			s.logger.ErrorContext(r.Context(), "work queue alarms", "err", err)
			s.renderError(w, r, http.StatusInternalServerError, "error.internal")
			return
		}
	}
	for _, it := range result.Items {
		if !s.documents {
			it.Files, it.FileCount = nil, 0 // not served: nothing to link to
		}
		page.Items = append(page.Items, queueItem{WorkItem: it, Mine: it.HolderOfficialID == caller.ID,
			Actions: actionsFor(caller, domain.Dossier{Status: it.Status}), Alarms: alarms[it.DossierID]})
	}
	if result.Next != "" {
		next := r.URL.Query()
		next.Set("after", result.Next)
		page.NextURL = "/can-bo?" + next.Encode()
	}
	if q.Get("after") != "" {
		first := r.URL.Query()
		first.Del("after")
		page.FirstURL = "/can-bo?" + first.Encode()
	}
	s.render(w, r, http.StatusOK, "queue", l.T("queue.title"), page)
}

// queueSummaryPage shows an inspector every agency's queue in figures, each linking to its queue.
func (s *Pages) queueSummaryPage(w http.ResponseWriter, r *http.Request, page *queueView) {
	l := langOf(w, r)
	page.Overview = true
	summary, err := projections.WorkQueueSummaryOf(r.Context(), s.readDB, projections.AllAgencies(), projections.SummaryDueWithinDays, s.app.Calendar, s.now())
	if err != nil {
		s.logger.ErrorContext(r.Context(), "work queue summary", "err", err)
		s.renderError(w, r, http.StatusInternalServerError, "error.internal")
		return
	}
	for _, row := range summary {
		name := row.Agency
		if a, ok := s.app.Catalog().Agency(row.Agency); ok {
			name = a.Name
		}
		page.Summary = append(page.Summary, agencySummary{AgencyQueueSummary: row, Name: name, URL: "/can-bo?co-quan=" + url.QueryEscape(row.Agency)})
		page.Total += row.Open
		page.Overdue += row.Overdue
	}
	s.render(w, r, http.StatusOK, "queue", l.T("queue.title"), page)
}

// actionsFor lists the actions the dossier's status allows now that one of the caller's roles may
// take and that the pages have a form for (corrections are taken through the API: docs/api.md).
func actionsFor(caller commands.Caller, d domain.Dossier) []domain.Action {
	var out []domain.Action
	for _, a := range domain.AllowedActions(d) {
		if _, ok := commands.NewInput(a); !ok {
			continue
		}
		for _, r := range commands.RolesFor(a) {
			if caller.Has(r) {
				out = append(out, a)
				break
			}
		}
	}
	return out
}

// loadReadable loads the dossier ref for the signed-in official, or answers with the error page
// (unknown dossier, another agency's) and returns false.
func (s *Pages) loadReadable(w http.ResponseWriter, r *http.Request, ref string) (domain.Dossier, []eventstore.RecordedEvent, bool) {
	caller, _ := officialOf(r)
	d, recorded, err := s.app.LoadIfReadable(r.Context(), caller, ref)
	if err != nil {
		status := httpkit.StatusOf[domain.ErrorCodeOf(err)]
		if status == http.StatusInternalServerError {
			s.logger.ErrorContext(r.Context(), "load dossier", "ref", ref, "err", err)
		}
		s.renderError(w, r, status, errorKeyOf(status))
		return domain.Dossier{}, nil, false
	}
	if err := s.record(r, httpkit.PersonalRead{DossierID: d.ID, DossierCode: string(d.Code), ApplicantIDNumber: d.Applicant.IDNumber}); err != nil {
		s.readNotRecorded(w, r, err)
		return domain.Dossier{}, nil, false
	}
	return d, recorded, true
}

// readNotRecorded answers a page whose read of personal data the access log could not record:
// the page is not shown.
func (s *Pages) readNotRecorded(w http.ResponseWriter, r *http.Request, err error) {
	s.logger.ErrorContext(r.Context(), "access log", "path", r.URL.Path, "err", err)
	status := http.StatusInternalServerError
	if httpkit.StoreUnavailable(err) {
		status = http.StatusServiceUnavailable
	}
	s.renderError(w, r, status, errorKeyOf(status))
}

// dossierPageView is an official's view of one dossier with the forms of the actions they may take.
type dossierPageView struct {
	D               domain.Dossier
	Procedure       domain.Procedure
	ReceivingName   string
	CompetentName   string
	HolderAgency    string
	Late            bool
	Actions         []domain.Action
	Timeline        []timelineEntry
	Forms           []string // printable forms that apply
	Done            domain.Action
	Form            actionForm // the form just posted, with its values and the API's errors
	NextStep        domain.WorkflowStep
	Units           []unitChoice
	Agencies        []domain.Agency
	FeesDue         int64
	PaymentChannels []domain.PaymentChannel
	Channels        []domain.Channel
	ReadOnly        bool
	// Files are the dossier's files with their links, when files are served.
	Files []fileLink
	// Attach is the form to attach a file, when files are served and the official may attach one.
	Attach *attachView
	// FilesServed: files are kept, so the result form stores the result's file.
	FilesServed bool
}

// fileLink is one of the dossier's files on its page: where to get it and whether the browser can
// show it inline (a PDF in a frame, an image).
type fileLink struct {
	domain.DocumentAttached
	URL            string
	Image, PDF     bool
	SizeKB         int64
	ForComponentOf string // the component, or the result code for a result's file
}

// filesOf links the dossier's files for its page.
func filesOf(d domain.Dossier) []fileLink {
	ref := string(d.Code)
	if ref == "" {
		ref = d.ID
	}
	links := make([]fileLink, 0, len(d.Documents))
	for _, doc := range d.Documents {
		links = append(links, fileLink{DocumentAttached: doc, URL: "/can-bo/ho-so/" + url.PathEscape(ref) + "/tep/" + url.PathEscape(doc.DocumentID),
			Image: doc.MediaType == domain.MediaJPEG || doc.MediaType == domain.MediaPNG, PDF: doc.MediaType == domain.MediaPDF,
			SizeKB: (doc.Size + 1023) / 1024, ForComponentOf: cmp.Or(doc.Component, doc.ResultCode)})
	}
	return links
}

// documentFile streams one of the dossier's files (?xem=1: inline, for the preview).
func (s *Pages) documentFile(w http.ResponseWriter, r *http.Request) {
	s.api.ServeDocument(w, r, chi.URLParam(r, "code"), chi.URLParam(r, "id"), r.URL.Query().Get("xem") == "1")
}

type unitChoice struct{ Code, Name string }

// actionForm is a posted action form: its values, to fill the form again, and what the API said.
type actionForm struct {
	Action  domain.Action
	Values  url.Values
	Errors  map[string]string
	Problem *httpkit.Problem
}

// Value is the posted value of a field of this action's form, for refilling it.
func (f actionForm) Value(action domain.Action, field string) string {
	if f.Action != action {
		return ""
	}
	return f.Values.Get(field)
}

// Checked reports whether value was ticked among a field's boxes of this action's form.
func (f actionForm) Checked(action domain.Action, field, value string) bool {
	return f.Action == action && slices.Contains(f.Values[field], value)
}

// notifyChoice is the applicant's channels as the reception form's boxes give them: nil when none
// is ticked (the API applies the default), empty for "no notifications" alone; "none" ticked with
// a channel goes to the API as it is, which refuses it on applicant.notify.
func notifyChoice(ticked []string) []string {
	if len(ticked) == 0 {
		return nil
	}
	if len(ticked) == 1 && ticked[0] == "none" {
		return []string{}
	}
	return ticked
}

// Error is the API's message for a field of this action's form.
func (f actionForm) Error(action domain.Action, field string) string {
	if f.Action != action {
		return ""
	}
	return f.Errors[field]
}

// timelineEntry is one event as the dossier page lists it.
type timelineEntry struct {
	At        time.Time
	Type      string
	ActorName string
	ActorRole string
	Summary   string
}

func (s *Pages) dossierPage(w http.ResponseWriter, r *http.Request) {
	page, status := s.loadDossierPage(r, chi.URLParam(r, "code"))
	if page == nil {
		s.renderError(w, r, status, errorKeyOf(status))
		return
	}
	page.Done = domain.Action(r.URL.Query().Get("da-lam"))
	if r.URL.Query().Get("dinh-kem") == "1" {
		page.Form.Action = domain.ActionAttachDocument // from the printed receipt: the scans come next
	}
	s.render(w, r, http.StatusOK, "dossier", string(page.D.Code), page)
}

func errorKeyOf(status int) string {
	switch status {
	case http.StatusNotFound, http.StatusBadRequest:
		return "error.not_found"
	case http.StatusForbidden:
		return "error.forbidden"
	}
	return "error.internal"
}

// loadDossierPage loads what the dossier page shows, or returns nil and the HTTP status to answer.
func (s *Pages) loadDossierPage(r *http.Request, ref string) (*dossierPageView, int) {
	caller, _ := officialOf(r)
	d, recorded, err := s.app.LoadIfReadable(r.Context(), caller, ref)
	if err != nil {
		if domain.ErrorCodeOf(err) == domain.EINTERNAL {
			s.logger.ErrorContext(r.Context(), "load dossier", "ref", ref, "err", err)
		}
		return nil, httpkit.StatusOf[domain.ErrorCodeOf(err)]
	}
	if err := s.record(r, httpkit.PersonalRead{DossierID: d.ID, DossierCode: string(d.Code), ApplicantIDNumber: d.Applicant.IDNumber}); err != nil {
		s.logger.ErrorContext(r.Context(), "access log", "ref", ref, "err", err)
		if httpkit.StoreUnavailable(err) {
			return nil, http.StatusServiceUnavailable
		}
		return nil, http.StatusInternalServerError
	}
	page := &dossierPageView{
		D: d, ReceivingName: s.app.Catalog().AgencyName(d.ReceivingUnit), CompetentName: s.app.Catalog().AgencyName(d.CompetentAgency),
		HolderAgency: s.app.Catalog().AgencyName(d.HolderAgency), Late: d.Late(s.now()), Actions: actionsFor(caller, d),
		Agencies: s.app.Catalog().Agencies, FeesDue: d.FeesDue - d.FeesPaid,
		PaymentChannels: []domain.PaymentChannel{domain.PaymentCash, domain.PaymentBank, domain.PaymentOnline},
		Channels:        []domain.Channel{domain.ChannelDirect, domain.ChannelPostal, domain.ChannelOnline},
		ReadOnly:        caller.Has(commands.RoleInspector) && !caller.Has(commands.RoleAdmin),
	}
	// The workflow the dossier follows: its procedure as the catalog had it at receipt.
	if page.Procedure, _, err = s.app.ProcedureOf(r.Context(), d); err != nil {
		s.logger.ErrorContext(r.Context(), "dossier page: the procedure's version", "err", err)
	}
	if s.documents {
		page.Files, page.Attach, page.FilesServed = filesOf(d), attachChoices(caller, d, page.Procedure), true
	}
	page.NextStep = nextStep(page.Procedure, d.Step)
	page.Units = s.unitChoices(d)
	for _, e := range recorded {
		event, err := domain.DecodeEvent(e.Type, e.Data)
		if err != nil {
			s.logger.ErrorContext(r.Context(), "decode event", "stream", e.Stream, "version", e.Version, "err", err)
			return nil, http.StatusInternalServerError
		}
		page.Timeline = append(page.Timeline, timelineEntry{At: e.Metadata.OccurredAt, Type: e.Type,
			ActorName: e.Metadata.Actor.Name, ActorRole: e.Metadata.Actor.Role, Summary: eventSummary(event)})
		page.Forms = appendForm(page.Forms, event)
	}
	if !d.ReceivedAt.IsZero() {
		page.Forms = append(page.Forms, "phieu-kiem-soat")
	}
	return page, http.StatusOK
}

// nextStep is the workflow step after the current one: what a transfer most likely hands over to.
func nextStep(p domain.Procedure, current string) domain.WorkflowStep {
	for i, step := range p.Workflow {
		if step.Name == current && i+1 < len(p.Workflow) {
			return p.Workflow[i+1]
		}
	}
	if current == "reception" && len(p.Workflow) > 1 {
		return p.Workflow[1]
	}
	return domain.WorkflowStep{}
}

// unitChoices lists the units a dossier can be transferred to: the workflow's units, the
// departments of the agencies involved, and the agencies themselves.
func (s *Pages) unitChoices(d domain.Dossier) []unitChoice {
	var out []unitChoice
	seen := map[string]bool{}
	add := func(code, name string) {
		if code != "" && !seen[code] {
			seen[code] = true
			out = append(out, unitChoice{Code: code, Name: name})
		}
	}
	for _, agency := range []string{d.CompetentAgency, d.HolderAgency, d.ReceivingUnit} {
		if a, ok := s.app.Catalog().Agency(agency); ok {
			for _, dep := range a.Departments {
				add(dep.Code, dep.Name+" — "+a.Name)
			}
			add(a.Code, a.Name)
		}
	}
	return out
}

// appendForm adds the printable form an event makes available (printform.FormOf).
func appendForm(forms []string, e domain.Event) []string {
	form := printform.FormOf(e)
	if form == "" || slices.Contains(forms, form) {
		return forms
	}
	return append(forms, form)
}

// eventSummary is a one-line account of an event for the dossier page.
func eventSummary(e domain.Event) string {
	switch e := e.(type) {
	case domain.Received:
		return string(e.Code)
	case domain.Transferred:
		return strings.TrimSpace(e.From.Unit + " → " + e.To.Unit + " " + e.To.OfficialName + " · " + e.Step)
	case domain.InterAgencyTransferred:
		return e.FromAgency + " → " + e.ToAgency + " · " + e.Purpose
	case domain.SupplementRequested:
		return strings.Join(e.MissingItems, "; ")
	case domain.Appraised:
		return string(e.Conclusion) + ": " + e.Opinion
	case domain.Signed:
		return e.DocumentNumber
	case domain.FeeAssessed:
		return strconv.FormatInt(e.Total, 10) + " đ"
	case domain.Paid:
		return strconv.FormatInt(e.Amount, 10) + " đ · " + e.ReceiptNumber
	case domain.ResultReady:
		return e.ResultCode
	case domain.ApologyIssued:
		return e.Reason
	case domain.ReceptionRefused:
		return e.Reason
	case domain.Suspended:
		return e.Reason
	case domain.Withdrawn:
		return e.Reason
	case domain.Rejected:
		return e.Reason
	}
	return ""
}

// actionSubmit posts an action form to the API as the signed-in official and shows the answer:
// back to the dossier on success, the same form with the API's field errors otherwise.
func (s *Pages) actionSubmit(w http.ResponseWriter, r *http.Request) {
	l := langOf(w, r)
	ref, action := chi.URLParam(r, "code"), domain.Action(chi.URLParam(r, "action"))
	if _, ok := commands.NewInput(action); !ok {
		s.renderError(w, r, http.StatusNotFound, "error.not_found")
		return
	}
	body, err := actionBody(action, r)
	if err != nil {
		s.renderError(w, r, http.StatusBadRequest, "error.bad_form")
		return
	}
	done, problem, err := s.api.Act(r, ref, action, r.PostFormValue("version"), body)
	if err != nil {
		s.logger.ErrorContext(r.Context(), "action", "action", action, "err", err)
		s.renderError(w, r, http.StatusInternalServerError, "error.internal")
		return
	}
	if problem == nil {
		target := cmp.Or(done.Code, done.ID)
		http.Redirect(w, r, "/can-bo/ho-so/"+url.PathEscape(target)+"?da-lam="+url.QueryEscape(string(action)), http.StatusSeeOther)
		return
	}
	page, status := s.loadDossierPage(r, ref)
	if page == nil {
		s.renderError(w, r, status, errorKeyOf(status))
		return
	}
	page.Form = actionForm{Action: action, Values: r.PostForm, Errors: problem.FieldErrors(), Problem: problem}
	s.render(w, r, problem.Status, "dossier", l.T("dossier.title")+" "+string(page.D.Code), page)
}

// actionBody turns an action form into the API's request. A number that does not parse is passed
// on as text: the API then names the field and says it must be a number.
func actionBody(action domain.Action, r *http.Request) (ActionRequest, error) {
	f := r.PostFormValue
	text := func(field string) string { return strings.TrimSpace(f(field)) }
	var body ActionRequest
	switch action {
	case domain.ActionRefuseReception, domain.ActionSuspend, domain.ActionWithdraw, domain.ActionReject:
		body.Reason = f("reason")
	case domain.ActionRequestSupplement:
		body.MissingItems, body.Reason = lines(f("missing_items")), f("reason")
	case domain.ActionSupplement:
		body.Components = componentsOf(f("components"))
	case domain.ActionTransfer:
		body.ToUnit, body.Step = f("to_unit"), f("step")
		body.ToOfficialID, body.ToOfficialName, body.Note = text("to_official_id"), text("to_official_name"), text("note")
		body.AllottedHours = formDecimal(f("allotted_hours"))
	case domain.ActionInterAgencyTransfer:
		body.ToAgency, body.Purpose = f("to_agency"), f("purpose")
		body.AllottedHours = formDecimal(f("allotted_hours"))
	case domain.ActionAppraise:
		body.Conclusion, body.Opinion = f("conclusion"), f("opinion")
	case domain.ActionCompletePart:
		body.Step, body.Opinion = f("step"), f("opinion")
	case domain.ActionOriginalsArrived:
		body.Note = text("note")
	case domain.ActionSign, domain.ActionMarkResultReady:
		if action == domain.ActionSign {
			body.DocumentNumber, body.SignerTitle = f("document_number"), text("signer_title")
		} else {
			body.DocumentNumber = text("document_number")
		}
		hash, err := documentHash(r)
		if err != nil {
			return ActionRequest{}, err
		}
		body.DocumentHash = hash
	case domain.ActionPay:
		body.Amount = formInteger(f("amount"))
		body.Channel, body.ReceiptNumber = f("channel"), f("receipt_number")
	case domain.ActionReturnResult:
		body.Channel = f("channel")
	case domain.ActionIssueApology:
		body.Reason = f("reason")
		body.ExtraWorkingDays = formInteger(f("extra_working_days"))
		body.NewAppointmentDate = formMoment(f("new_appointment_date"))
	}
	return body, nil
}

// documentHash is the SHA-256 of the uploaded result document, or the hash typed in. The document
// itself is not kept: the dossier records its hash, and the signed file lives with the agency.
func documentHash(r *http.Request) (string, error) {
	file, _, err := r.FormFile("document")
	if err == nil {
		defer file.Close()
		h := sha256.New()
		if _, err := io.Copy(h, file); err != nil {
			return "", err
		}
		return hex.EncodeToString(h.Sum(nil)), nil
	}
	return strings.ToLower(strings.TrimSpace(r.PostFormValue("document_hash"))), nil
}

// lines splits a textarea into its non-empty lines.
func lines(s string) []string {
	out := []string{}
	for _, line := range strings.Split(s, "\n") {
		if line = strings.TrimSpace(line); line != "" {
			out = append(out, line)
		}
	}
	return out
}

// componentsOf reads documents typed one per line, as "name" or "name | copies".
func componentsOf(s string) []ComponentForm {
	out := []ComponentForm{}
	for _, line := range lines(s) {
		name, copies := line, "1"
		if i := strings.LastIndex(line, "|"); i >= 0 {
			name, copies = strings.TrimSpace(line[:i]), strings.TrimSpace(line[i+1:])
		}
		out = append(out, ComponentForm{Name: name, Copies: formCopies(copies)})
	}
	return out
}

// receiveView is the reception desk's form for a new dossier; after a receipt it becomes the
// printable receipt (form 01), the only time the rating secret can be printed.
type receiveView struct {
	Procedures []domain.Procedure
	Channels   []domain.Channel
	Form       actionForm
}

func (s *Pages) receivePage(w http.ResponseWriter, r *http.Request) {
	l := langOf(w, r)
	s.render(w, r, http.StatusOK, "receive", l.T("receive.title"), &receiveView{
		Procedures: s.app.Catalog().Procedures, Channels: []domain.Channel{domain.ChannelDirect, domain.ChannelPostal, domain.ChannelOnline},
		Form: actionForm{Action: domain.ActionReceive, Values: url.Values{}, Errors: map[string]string{}},
	})
}

func (s *Pages) receiveSubmit(w http.ResponseWriter, r *http.Request) {
	l := langOf(w, r)
	f := r.PostFormValue
	body := ReceiveRequest{
		ProcedureCode: f("procedure_code"), Channel: f("channel"),
		Applicant: ApplicantForm{Type: f("applicant.type"), Name: f("applicant.name"), IDNumber: f("applicant.id_number"),
			Phone: f("applicant.phone"), Email: f("applicant.email"), Address: f("applicant.address"),
			Notify: notifyChoice(r.PostForm["applicant.notify"])},
		Components: componentsOf(f("components")),
	}
	receipt, problem, err := s.api.Receive(r, body)
	if err != nil {
		s.logger.ErrorContext(r.Context(), "receive", "err", err)
		s.renderError(w, r, http.StatusInternalServerError, "error.internal")
		return
	}
	if problem != nil {
		s.render(w, r, problem.Status, "receive", l.T("receive.title"), &receiveView{
			Procedures: s.app.Catalog().Procedures, Channels: []domain.Channel{domain.ChannelDirect, domain.ChannelPostal, domain.ChannelOnline},
			Form: actionForm{Action: domain.ActionReceive, Values: r.PostForm, Errors: problem.FieldErrors(), Problem: problem},
		})
		return
	}
	if receipt.Code == "" { // an online submission: no code, no receipt until accepted
		http.Redirect(w, r, "/can-bo/ho-so/"+url.PathEscape(receipt.DossierID)+"?da-lam=submit", http.StatusSeeOther)
		return
	}
	s.renderPrintable(w, r, receipt.Code, "01", receipt.RatingSecret)
}
