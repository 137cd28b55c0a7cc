package demo

import (
	_ "embed"
	"fmt"

	"github.com/motcua/motcua/domain"
	"github.com/motcua/motcua/domain/calendar"
)

// catalogJSON is the demo catalog: agencies of Thanh Hóa province (H56) and real procedures of the
// national procedure database with their internal workflows. The agency identifiers follow the
// QCVN 102 pattern but are illustrative; fees set by the province are typical amounts.
//
//go:embed catalog.json
var catalogJSON []byte

// Catalog parses the embedded demo catalog, checking that every workflow fits its procedure's
// statutory time under cal.
func Catalog(cal *calendar.Calendar) (*domain.Catalog, error) {
	c, err := domain.ParseCatalog(catalogJSON, cal)
	if err != nil {
		return nil, fmt.Errorf("demo %w", err)
	}
	return c, nil
}
