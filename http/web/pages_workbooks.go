package web

import (
	"net/http"

	"github.com/motcua/motcua/http/workbook"
	"github.com/motcua/motcua/projections"
)

// The dashboards' Excel workbooks (package workbook), beside their CSV: the same scope and period
// as the page, and the same workbooks as the API's ?format=xlsx.

func (s *Pages) lateDashboardXLSX(w http.ResponseWriter, r *http.Request) {
	sc := s.scopeOf(r, "tre-han")
	// The lists as the API's dashboard answers them: bounded, the longest first page of each.
	dash, err := projections.LateDashboardOf(r.Context(), s.readDB, s.lateFilter(sc), s.app.Calendar, projections.PageRequest{Limit: projections.LateDashboardFirstPageMax})
	if err != nil {
		s.dashboardFailed(w, r, "late dashboard", err)
		return
	}
	s.writeWorkbook(w, r, sc, "ho-so-tre-han", "Hồ sơ trễ hạn", func(b *workbook.Book) error {
		return workbook.LateDashboard(b, dash, s.reportUnit(sc), s.app.Catalog().AgencyName)
	})
}

func (s *Pages) satisfactionXLSX(w http.ResponseWriter, r *http.Request) {
	sc := s.scopeOf(r, "hai-long")
	report, err := projections.SatisfactionOf(r.Context(), s.readDB, sc.agencies, sc.Period)
	if err != nil {
		s.dashboardFailed(w, r, "satisfaction", err)
		return
	}
	s.writeWorkbook(w, r, sc, "muc-do-hai-long", "Mức độ hài lòng", func(b *workbook.Book) error {
		return workbook.Satisfaction(b, report, s.reportUnit(sc), s.app.Catalog().AgencyName)
	})
}

func (s *Pages) resolutionXLSX(w http.ResponseWriter, r *http.Request) {
	sc := s.scopeOf(r, "bao-cao")
	report, err := projections.ResolutionReportOf(r.Context(), s.readDB, sc.agencies, sc.Period)
	if err != nil {
		s.dashboardFailed(w, r, "resolution report", err)
		return
	}
	s.writeWorkbook(w, r, sc, "bao-cao-II06a", "Báo cáo II.06a", func(b *workbook.Book) error {
		return workbook.Resolution(b, report, s.reportUnit(sc))
	})
}

func (s *Pages) reportUnit(sc dashboardScope) string {
	return workbook.UnitLine("Đơn vị báo cáo", sc.Agency, s.app.Catalog().AgencyName(sc.Agency))
}

// writeWorkbook answers with the workbook fill makes, named by its kind and the scope's agency and
// period; the workbook is complete before the first byte is sent.
func (s *Pages) writeWorkbook(w http.ResponseWriter, r *http.Request, sc dashboardScope, ascii, vietnamese string, fill func(*workbook.Book) error) {
	book, err := workbook.New()
	if err != nil {
		s.dashboardFailed(w, r, "workbook", err)
		return
	}
	defer func() {
		if err := book.Close(); err != nil {
			s.logger.WarnContext(r.Context(), "workbook: temporary files", "err", err)
		}
	}()
	if err := fill(book); err != nil {
		s.dashboardFailed(w, r, "workbook", err)
		return
	}
	scope := sc.Agency
	if scope == "" {
		scope = "tat-ca"
	}
	span := "_" + scope + "_" + sc.From + "_" + sc.To + ".xlsx"
	w.Header().Set("Content-Type", workbook.ContentType)
	w.Header().Set("Content-Disposition", workbook.ContentDisposition(ascii+span, vietnamese+span))
	w.WriteHeader(http.StatusOK)
	if err := book.Stream(w); err != nil {
		s.logger.WarnContext(r.Context(), "workbook export", "file", ascii+span, "err", err)
	}
}
