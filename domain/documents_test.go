package domain_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/motcua/motcua/domain"
)

const documentID = "0195a3f0-9d10-7c2e-8a11-3b4c5d6e7f80"

// scannedFile is a stored scan of the dossier's drawing.
func scannedFile() domain.StoredFile {
	return domain.StoredFile{Name: "ban-ve.pdf", MediaType: domain.MediaPDF, Size: 4096,
		SHA256: sha256Hex("bản vẽ thiết kế quét"), Blob: sha256Hex("bản vẽ thiết kế quét, niêm phong"), Sealed: true}
}

func attachDocument() domain.AttachDocument {
	return domain.AttachDocument{DocumentID: documentID, Component: "Bản vẽ thiết kế xây dựng", File: scannedFile(),
		Origin: domain.OriginDeskScan, Components: componentNames(), MaxDossierBytes: 100 << 20, At: now}
}

func componentNames() []string {
	var names []string
	for _, c := range procedure().Components {
		names = append(names, c.Name)
	}
	return names
}

func documentAttached() domain.DocumentAttached {
	f := scannedFile()
	return domain.DocumentAttached{DocumentID: documentID, Component: "Bản vẽ thiết kế xây dựng",
		File: domain.FileLabel{Type: domain.ApplicantCitizen, IDNumber: applicant().IDNumber, Name: f.Name}, MediaType: f.MediaType, Size: f.Size,
		SHA256: f.SHA256, Blob: f.Blob, Sealed: true, Origin: domain.OriginDeskScan, AttachedAt: now}
}

// documentTransitions attach a scan in every status that allows it.
func documentTransitions() []transitionCase {
	var cases []transitionCase
	for _, status := range domain.Allowed[domain.ActionAttachDocument] {
		cases = append(cases, transitionCase{name: "a scan attached in " + string(status), given: historyIn(status),
			when: attachDocument(), then: []domain.Event{documentAttached()}})
	}
	return cases
}

func TestAttachDocument(t *testing.T) {
	runTransitions(t, documentTransitions())
}

func TestAttachDocumentInvalid(t *testing.T) {
	given := historyIn(domain.StatusProcessing)
	with := func(change func(*domain.AttachDocument)) domain.AttachDocument {
		c := attachDocument()
		change(&c)
		return c
	}
	runInvalid(t, []invalidCase{
		{"a component not in the procedure", given, with(func(c *domain.AttachDocument) { c.Component = "Sổ hộ khẩu" }), []string{"component"}},
		{"no component", given, with(func(c *domain.AttachDocument) { c.Component = "" }), []string{"component"}},
		{"a path for a name", given, with(func(c *domain.AttachDocument) { c.File.Name = "../../etc/passwd.pdf" }), []string{"file"}},
		{"a control character in the name", given, with(func(c *domain.AttachDocument) { c.File.Name = "scan\x07.pdf" }), []string{"file"}},
		{"a right-to-left override in the name", given, with(func(c *domain.AttachDocument) { c.File.Name = "gpxd\u202efdp.exe" }), []string{"file"}},
		{"an executable", given, with(func(c *domain.AttachDocument) { c.File.MediaType = "application/x-msdownload" }), []string{"file"}},
		{"an empty file", given, with(func(c *domain.AttachDocument) { c.File.Size = 0 }), []string{"file"}},
		{"no digest", given, with(func(c *domain.AttachDocument) { c.File.SHA256 = "" }), []string{"file"}},
		{"the result's origin for a component", given, with(func(c *domain.AttachDocument) { c.Origin = domain.OriginResult }), []string{"origin"}},
		{"over the dossier's budget", extend(given, documentAttached()), with(func(c *domain.AttachDocument) {
			c.MaxDossierBytes = 6000
		}), []string{"file"}},
	})
}

func TestAttachDocumentForAMissingItem(t *testing.T) {
	// A supplement request may ask for a document the catalog does not list: its file is welcome.
	given := historyIn(domain.StatusSupplementRequested)
	missing := domain.Fold(given...).PendingSupplement.MissingItems[0]
	c := attachDocument()
	c.Component = missing
	want := documentAttached()
	want.Component = missing
	thenEvents(t, given, c, want)
}

func TestAttachDocumentFoldsIntoTheDossier(t *testing.T) {
	d := domain.Fold(extend(historyIn(domain.StatusProcessing), documentAttached())...)
	if got, ok := d.Document(documentID); !ok || got.SHA256 != scannedFile().SHA256 || d.DocumentBytes() != scannedFile().Size {
		t.Errorf("Document = %+v, %v; DocumentBytes = %d", got, ok, d.DocumentBytes())
	}
	if d.Status != domain.StatusProcessing {
		t.Errorf("a file changed the status to %s", d.Status)
	}
}

func TestResultWithFile(t *testing.T) {
	signedDossier := extend(historyIn(domain.StatusProcessing), appraised(domain.ConclusionApprove), signed())
	file := domain.StoredFile{Name: "giay-phep-45.pdf", MediaType: domain.MediaPDF, Size: 1234, SHA256: permitHash, Blob: sha256Hex("sealed permit"), Sealed: true}
	ready := domain.ResultReady{ResultCode: domain.ResultCode(dossierCode, 1), Index: 1, DocumentNumber: signed().DocumentNumber,
		DocumentHash: permitHash, ReadyAt: now}
	thenEvents(t, signedDossier, domain.MarkResultReady{File: &file, DocumentID: documentID, At: now},
		domain.DocumentAttached{DocumentID: documentID, ResultCode: ready.ResultCode,
			File: domain.FileLabel{Type: domain.ApplicantCitizen, IDNumber: applicant().IDNumber, Name: file.Name}, MediaType: file.MediaType, Size: file.Size,
			SHA256: permitHash, Blob: file.Blob, Sealed: true, Origin: domain.OriginResult, AttachedAt: now},
		ready)

	other := file
	other.SHA256 = sha256Hex("một văn bản khác")
	events, err := domain.Decide(domain.Fold(signedDossier...), domain.MarkResultReady{File: &other, DocumentID: documentID, At: now})
	var te *domain.TransitionError
	if !errors.As(err, &te) || domain.ErrorCodeOf(err) != domain.ECONFLICT || !strings.Contains(err.Error(), permitHash) {
		t.Errorf("a file that is not the signed document: %v, %v; want a conflict naming the signed digest", events, err)
	}
}

// The first result is the signed document: a request stating another digest — with or without a
// file of that digest — is refused, so an unsigned file can never become the signed result.
func TestFirstResultIsTheSignedDocument(t *testing.T) {
	signedDossier := extend(historyIn(domain.StatusProcessing), appraised(domain.ConclusionApprove), signed())
	forged := domain.StoredFile{Name: "giay-phep-gia.pdf", MediaType: domain.MediaPDF, Size: 1234, SHA256: sha256Hex("một văn bản khác"),
		Blob: sha256Hex("sealed forgery"), Sealed: true}
	for name, when := range map[string]domain.MarkResultReady{
		"a stated digest and its file": {DocumentNumber: "45/GPXD", DocumentHash: forged.SHA256, File: &forged, DocumentID: documentID, At: now},
		"a stated digest alone":        {DocumentNumber: "45/GPXD", DocumentHash: forged.SHA256, At: now},
	} {
		t.Run(name, func(t *testing.T) {
			te := thenRefused(t, signedDossier, when)
			if !strings.Contains(te.Error(), permitHash) {
				t.Errorf("the refusal does not name the signed digest: %v", te)
			}
		})
	}
	// A number of its own keeps the signed digest.
	ready := domain.ResultReady{ResultCode: domain.ResultCode(dossierCode, 1), Index: 1, DocumentNumber: "45/GPXD-BS", DocumentHash: permitHash, ReadyAt: now}
	thenEvents(t, signedDossier, domain.MarkResultReady{DocumentNumber: "45/GPXD-BS", At: now}, ready)
}
