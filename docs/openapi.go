// Package docs holds what of the documentation the binary serves: the OpenAPI contract of the
// JSON API (openapi.yaml), written by hand and checked against every request and answer of the
// HTTP tests and of the tests of cmd/motcua (internal/contracttest).
package docs

import (
	_ "embed"
	"encoding/json"
	"sync"

	yaml "go.yaml.in/yaml/v3"
)

// OpenAPIYAML is the contract as written.
//
//go:embed openapi.yaml
var OpenAPIYAML []byte

// OpenAPIJSON is the contract as JSON, served at GET /api/v1/openapi.json; converted once.
var OpenAPIJSON = sync.OnceValues(func() ([]byte, error) {
	var doc any
	if err := yaml.Unmarshal(OpenAPIYAML, &doc); err != nil {
		return nil, err
	}
	return json.Marshal(doc)
})
