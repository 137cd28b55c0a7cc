package timers

import (
	"embed"
	"io/fs"

	"github.com/motcua/motcua/domain"
	"github.com/motcua/motcua/integrations/email"
	"github.com/motcua/motcua/integrations/templatefile"
	"github.com/motcua/motcua/l10n"
)

//go:embed templates/*.txt
var defaultTemplates embed.FS

var builtinTemplates, _ = fs.Sub(defaultTemplates, "templates")

// Templates finds each alarm kind's message: the file <kind>.txt (acceptance_overdue.txt,
// step_due.txt, apology_due.txt, supplement_unanswered.txt) in Dir when it is there, so that a
// province edits the wording without a rebuild, otherwise the built-in one. The format is the
// e-mail notifications' (headers "Version:" and "Subject:", a blank line, the body; see
// docs/timers.md); files are read at every send, and Check finds a broken one at start.
type Templates struct {
	Dir string
}

func (t Templates) set() templatefile.Set { return email.MailTemplates(t.Dir, builtinTemplates) }

// Load reads and parses kind's template.
func (t Templates) Load(kind Kind) (*templatefile.Template, error) { return t.set().Load(string(kind)) }

// Check loads every kind's template and renders it with sample data, so that a mistyped
// placeholder is found when the server starts rather than at the first alarm.
func (t Templates) Check() error {
	kinds := make([]string, len(Kinds))
	for i, kind := range Kinds {
		kinds[i] = string(kind)
	}
	return t.set().Check(kinds, func(string) any { return SampleData() })
}

// Data is what an alarm template's placeholders name: the dossier (never its applicant) and the
// deadline the alarm warns of. Times are "15:04 ngày dd/mm/yyyy" in Vietnamese and "dd/mm/yyyy
// 15:04" in English, Vietnam time.
type Data struct {
	Code             string // the dossier code; empty for an online submission not received yet
	ProcedureName    string
	Status, StatusEN string // the dossier's public status now
	Step             string // the step's name (step_due)
	// Deadline is what the alarm warns of: the acceptance deadline, the step's deadline, the
	// appointment date an apology must precede, the end of the supplement wait.
	Deadline, DeadlineEN string
}

// dataOf is alarm a's data, the dossier as it stands now.
func dataOf(a Alarm, d domain.Dossier) Data {
	vi, en := l10n.VI, l10n.EN
	return Data{Code: string(d.Code), ProcedureName: d.Procedure.Name, Status: vi.Status(d.Status), StatusEN: en.Status(d.Status),
		Step: a.Step, Deadline: vi.DateTime(a.Deadline), DeadlineEN: en.DateTime(a.Deadline)}
}

// SampleData is an alarm's data with every field filled, for checking templates.
func SampleData() Data {
	return Data{Code: "000.00.00.H01-261204-0001", ProcedureName: "Cấp giấy phép xây dựng", Status: "Đang giải quyết",
		StatusEN: "Processing", Step: "Thẩm định hồ sơ", Deadline: "16:30 ngày 07/12/2026", DeadlineEN: "07/12/2026 16:30"}
}
