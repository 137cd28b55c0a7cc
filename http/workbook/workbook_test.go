package workbook_test

import (
	"io"
	"strconv"
	"testing"
	"time"

	"github.com/motcua/motcua/domain"
	"github.com/motcua/motcua/http/workbook"
	"github.com/motcua/motcua/projections"
)

func TestContentDispositionKeepsTheVietnameseName(t *testing.T) {
	got := workbook.ContentDisposition(`bao-cao"II06a.xlsx`, "Báo cáo II.06a; 2026.xlsx")
	want := `attachment; filename="bao-cao_II06a.xlsx"; filename*=UTF-8''B%C3%A1o%20c%C3%A1o%20II.06a%3B%202026.xlsx`
	if got != want {
		t.Errorf("got  %s\nwant %s", got, want)
	}
}

// BenchmarkRegisterWorkbook writes a register of 5,000 lines, page by page as the API does, to
// nowhere: the time and the memory of the workbook alone (go test -bench Register -benchmem).
func BenchmarkRegisterWorkbook(b *testing.B) {
	received := time.Date(2026, 3, 2, 8, 0, 0, 0, domain.VietnamTime)
	page := make([]projections.RegisterEntry, projections.MaxPageSize)
	for b.Loop() {
		book, err := workbook.New()
		if err != nil {
			b.Fatal(err)
		}
		register, err := workbook.NewRegister(book, 2026, "Bộ phận tiếp nhận và trả kết quả: Trung tâm Phục vụ hành chính công")
		if err != nil {
			b.Fatal(err)
		}
		for p := range 10 {
			for i := range page {
				n := p*len(page) + i + 1
				page[i] = projections.RegisterEntry{Number: n, Code: "000.00.00.H56-260302-" + strconv.Itoa(n), ProcedureName: "Cấp giấy phép xây dựng",
					FieldName: "Xây dựng", ApplicantName: "Nguyễn Văn An", ApplicantAddress: "12 Lê Lợi, Thanh Hóa", Channel: domain.ChannelDirect,
					CompetentAgency: "000.00.06.H56", ReceivedAt: received, ReceivedBy: "Cán bộ tiếp nhận", AppointmentDate: received.AddDate(0, 0, 7),
					AppointmentInForce: received.AddDate(0, 0, 7)}
			}
			if err := register.Write(page); err != nil {
				b.Fatal(err)
			}
		}
		if err := register.Done(); err != nil {
			b.Fatal(err)
		}
		if err := book.Stream(io.Discard); err != nil {
			b.Fatal(err)
		}
		book.Close()
	}
}
