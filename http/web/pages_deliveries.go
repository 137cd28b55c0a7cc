package web

import (
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/motcua/motcua/http/httpkit"
)

// deliveriesView is the admins' page of deliveries (the outbox): per destination the counts by
// state and the oldest pending age; a page of deliveries filtered by destination and state; and
// the "Gửi lại / Retry" forms, for one dead delivery and for all the dead of a destination. It
// shows what the API answers, and the API decides who may see it (admins).
type deliveriesView struct {
	Status      []httpkit.DeliveryStatus
	Page        httpkit.DeliveryPage
	State       string
	Destination string
	States      []string
	// Retried is the count of the retry just made (?gui-lai=n), -1 when none was.
	Retried  int
	Problem  *httpkit.Problem
	NextURL  string
	FirstURL string
	// Back is this page's address, where a retry returns.
	Back string
}

const deliveriesPath = "/can-bo/quan-tri/gui-thong-bao"

// deliveryStates are the states the page filters by.
var deliveryStates = []string{"failing", "dead", "pending", "sent", "skipped"}

func (s *Pages) deliveriesPage(w http.ResponseWriter, r *http.Request) {
	l := langOf(w, r)
	q := r.URL.Query()
	page := &deliveriesView{State: q.Get("trang-thai"), Destination: q.Get("noi-nhan"), States: deliveryStates, Retried: -1, Back: r.URL.RequestURI()}
	if n, err := strconv.Atoi(q.Get("gui-lai")); err == nil && n >= 0 {
		page.Retried = n
	}
	status, problem, err := s.api.DeliveriesStatus(r)
	if err == nil && problem == nil {
		page.Status = status.Destinations
		page.Page, problem, err = s.api.Deliveries(r, httpkit.DeliveryQuery{State: page.State, Destination: page.Destination,
			Limit: q.Get("limit"), After: q.Get("after")})
	}
	if err != nil {
		s.logger.ErrorContext(r.Context(), "deliveries page", "err", err)
		s.renderError(w, r, http.StatusInternalServerError, "error.internal")
		return
	}
	if problem != nil {
		s.renderDeliveriesProblem(w, r, problem)
		return
	}
	if page.Page.Next != "" {
		next := r.URL.Query()
		next.Set("after", page.Page.Next)
		next.Del("gui-lai")
		page.NextURL = deliveriesPath + "?" + next.Encode()
	}
	if q.Get("after") != "" {
		first := r.URL.Query()
		first.Del("after")
		first.Del("gui-lai")
		page.FirstURL = deliveriesPath + "?" + first.Encode()
	}
	s.render(w, r, http.StatusOK, "deliveries", l.T("deliveries.title"), page)
}

// renderDeliveriesProblem shows the API's refusal of the page's request: not an admin, or a bad
// filter or form with the fields at fault.
func (s *Pages) renderDeliveriesProblem(w http.ResponseWriter, r *http.Request, p *httpkit.Problem) {
	var fields []string
	for _, f := range p.Errors {
		fields = append(fields, f.Field+": "+f.Message)
	}
	detail := p.Detail
	if len(fields) > 0 {
		detail = strings.Join(fields, "; ")
	}
	key := errorKeyOf(p.Status)
	switch p.Status {
	case http.StatusForbidden:
		key = "deliveries.forbidden"
	case http.StatusBadRequest:
		key = "error.bad_page"
	}
	s.renderError(w, r, p.Status, key, detail)
}

// retryDeliveriesSubmit posts a retry form (one delivery by id, or every dead delivery of a
// destination) to the API and returns to the page it came from, saying how many came back.
func (s *Pages) retryDeliveriesSubmit(w http.ResponseWriter, r *http.Request) {
	var in httpkit.RetryRequest
	if id := r.PostFormValue("id"); id != "" {
		n, err := strconv.ParseInt(id, 10, 64)
		if err != nil {
			s.renderError(w, r, http.StatusBadRequest, "error.bad_form", "id")
			return
		}
		in.IDs = []int64{n}
	} else {
		in.Dead, in.Destination = true, r.PostFormValue("destination")
	}
	done, problem, err := s.api.RetryDeliveries(r, in)
	if err != nil {
		s.logger.ErrorContext(r.Context(), "retry deliveries", "err", err)
		s.renderError(w, r, http.StatusInternalServerError, "error.internal")
		return
	}
	if problem != nil {
		s.renderDeliveriesProblem(w, r, problem)
		return
	}
	back, err := url.Parse(r.PostFormValue("back"))
	if err != nil || back.Path != deliveriesPath || back.Host != "" || back.Scheme != "" {
		back = &url.URL{Path: deliveriesPath} // only ever back to this page: no open redirect
	}
	q := back.Query()
	q.Set("gui-lai", strconv.FormatInt(done.Retried, 10))
	back.RawQuery = q.Encode()
	http.Redirect(w, r, back.String(), http.StatusSeeOther)
}
