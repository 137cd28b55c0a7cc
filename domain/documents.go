package domain

import (
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"
)

// Media types a dossier's file may have (PDF, JPEG, PNG), decided by the file's content at the
// edge (blobstore.Sniff), never by its name.
const (
	MediaPDF  = "application/pdf"
	MediaJPEG = "image/jpeg"
	MediaPNG  = "image/png"
)

// DocumentOrigin is how a file came into the dossier: the digitisation facts that Quyết định
// 766/QĐ-TTg group 4 reads (4.3 digitised components, 4.4 reuse) and the national portal's
// DuocSoHoa flag.
type DocumentOrigin string

const (
	// OriginDeskScan: a paper document digitised (scanned) at the one-stop desk (NĐ 107/2021 art. 25).
	OriginDeskScan DocumentOrigin = "desk_scan"
	// OriginUpload: an electronic file the applicant sent with an online submission or a supplement.
	OriginUpload DocumentOrigin = "upload"
	// OriginCitizenStore: reused from the applicant's own earlier files (their personal data
	// store, NĐ 107/2021 art. 14), not asked for again.
	OriginCitizenStore DocumentOrigin = "citizen_store"
	// OriginNationalDatabase: reused from a national database (population, business registration).
	OriginNationalDatabase DocumentOrigin = "national_database"
	// OriginResult: the electronic result the agency issued (the file the signer signed).
	OriginResult DocumentOrigin = "result"
)

// Valid reports whether o is a known origin.
func (o DocumentOrigin) Valid() bool {
	switch o {
	case OriginDeskScan, OriginUpload, OriginCitizenStore, OriginNationalDatabase, OriginResult:
		return true
	}
	return false
}

// Digitised reports whether the file was made electronic at the desk.
func (o DocumentOrigin) Digitised() bool { return o == OriginDeskScan }

// Reused reports whether the file was taken from a store instead of being asked for again.
func (o DocumentOrigin) Reused() bool { return o == OriginCitizenStore || o == OriginNationalDatabase }

// StoredFile is what the blob store reports of a file it kept: the edge streams the upload into
// the store, then hands these facts to the use case, which records them.
type StoredFile struct {
	Name      string // the file's name as the uploader gave it (CheckFileName)
	MediaType string // decided by content
	Size      int64  // bytes of the file itself
	SHA256    string // hex digest of the file itself: what a signer signs and a verifier compares
	Blob      string // the stored object's name: the digest of the stored bytes (sealed or not)
	Sealed    bool   // encrypted under the applicant's crypto-shredding key
}

// FileLabel is the name a file was uploaded under, kept with the applicant's identity number so
// that the crypto-shredding decorator seals it under the applicant's key (ApplicantFields): a
// scan is often named after the person ("CCCD Nguyen Van A.pdf"), and an erasure must take the
// name with the file. It has the shape of an applicant: Type (the applicant's, kept in clear as
// the shredder keeps every applicant's) and IDNumber are only there to choose the key; nobody
// reads them from here.
type FileLabel struct {
	Type     ApplicantType `json:"type"`
	IDNumber string        `json:"id_number"`
	Name     string        `json:"name"`
}

// DocumentAttached: a file was attached to one component of the dossier, or to one of its
// results. The file lives in the blob store under Blob; the event records what a replay, an
// inspector and the national portal need: its name, type, size and digest, and how it came.
type DocumentAttached struct {
	DocumentID string `json:"document_id"`
	// Component is the component's name (thành phần hồ sơ) for a file of the application;
	// ResultCode the result's code for a result file. Exactly one is set.
	Component  string         `json:"component,omitempty"`
	ResultCode string         `json:"result_code,omitempty"`
	File       FileLabel      `json:"file"`
	MediaType  string         `json:"media_type"`
	Size       int64          `json:"size"`
	SHA256     string         `json:"sha256"`
	Blob       string         `json:"blob"`
	Sealed     bool           `json:"sealed,omitempty"`
	Origin     DocumentOrigin `json:"origin"`
	AttachedAt time.Time      `json:"attached_at"`
}

func (DocumentAttached) EventType() string { return TypeDocumentAttached }

// Name is the file's name as uploaded ("[đã xoá]" once its applicant was erased).
func (e DocumentAttached) Name() string { return e.File.Name }

// AttachDocument attaches a stored file to a component of the dossier.
type AttachDocument struct {
	DocumentID string
	Component  string
	File       StoredFile
	Origin     DocumentOrigin
	// Components are the component names the procedure asks for in the catalog now; a file for
	// any other component (save one the dossier recorded, or a missing item a supplement request
	// asked for) is refused.
	Components []string
	// MaxDossierBytes bounds the sum of the dossier's files (configuration).
	MaxDossierBytes int64
	At              time.Time
}

func (AttachDocument) Action() Action { return ActionAttachDocument }

// MaxDocuments bounds the files of one dossier, so its page and its history stay bounded whatever
// the sizes (the bytes are bounded by configuration).
const MaxDocuments = 500

// MaxFileNameLength bounds a file's name, in characters (most file systems' limit).
const MaxFileNameLength = 255

// CheckFileName refuses a name that is no plain file name: empty, too long, not UTF-8, holding a
// control character, a path separator, or naming "." or "..". The edge checks it before it
// stores a byte; Decide checks it again.
func CheckFileName(name string) error {
	switch {
	case strings.TrimSpace(name) == "":
		return fmt.Errorf("is required")
	case !utf8.ValidString(name):
		return fmt.Errorf("is not valid UTF-8")
	case utf8.RuneCountInString(name) > MaxFileNameLength:
		return fmt.Errorf("is longer than %d characters", MaxFileNameLength)
	case strings.ContainsAny(name, `/\`) || name == "." || name == "..":
		return fmt.Errorf("must be a file name, not a path")
	case strings.IndexFunc(name, func(r rune) bool { return unicode.IsControl(r) || r == utf8.RuneError }) >= 0:
		return fmt.Errorf("holds a control character")
	case strings.IndexFunc(name, func(r rune) bool { return unicode.In(r, unicode.Cf) }) >= 0:
		// Bidirectional overrides and invisible formatting make "gpxd‮fdp.exe" look like a PDF.
		return fmt.Errorf("holds an invisible formatting character")
	}
	return nil
}

// NormalFileName is name in Unicode NFC (style: Vietnamese text is stored composed), trimmed.
func NormalFileName(name string) string { return norm.NFC.String(strings.TrimSpace(name)) }

// DocumentBytes is the sum of the sizes of the dossier's files.
func (d Dossier) DocumentBytes() int64 {
	var n int64
	for _, doc := range d.Documents {
		n += doc.Size
	}
	return n
}

// Document returns the dossier's file with the given id.
func (d Dossier) Document(id string) (DocumentAttached, bool) {
	i := slices.IndexFunc(d.Documents, func(doc DocumentAttached) bool { return doc.DocumentID == id })
	if i < 0 {
		return DocumentAttached{}, false
	}
	return d.Documents[i], true
}

// AttachedAlready returns the file of the same content already attached to component, if any:
// sending the same file again (a retried upload) records it once.
func (d Dossier) AttachedAlready(component, sha256 string) (DocumentAttached, bool) {
	for _, doc := range d.Documents {
		if doc.Component != "" && doc.Component == component && strings.EqualFold(doc.SHA256, sha256) {
			return doc, true
		}
	}
	return DocumentAttached{}, false
}

// AttachableComponents are the component names a file may be attached to: the procedure's in
// the catalog, those the dossier recorded, and the items a pending supplement request asks for.
func (d Dossier) AttachableComponents(catalog []string) []string {
	names := slices.Clone(catalog)
	for _, c := range d.Components {
		names = append(names, c.Name)
	}
	if d.PendingSupplement != nil {
		names = append(names, d.PendingSupplement.MissingItems...)
	}
	slices.Sort(names)
	return slices.Compact(names)
}

func decideAttachDocument(d Dossier, c AttachDocument) ([]Event, error) {
	var v Validation
	v.Check(c.DocumentID != "", "document_id", "is required")
	if c.Component == "" {
		v.Add("component", "is required")
	} else if !slices.Contains(d.AttachableComponents(c.Components), c.Component) {
		v.Add("component", "%q is not a component of procedure %s", c.Component, d.Procedure.Code)
	}
	v.Check(c.Origin.Valid() && c.Origin != OriginResult, "origin", "must be desk_scan, upload, citizen_store or national_database")
	checkStoredFile(&v, c.File)
	v.Check(len(d.Documents) < MaxDocuments, "file", "the dossier already holds %d files", MaxDocuments)
	if c.MaxDossierBytes > 0 && d.DocumentBytes()+c.File.Size > c.MaxDossierBytes {
		v.Add("file", "the dossier's files would exceed %d bytes", c.MaxDossierBytes)
	}
	checkMoment(&v, c.At)
	if err := v.Err(); err != nil {
		return nil, err
	}
	return []Event{documentAttached(d, c.DocumentID, c.File, c.Origin, c.At, c.Component, "")}, nil
}

func documentAttached(d Dossier, id string, f StoredFile, origin DocumentOrigin, at time.Time, component, resultCode string) DocumentAttached {
	return DocumentAttached{DocumentID: id, Component: component, ResultCode: resultCode,
		File: FileLabel{Type: d.Applicant.Type, IDNumber: d.Applicant.IDNumber, Name: NormalFileName(f.Name)}, MediaType: f.MediaType, Size: f.Size,
		SHA256: f.SHA256, Blob: f.Blob, Sealed: f.Sealed, Origin: origin, AttachedAt: at}
}

// checkStoredFile checks what the edge reports of a stored file (field "file").
func checkStoredFile(v *Validation, f StoredFile) {
	if err := CheckFileName(f.Name); err != nil {
		v.Add("file", "name %s", err)
	}
	v.Check(f.MediaType == MediaPDF || f.MediaType == MediaJPEG || f.MediaType == MediaPNG, "file", "must be a PDF, JPEG or PNG file")
	v.Check(f.Size > 0, "file", "is empty")
	v.Check(validDocumentHash(f.SHA256) && validDocumentHash(f.Blob), "file", "must be stored under its SHA-256 digest")
}
