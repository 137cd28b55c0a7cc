package printform_test

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"golang.org/x/text/unicode/norm"

	"github.com/motcua/motcua/domain"
	"github.com/motcua/motcua/http/printform"
	"github.com/motcua/motcua/projections"
)

// readBack is the text of a PDF as pdftotext reads it, pages separated by form feeds; outside CI
// the test is skipped when poppler-utils is missing (scripts/ensure-poppler.sh installs it).
func readBack(t *testing.T, data []byte) string {
	t.Helper()
	path, err := exec.LookPath("pdftotext")
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatal("no pdftotext found: scripts/ensure-poppler.sh installs poppler-utils")
		}
		t.Skip("no pdftotext found; run scripts/ensure-poppler.sh")
	}
	cmd := exec.Command(path, "-enc", "UTF-8", "-", "-")
	cmd.Stdin = bytes.NewReader(data)
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("pdftotext: %v", err)
	}
	return string(out)
}

var received = time.Date(2026, 3, 2, 8, 0, 0, 0, domain.VietnamTime)

// A name that reached the form decomposed (e + combining marks) is drawn with the font's
// precomposed glyphs and reads back as NFC, every mark in place; a list longer than a page runs on
// to the next.
func TestDecomposedVietnameseIsPrintedComposed(t *testing.T) {
	name := "Nguyễn Thị Ánh Tuyết"
	items := make([]string, 60)
	for i := range items {
		items[i] = fmt.Sprintf("Bản sao chứng thực giấy tờ số %d (ỘNG ỨỚỮỠỢ)", i+1)
	}
	form := &printform.Dossier{
		Form: printform.FormSupplement, ReceivingName: "Trung tâm Phục vụ hành chính công",
		D: domain.Dossier{Code: "000.00.00.H56-260302-0001", Applicant: domain.Applicant{Name: norm.NFD.String(name)},
			Procedure: domain.ProcedureRef{Name: norm.NFD.String("Cấp giấy phép xây dựng")}},
		Supplement: &domain.SupplementRequested{MissingItems: items, Reason: "Thiếu giấy tờ", RequestedAt: received},
	}
	var buf bytes.Buffer
	if err := form.PDF(&buf); err != nil {
		t.Fatal(err)
	}
	text := readBack(t, buf.Bytes())
	if !norm.NFC.IsNormalString(text) {
		t.Error("the text read back is not NFC")
	}
	for _, want := range []string{name, "Cấp giấy phép xây dựng", "PHIẾU YÊU CẦU BỔ SUNG, HOÀN THIỆN HỒ SƠ", items[0], items[59], "Ngày 02 tháng 03 năm 2026"} {
		if !strings.Contains(text, want) {
			t.Errorf("the form lacks %q", want)
		}
	}
	if pages := strings.Count(strings.TrimRight(text, "\f"), "\f") + 1; pages < 2 {
		t.Errorf("%d page for 60 missing items", pages)
	}
}

// The register is drawn page by page as the read model gives it; every page repeats the
// headings and is numbered out of the total.
func TestRegisterRunsOnNumberedPagesWithItsHeadings(t *testing.T) {
	register, err := printform.NewRegister(2026, "Trung tâm Phục vụ hành chính công", func(code string) string { return "Sở Xây dựng" }, received)
	if err != nil {
		t.Fatal(err)
	}
	const lines = 120
	for page := range lines / 40 {
		entries := make([]projections.RegisterEntry, 40)
		for i := range entries {
			n := page*40 + i + 1
			entries[i] = projections.RegisterEntry{Number: n, Code: fmt.Sprintf("000.00.00.H56-260302-%04d", n), ProcedureName: "Cấp giấy phép xây dựng",
				ApplicantName: "Trần Thị Bích Ngọc", Channel: domain.ChannelDirect, CompetentAgency: "000.00.06.H56", ReceivedAt: received, AppointmentDate: received.AddDate(0, 0, 7)}
		}
		if err := register.Write(entries); err != nil {
			t.Fatal(err)
		}
	}
	var buf bytes.Buffer
	if err := register.PDF(&buf); err != nil {
		t.Fatal(err)
	}
	pages := strings.Split(strings.TrimRight(readBack(t, buf.Bytes()), "\f"), "\f")
	if len(pages) < 3 {
		t.Fatalf("%d pages for %d lines", len(pages), lines)
	}
	for i, p := range pages {
		if !strings.Contains(p, "Mã hồ sơ") || !strings.Contains(p, fmt.Sprintf("Trang %d/%d", i+1, len(pages))) {
			t.Errorf("page %d lacks the headings or its number:\n%s", i+1, p)
		}
	}
	all := strings.Join(pages, "")
	for n := 1; n <= lines; n++ {
		if code := fmt.Sprintf("000.00.00.H56-260302-%04d", n); strings.Count(all, code) != 1 {
			t.Errorf("line %s printed %d times", code, strings.Count(all, code))
		}
	}
}

func TestFileNamesAreSafe(t *testing.T) {
	f := &printform.Dossier{Form: printform.FormReceipt, D: domain.Dossier{Code: `000.00.00.H56-260302-0001"; x=ấ/..`}}
	if got, want := f.FileName(), "mau-01_000.00.00.H56-260302-0001___x___...pdf"; got != want {
		t.Errorf("file name %q, want %q", got, want)
	}
	if got := printform.ContentDisposition(`a"b\c.pdf`); got != `inline; filename="a_b_c.pdf"` {
		t.Errorf("Content-Disposition %q", got)
	}
}

// BenchmarkRegisterPDF draws a register of 5,000 lines, page by page as the API does: the time,
// the memory and the size of the PDF (go test -bench RegisterPDF -benchmem ./http/printform).
func BenchmarkRegisterPDF(b *testing.B) {
	page := make([]projections.RegisterEntry, projections.MaxPageSize)
	for b.Loop() {
		register, err := printform.NewRegister(2026, "Trung tâm Phục vụ hành chính công", func(string) string { return "Sở Xây dựng" }, received)
		if err != nil {
			b.Fatal(err)
		}
		for p := range 10 {
			for i := range page {
				n := p*len(page) + i + 1
				page[i] = projections.RegisterEntry{Number: n, Code: fmt.Sprintf("000.00.00.H56-260302-%04d", n), ProcedureName: "Cấp giấy phép xây dựng mới đối với công trình cấp II",
					ApplicantName: "Trần Thị Bích Ngọc", ApplicantAddress: "12 Lê Lợi, Thanh Hóa", ApplicantPhone: "0912345678", Channel: domain.ChannelDirect,
					CompetentAgency: "000.00.06.H56", ReceivedAt: received, ReceivedBy: "Lê Văn Tâm", AppointmentDate: received.AddDate(0, 0, 7)}
			}
			if err := register.Write(page); err != nil {
				b.Fatal(err)
			}
		}
		var buf bytes.Buffer
		if err := register.PDF(&buf); err != nil {
			b.Fatal(err)
		}
		b.ReportMetric(float64(buf.Len())/1024, "KiB/pdf")
	}
}
