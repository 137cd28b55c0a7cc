package demo

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"math/rand/v2"
	"strings"
	"time"

	"github.com/motcua/motcua/commands"
	"github.com/motcua/motcua/domain"
	"github.com/motcua/motcua/eventstore"
)

// seedMarkerStream records that the demo data was seeded, so a restart with --demo seeds nothing twice.
const seedMarkerStream = "demo-seed"

// DossierCount is how many dossiers the demo seeds.
const DossierCount = 36

// Officials returns the demo officials: for every agency of the catalog one official per working role,
// plus a provincial inspector and an administrator.
func Officials(catalog *domain.Catalog) []commands.Caller {
	var out []commands.Caller
	for i, a := range catalog.Agencies {
		for _, role := range []commands.Role{commands.RoleReception, commands.RoleSpecialist, commands.RoleHead, commands.RoleSigner, commands.RoleCashier} {
			out = append(out, commands.Caller{
				ID: fmt.Sprintf("demo-%d-%s", i+1, role), Name: demoName(i, role), Roles: []commands.Role{role}, Agency: a.Code,
			})
		}
	}
	top := ""
	if len(catalog.Agencies) > 0 {
		top = catalog.Agencies[0].Code
	}
	return append(out,
		commands.Caller{ID: "demo-inspector", Name: "Thanh tra Lê Minh Chính", Roles: []commands.Role{commands.RoleInspector}, Agency: top},
		commands.Caller{ID: "demo-admin", Name: "Quản trị hệ thống", Roles: []commands.Role{commands.RoleAdmin}, Agency: top},
	)
}

var surnames = []string{"Nguyễn", "Trần", "Lê", "Phạm", "Hoàng", "Huỳnh", "Phan", "Vũ", "Võ", "Đặng", "Bùi", "Đỗ"}
var middleNames = []string{"Văn", "Thị", "Minh", "Thu", "Đức", "Ngọc", "Quốc", "Thanh"}
var givenNames = []string{"An", "Bình", "Cường", "Dung", "Giang", "Hà", "Hải", "Hương", "Khánh", "Lan", "Long", "Mai", "Nam", "Phúc", "Quân", "Sơn", "Tâm", "Thảo", "Trung", "Yến"}

func demoName(i int, role commands.Role) string {
	h := sha256.Sum256([]byte(fmt.Sprint(i, role)))
	return fmt.Sprintf("%s %s %s", surnames[int(h[0])%len(surnames)], middleNames[int(h[1])%len(middleNames)], givenNames[int(h[2])%len(givenNames)])
}

// Seed records DossierCount dossiers in varied states — received, in a department, waiting for a
// supplement, late with an apology, signed, returned and rated, withdrawn, refused — spread over the
// last weeks, once. It returns the demo officials.
func Seed(ctx context.Context, app *commands.App) ([]commands.Caller, error) {
	officials := Officials(app.Catalog())
	existing, err := app.Store.ReadStream(ctx, seedMarkerStream, 1)
	if err != nil || len(existing) > 0 {
		return officials, err
	}
	realNow := app.Now
	defer func() { app.Now = realNow }()
	s := &seeder{app: app, rng: rand.New(rand.NewPCG(2026, 11)), officials: officials}
	if realNow != nil {
		s.end = realNow().UTC()
	} else {
		s.end = time.Now().UTC()
	}
	app.Now = func() time.Time { return s.clock }
	for i := range DossierCount {
		// A story whose next step the rules refuse (say, an apology once the dossier is already late)
		// simply stops there; anything else is a bug.
		if err := s.dossier(ctx, i); err != nil && domain.ErrorCodeOf(err) != domain.ECONFLICT {
			return nil, fmt.Errorf("dossier %d: %w", i, err)
		}
	}
	_, err = app.Store.Append(ctx, seedMarkerStream, eventstore.NoStream, eventstore.EventData{
		ID: eventstore.NewEventID(), Type: "demo.seeded.v1", Data: []byte(fmt.Sprintf(`{"dossiers":%d}`, DossierCount)),
		Metadata: eventstore.Metadata{Actor: eventstore.Actor{ID: "demo", Name: "demo", Role: "system"}, OccurredAt: s.end},
	})
	return officials, err
}

type seeder struct {
	app       *commands.App
	rng       *rand.Rand
	officials []commands.Caller
	clock     time.Time
	end       time.Time
}

func (s *seeder) official(agency string, role commands.Role) commands.Caller {
	for _, o := range s.officials {
		if o.Agency == agency && o.Has(role) {
			return o
		}
	}
	return s.officials[len(s.officials)-1] // the administrator
}

// receivingUnit is the province's Public Service Centre when the catalog has one (NĐ 118 lets it
// receive for every agency), else the competent agency's own desk.
func (s *seeder) receivingUnit(p domain.Procedure) string {
	for _, a := range s.app.Catalog().Agencies {
		if strings.Contains(a.Name, "Phục vụ hành chính công") {
			return a.Code
		}
	}
	return p.CompetentAgency
}

// advance moves the clock by hours of working time; false when that would pass the present.
func (s *seeder) advance(hours float64) bool {
	next := s.app.Calendar.AddWorkingTime(s.clock, time.Duration(hours*float64(time.Hour)))
	if next.After(s.end) {
		return false
	}
	s.clock = next
	return true
}

// ApplicantIDNumber is the identification number of the i-th demo dossier's applicant (12 digits),
// which the demo identity provider's citizens carry too, so each finds their dossier in "Hồ sơ của tôi".
func ApplicantIDNumber(i int) string { return fmt.Sprintf("0380%08d", 10000000+i*7919) }

func (s *seeder) applicant(i int) domain.Applicant {
	name := fmt.Sprintf("%s %s %s", surnames[s.rng.IntN(len(surnames))], middleNames[s.rng.IntN(len(middleNames))], givenNames[s.rng.IntN(len(givenNames))])
	return domain.Applicant{
		Type: domain.ApplicantCitizen, Name: name, IDNumber: ApplicantIDNumber(i),
		Phone: fmt.Sprintf("09%08d", 12345678+i*97), Email: fmt.Sprintf("nguoidan%d@example.vn", i+1),
		Address: fmt.Sprintf("Số %d, phường Điện Biên, tỉnh Thanh Hóa", i+3),
	}
}

// stage is how far a demo dossier gets.
type stage int

const (
	stageReceived stage = iota
	stageInDepartment
	stageSupplement
	stageAppraised
	stageSigned
	stageApology
	stageReturned
	stageRated
	stageWithdrawn
	stageSubmittedOnline
	stageRefused
	stageSuspended
)

var stages = []stage{stageRated, stageReturned, stageInDepartment, stageReceived, stageSupplement, stageAppraised,
	stageSigned, stageApology, stageRated, stageWithdrawn, stageSubmittedOnline, stageRefused, stageSuspended}

func (s *seeder) dossier(ctx context.Context, i int) error {
	procedures := s.app.Catalog().Procedures
	p := procedures[i%len(procedures)]
	target := stages[i%len(stages)]
	unit := s.receivingUnit(p)
	reception := s.official(unit, commands.RoleReception)
	// Start far enough back for the dossier's story to fit before today; some end up late.
	back := p.ResolutionTime.WorkingTime(s.app.Calendar) + time.Duration(2+s.rng.IntN(6))*s.app.Calendar.WorkingDayLength()
	s.clock = s.app.Calendar.NextWorkingMoment(s.app.Calendar.AddWorkingTime(s.end, -back).Add(time.Duration(s.rng.IntN(120)) * time.Minute))

	components := make([]domain.Component, 0, len(p.Components))
	for _, c := range p.Components {
		components = append(components, domain.Component{Name: c.Name, Copies: max(c.Copies, 1)})
	}
	channel := []domain.Channel{domain.ChannelDirect, domain.ChannelOnline, domain.ChannelDirect, domain.ChannelPostal}[i%4]
	if target == stageSubmittedOnline || target == stageRefused {
		channel = domain.ChannelOnline
	}
	if channel == domain.ChannelOnline && p.OnlineLevel != "full" && p.OnlineLevel != "partial" {
		channel = domain.ChannelDirect
	}
	receipt, err := s.app.Receive(ctx, reception, commands.ReceiveInput{ProcedureCode: p.Code, Channel: channel, Applicant: s.applicant(i), Components: components})
	if err != nil {
		return err
	}
	ref := receipt.DossierID
	secret := receipt.RatingSecret
	act := func(caller commands.Caller, input commands.Input) error {
		_, err := s.app.Execute(ctx, caller, ref, nil, input)
		return err
	}
	if receipt.Status == domain.StatusSubmitted {
		if target == stageSubmittedOnline || !s.advance(2) {
			return nil
		}
		if target == stageRefused {
			return act(reception, &commands.RefuseInput{Reason: "Thủ tục không thuộc thẩm quyền giải quyết của cơ quan"})
		}
		accept := &commands.AcceptInput{}
		if err := act(reception, accept); err != nil {
			return err
		}
		secret = accept.RatingSecret()
	}
	if target == stageReceived || !s.advance(1) {
		return nil
	}
	if target == stageWithdrawn {
		return act(reception, &commands.WithdrawInput{Reason: "Người nộp xin rút hồ sơ để bổ sung giấy tờ khác"})
	}
	competent := p.CompetentAgency
	head := s.official(competent, commands.RoleHead)
	specialist := s.official(competent, commands.RoleSpecialist)
	signer := s.official(competent, commands.RoleSigner)
	// Hand the dossier along its workflow; each step takes 40–150% of its allotted time.
	for k, step := range p.Workflow {
		if k == 0 || k == len(p.Workflow)-1 {
			continue // reception and return happen at the desk
		}
		by := head
		if k == 1 {
			by = reception
		}
		if err := act(by, &commands.TransferInput{ToUnit: step.Unit, Step: step.Name, ToOfficialID: specialist.ID, ToOfficialName: specialist.Name}); err != nil {
			return err
		}
		if !s.advance(step.Hours() * (0.4 + 1.1*s.rng.Float64())) {
			return nil
		}
		// A parallel step's parts (consultations of other agencies, the site check) each answer.
		for _, part := range step.Parallel {
			agency := competent
			if domain.ValidUnitCode(part.Unit) {
				agency = part.Unit
			}
			if err := act(s.official(agency, commands.RoleSpecialist), &commands.CompletePartInput{Step: part.Name, Opinion: "Thống nhất với đề nghị cấp phép"}); err != nil {
				return err
			}
		}
		if k > 1 {
			continue
		}
		switch target {
		case stageInDepartment:
			return nil
		case stageSupplement:
			return act(specialist, &commands.RequestSupplementInput{
				MissingItems: []string{"Bản sao giấy tờ chứng minh quyền sử dụng đất", "Bản vẽ thiết kế có chữ ký của chủ đầu tư"},
				Reason:       "Hồ sơ thiếu thành phần theo quy định",
			})
		case stageSuspended:
			return act(head, &commands.SuspendInput{Reason: "Chờ kết quả xác minh của cơ quan liên quan"})
		case stageApology:
			// A same-day dossier is due the day it is received: no apology can come a day before.
			if p.ResolutionTime.Days == 0 {
				return nil
			}
			return act(head, &commands.IssueApologyInput{Reason: "Cần thêm thời gian xác minh thực địa", ExtraWorkingDays: min(3, p.ResolutionTime.Days)})
		}
	}
	if err := act(specialist, &commands.AppraiseInput{Conclusion: domain.ConclusionApprove, Opinion: "Hồ sơ đầy đủ, đủ điều kiện giải quyết"}); err != nil {
		return err
	}
	if target == stageAppraised || !s.advance(2) {
		return nil
	}
	hash := sha256.Sum256([]byte("result of " + ref))
	if err := act(signer, &commands.SignInput{DocumentNumber: fmt.Sprintf("%d/QĐ-UBND", 100+i), DocumentHash: hex.EncodeToString(hash[:]), SignerTitle: "Phó Chủ tịch"}); err != nil {
		return err
	}
	if err := act(signer, &commands.MarkResultReadyInput{}); err != nil {
		return err
	}
	if target == stageSigned || !s.advance(1) {
		return nil
	}
	if p.TotalFees() > 0 {
		cashier := s.official(unit, commands.RoleCashier)
		if err := act(cashier, &commands.AssessFeeInput{}); err != nil {
			return err
		}
		if err := act(cashier, &commands.PayInput{Amount: p.TotalFees(), Channel: domain.PaymentOnline, ReceiptNumber: fmt.Sprintf("BL-%06d", 1000+i)}); err != nil {
			return err
		}
	}
	if err := act(reception, &commands.ReturnResultInput{Channel: domain.ChannelDirect}); err != nil {
		return err
	}
	if target == stageReturned || !s.advance(0.5) {
		return nil
	}
	scores := map[domain.Criterion]domain.RatingLevel{}
	levels := []domain.RatingLevel{domain.VerySatisfied, domain.VerySatisfied, domain.Satisfied, domain.Dissatisfied}
	for _, c := range domain.Criteria {
		scores[c] = levels[s.rng.IntN(len(levels))]
	}
	_, err = s.app.Rate(ctx, ref, commands.RateInput{Secret: secret, Scores: scores, Comment: "Cán bộ hướng dẫn tận tình"})
	return err
}
