package main

import (
	"flag"
	"fmt"

	"github.com/motcua/motcua/commands"
)

// feedbackFlags configure complaints and petitions (PAKN, docs/api.md "Feedback").
type feedbackFlags struct {
	desk string
}

func addFeedbackFlags(fs *flag.FlagSet) *feedbackFlags {
	f := &feedbackFlags{}
	fs.StringVar(&f.desk, "feedback-desk", "", "agency (QCVN 102 code) that receives public complaints and petitions naming neither an agency nor a dossier, and routes them (default: the catalog's first agency)")
	return f
}

// apply sets the feedback desk on app: the agency named, else the catalog's first (usually the
// province's public service centre), so a citizen who does not know whom to address is heard.
func (f *feedbackFlags) apply(app *commands.App) error {
	desk := f.desk
	if desk == "" && app.Catalog() != nil && len(app.Catalog().Agencies) > 0 {
		desk = app.Catalog().Agencies[0].Code
	}
	if desk != "" && app.Catalog() != nil {
		if _, ok := app.Catalog().Agency(desk); !ok {
			return fmt.Errorf("--feedback-desk %q is not an agency of the catalog", desk)
		}
	}
	app.FeedbackDesk = desk
	return nil
}
