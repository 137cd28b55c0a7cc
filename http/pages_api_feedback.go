package http

import (
	"net/http"
	"net/url"

	"github.com/motcua/motcua/http/httpkit"
	"github.com/motcua/motcua/http/web"
)

func (a pagesAPI) SubmitFeedback(r *http.Request, in web.FeedbackRequest) (web.FeedbackDone, *httpkit.Problem, error) {
	var done web.FeedbackDone
	res, err := a.s.apiWrite(r, http.MethodPost, "/api/v1/public/feedback", in, nil)
	if err != nil {
		return done, nil, err
	}
	problem, err := res.decode(&done)
	return done, problem, err
}

func (a pagesAPI) SupplyFeedback(r *http.Request, code, information string) (*httpkit.Problem, error) {
	res, err := a.s.apiWrite(r, http.MethodPost, "/api/v1/public/feedback/"+url.PathEscape(code)+"/information",
		map[string]string{"information": information}, nil)
	if err != nil {
		return nil, err
	}
	return res.decode(nil)
}

func (a pagesAPI) ActOnFeedback(r *http.Request, ref, action, version string, in web.FeedbackActionRequest) (*httpkit.Problem, error) {
	headers := map[string]string{}
	if version != "" {
		headers["If-Match"] = `"` + version + `"`
	}
	res, err := a.s.apiWrite(r, http.MethodPost, "/api/v1/feedback/"+url.PathEscape(ref)+"/"+url.PathEscape(action), in, headers)
	if err != nil {
		return nil, err
	}
	return res.decode(nil)
}

func (a pagesAPI) FollowFeedback(r *http.Request, code string) (web.FeedbackStatus, *httpkit.Problem, error) {
	var out web.FeedbackStatus
	res, err := a.s.apiCall(r, http.MethodGet, "/api/v1/public/feedback/"+url.PathEscape(code), nil, nil)
	if err != nil {
		return out, nil, err
	}
	problem, err := res.decode(&out)
	return out, problem, err
}
