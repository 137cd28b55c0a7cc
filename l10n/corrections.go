package l10n

import "maps"

// The words of corrections of recorded data (domain/correction.go; docs/rules.md, "Corrections with
// approval").

func init() { maps.Copy(messages, correctionMessages) }

var correctionMessages = map[string][2]string{
	"dossier.correction_requested.v1": {"Đề nghị đính chính thông tin", "Correction requested"},
	"dossier.correction_approved.v1":  {"Phê duyệt đính chính thông tin", "Correction approved"},
	"dossier.correction_rejected.v1":  {"Từ chối đính chính thông tin", "Correction rejected"},
	"action.correction":               {"Đề nghị đính chính thông tin", "Request a correction"},
	"action.correction-approve":       {"Phê duyệt đính chính", "Approve the correction"},
	"action.correction-reject":        {"Từ chối đính chính", "Reject the correction"},
	"note.corrected":                  {"Đã đính chính thông tin", "Corrected"},
	"correction.corrected_row":        {"Dòng đã được đính chính", "Corrected row"},
	"correction.supersedes":           {"Thông tin của sự kiện này đã được đính chính sau đó", "What this event recorded was corrected later"},
}
