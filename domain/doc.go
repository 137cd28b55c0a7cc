// Package domain is the one-stop dossier (hồ sơ) of Vietnam's administrative procedures as pure
// functions: no I/O, no clock, no database. Start here.
//
// A dossier's life is a stream of events. The current state is their fold:
//
//	d := domain.Fold(events...)                         // Evolve applied to each event (dossier.go)
//	events, err := domain.Decide(d, domain.Transfer{…}) // what an action produces, or why not (decide.go)
//
// Decide first checks that the dossier's status allows the action (Allowed in decide.go, the
// statuses in status.go), then hands the command to its decide function, grouped by stage of the
// procedure: decide_reception.go (submit, receive, refuse, supplement), decide_processing.go
// (transfer, inter-agency consultation, parallel parts, appraise, sign, reject), decide_result.go
// (fees, payment, result, return, rating) and decide_time.go (apology, suspension, resumption,
// withdrawal). A refusal is a *TransitionError (409) or an *Error whose code and fields the HTTP
// layer maps to RFC 9457 problems (errors.go).
//
// Commands carry every input of a decision — the moment, the working calendar (package calendar),
// the procedure as the catalog has it, the rule set in force — so the facts a decision computes
// (appointment and step deadlines, fees, the calendar and rules versions) are recorded in its events
// and a replay years later gives the same answer.
//
// Where the rest lives:
//   - events.go: every event, its wire name (EncodeEvent, DecodeEvent) — the stored format;
//   - catalog.go, workflow.go: the procedure catalog (agencies, procedures, fees, step workflows);
//   - rules.go, resolution.go: the legal rule sets (NĐ 61/2018 before 01/7/2025, NĐ 118/2025 after)
//     and how a resolution time becomes an appointment date;
//   - verdict.go: on time, early or late, by the law and by the service indicators;
//   - code.go: dossier and result codes (<unit>-<YYMMDD>-<NNNN>);
//   - applicant.go, rating.go, signature.go: who files, how they rate, what an agency signs.
//
// The legal sources are in docs/rules.md; the layering in docs/architecture.md. Other packages'
// tests take their fixtures from domaintest.
package domain
