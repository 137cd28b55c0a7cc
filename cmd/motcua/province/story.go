package province

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"math"

	"github.com/motcua/motcua/commands"
	"github.com/motcua/motcua/domain"
)

// The shares of a province's dossiers the stories follow (docs/benchmarks.md, "Generated
// province"); online and postal filings are decided with the arrivals.
const (
	shareRefused     = 0.03 // of online submissions, refused at reception
	shareWithdrawn   = 0.02
	shareSupplement  = 0.15
	shareNeverBack   = 0.10 // of supplement requests: the applicant never supplies
	shareSuspended   = 0.01
	shareRejected    = 0.03
	shareOverrun     = 0.10 // a step takes 1.5–4× its allotted time
	shareApology     = 0.60 // of overrunning dossiers, the head apologises in time
	shareRated       = 0.30 // of returned dossiers
	shareSlowCollect = 0.05 // results collected weeks late
)

// applicant is the n-th citizen or business of the province; citizens file several dossiers over a
// year, so applicants are drawn from a pool smaller than the dossiers.
func applicant(n int) domain.Applicant {
	if n%7 == 0 {
		return domain.Applicant{Type: domain.ApplicantOrganization, Name: fmt.Sprintf("Công ty TNHH %s", personName(n)),
			IDNumber: fmt.Sprintf("28%08d", n%100_000_000), Email: fmt.Sprintf("lienhe%d@congty.vn", n), Address: fmt.Sprintf("Số %d, đường Lê Lợi, phường Hạc Thành, tỉnh Thanh Hóa", n%500+1)}
	}
	return domain.Applicant{Type: domain.ApplicantCitizen, Name: personName(n + 7919),
		IDNumber: fmt.Sprintf("038%09d", n%1_000_000_000), Phone: fmt.Sprintf("09%08d", (n*7919)%100_000_000),
		Address: fmt.Sprintf("Thôn %d, xã Hoằng Hóa, tỉnh Thanh Hóa", n%40+1)}
}

func (st *story) chance(p float64) bool { return st.rng.Float64() < p }

func (st *story) pick(agency string, role commands.Role) commands.Caller {
	c, ok := st.s.g.Officials.Pick(agency, role, st.rng.IntN(64))
	if !ok {
		c, _ = st.s.g.Officials.Pick(CentreCode, role, st.rng.IntN(64))
	}
	return c
}

// live is the dossier's life: filing, reception, the workflow's steps, signature, fees, return,
// rating; with the detours of a real province at their shares.
func (st *story) live() {
	s := st.s
	app := s.g.App
	p := s.g.Catalog.Procedures[st.arrival.procedure]
	unit := ReceivingUnit(s.g.Catalog.Catalog, p)
	desk := st.pick(unit, commands.RoleReception)
	components := make([]domain.Component, 0, len(p.Components))
	for _, c := range p.Components {
		components = append(components, domain.Component{Name: c.Name, Copies: max(c.Copies, 1)})
	}
	var receipt commands.Receipt
	applicantNo := st.rng.IntN(max(1, s.cfg.Dossiers*4/5))
	err := st.do(func() error {
		var err error
		receipt, err = app.Receive(s.ctx, desk, commands.ReceiveInput{ProcedureCode: p.Code, Channel: st.arrival.channel,
			Applicant: applicant(applicantNo), Components: components})
		return st.check(err)
	})
	if err != nil {
		return
	}
	st.id = receipt.DossierID
	secret := receipt.RatingSecret
	switch st.arrival.channel {
	case domain.ChannelOnline:
		s.stats.Online++
	case domain.ChannelPostal:
		s.stats.Postal++
	}
	if receipt.Status == domain.StatusSubmitted {
		// The desk examines online submissions within a day and a half of working time: what was
		// submitted over a holiday is spread over the first working days after it, as desks work off
		// such a backlog.
		if !st.work(0.25 + 12*st.rng.Float64()) {
			return
		}
		if st.chance(shareRefused) {
			if st.act(desk, &commands.RefuseInput{Reason: "Hồ sơ không thuộc thẩm quyền giải quyết hoặc không đúng thành phần theo quy định"}) == nil {
				s.stats.Refused++
			}
			return
		}
		accept := &commands.AcceptInput{}
		if st.act(desk, accept) != nil {
			return
		}
		secret = accept.RatingSecret()
	}
	if !st.work(0.1 + st.rng.Float64()) {
		return
	}
	competent := p.CompetentAgency
	head := st.pick(competent, commands.RoleHead)
	specialist := st.pick(competent, commands.RoleSpecialist)
	signer := st.pick(competent, commands.RoleSigner)
	withdraw := st.chance(shareWithdrawn)
	supplement := st.chance(shareSupplement)
	suspend := st.chance(shareSuspended)
	reject := st.chance(shareRejected)
	overrunStep := -1
	if st.chance(shareOverrun) {
		overrunStep = 1 + st.rng.IntN(max(1, len(p.Workflow)-2))
		s.stats.Overran++
	}
	for k, step := range p.Workflow {
		if k == 0 || k == len(p.Workflow)-1 {
			continue // reception and return happen at the desk
		}
		by := head
		if k == 1 && !step.IsParallel() {
			by = desk // a consultation of another agency is sent by the head (inter-agency work)
		}
		if st.act(by, &commands.TransferInput{ToUnit: step.Unit, Step: step.Name, ToOfficialID: specialist.ID, ToOfficialName: specialist.Name}) != nil {
			return
		}
		factor := 0.3 + 0.7*st.rng.Float64()
		if k == overrunStep {
			factor = 1.5 + 2.5*st.rng.Float64()
			if st.chance(shareApology) && p.ResolutionTime.Days > 0 && st.work(0.5) {
				extra := int(math.Ceil(step.Hours() * (factor - 1) / 8))
				if st.act(head, &commands.IssueApologyInput{Reason: "Cần thêm thời gian thẩm định, xác minh thực tế", ExtraWorkingDays: max(1, min(extra, p.ResolutionTime.Days/2))}) == nil {
					s.stats.Apologies++
				}
			}
		}
		hours := step.Hours() * factor
		if k == 1 && supplement {
			// The specialist finds a document missing part-way, the applicant brings it days later.
			if !st.work(hours * 0.4) {
				return
			}
			if st.act(specialist, &commands.RequestSupplementInput{MissingItems: []string{"Bản sao giấy tờ chứng minh quyền sử dụng đất", "Bản vẽ hiện trạng có xác nhận"},
				Reason: "Hồ sơ chưa đầy đủ thành phần theo quy định"}) != nil {
				return
			}
			s.stats.Supplements++
			if st.chance(shareNeverBack) || !st.work(8*(1+9*st.rng.Float64())) {
				return
			}
			if st.act(desk, &commands.SupplementInput{Components: []domain.Component{{Name: "Bản sao giấy tờ chứng minh quyền sử dụng đất", Copies: 1}}}) != nil {
				return
			}
			hours *= 0.6
		}
		if k == 1 && withdraw {
			if !st.work(hours * 0.5) {
				return
			}
			if st.act(desk, &commands.WithdrawInput{Reason: "Người nộp xin rút hồ sơ để hoàn thiện lại giấy tờ"}) == nil {
				s.stats.Withdrawn++
			}
			return
		}
		if k == 1 && suspend {
			if !st.work(hours*0.3) || st.act(head, &commands.SuspendInput{Reason: "Chờ kết quả xác minh của cơ quan liên quan"}) != nil {
				return
			}
			s.stats.Suspended++
			if !st.work(8*(2+8*st.rng.Float64())) || st.act(head, &commands.ResumeInput{}) != nil {
				return
			}
		}
		if !st.work(hours) {
			return
		}
		for _, part := range step.Parallel {
			agency := competent
			if domain.ValidUnitCode(part.Unit) {
				agency = part.Unit
			}
			if st.act(st.pick(agency, commands.RoleSpecialist), &commands.CompletePartInput{Step: part.Name, Opinion: "Thống nhất với đề xuất của cơ quan chủ trì"}) != nil {
				return
			}
		}
		if len(step.Parallel) > 0 {
			s.stats.Parallel++
		}
	}
	if reject {
		if st.act(specialist, &commands.AppraiseInput{Conclusion: domain.ConclusionReject, Opinion: "Hồ sơ không đủ điều kiện giải quyết theo quy định"}) != nil || !st.work(1+3*st.rng.Float64()) {
			return
		}
		if st.act(head, &commands.RejectInput{Reason: "Không đủ điều kiện theo quy định của pháp luật"}) == nil {
			s.stats.Rejected++
		}
		return
	}
	if st.act(specialist, &commands.AppraiseInput{Conclusion: domain.ConclusionApprove, Opinion: "Hồ sơ đầy đủ, đủ điều kiện giải quyết"}) != nil || !st.work(0.2+st.rng.Float64()) {
		return
	}
	hash := sha256.Sum256([]byte("result of " + st.id))
	if st.act(signer, &commands.SignInput{DocumentNumber: fmt.Sprintf("%d/QĐ-%s", 1+st.arrival.index%9999, "UBND"), DocumentHash: hex.EncodeToString(hash[:]), SignerTitle: "Phó Giám đốc"}) != nil {
		return
	}
	if st.act(signer, &commands.MarkResultReadyInput{}) != nil {
		return
	}
	// The applicant comes for the result, usually within days.
	collect := 8 * 3 * st.rng.Float64()
	if st.chance(shareSlowCollect) {
		collect = 8 * (10 + 20*st.rng.Float64())
	}
	if !st.work(collect) {
		return
	}
	if p.TotalFees() > 0 {
		cashier := st.pick(unit, commands.RoleCashier)
		if st.act(cashier, &commands.AssessFeeInput{}) != nil {
			return
		}
		channel := []domain.PaymentChannel{domain.PaymentCash, domain.PaymentOnline, domain.PaymentBank}[st.rng.IntN(3)]
		if st.act(cashier, &commands.PayInput{Amount: p.TotalFees(), Channel: channel, ReceiptNumber: fmt.Sprintf("BL-%07d", st.arrival.index+1)}) != nil {
			return
		}
		s.stats.Paid++
	}
	returnChannel := domain.ChannelDirect
	if st.arrival.channel == domain.ChannelPostal || (st.arrival.channel == domain.ChannelOnline && st.chance(0.3)) {
		returnChannel = domain.ChannelPostal
	}
	if st.act(desk, &commands.ReturnResultInput{Channel: returnChannel}) != nil {
		return
	}
	s.stats.Returned++
	if !st.chance(shareRated) || !st.work(8*2*st.rng.Float64()) {
		return
	}
	scores := map[domain.Criterion]domain.RatingLevel{}
	levels := []domain.RatingLevel{domain.VerySatisfied, domain.VerySatisfied, domain.Satisfied, domain.Satisfied, domain.Satisfied, domain.Dissatisfied}
	for _, c := range domain.Criteria {
		scores[c] = levels[st.rng.IntN(len(levels))]
	}
	if st.do(func() error {
		_, err := app.Rate(s.ctx, st.id, commands.RateInput{Secret: secret, Scores: scores, Comment: "Cán bộ hướng dẫn tận tình, đúng hẹn"})
		return st.check(err)
	}) == nil {
		s.stats.Rated++
	}
}
