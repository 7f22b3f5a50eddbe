package handlers

import (
	_ "embed"
	"net/http"
	"slices"

	"github.com/labstack/echo/v4"
)

// openAPI is the OpenAPI 3.1 description of /api/v1. It is written by
// hand, not generated: the handlers answer maps and structs whose shapes
// reflection cannot see whole (nullable fields, a usage answer of two
// shapes), and a hand-written document reads as documentation. The tests
// keep it true instead: every API request and answer of the web tests is
// validated against it (handlers/openapitest), and a route missing from
// it, or an operation the route table lacks, fails.
//
//go:embed openapi.json
var openAPI []byte

// OpenAPI is GET /api/v1/openapi.json: the document as kept in the
// repository, byte for byte.
func (h *Handlers) OpenAPI(c echo.Context) error {
	return c.Blob(http.StatusOK, echo.MIMEApplicationJSON, openAPI)
}

// OpenAPIDocument returns a copy of the document, for the tests that hold
// the API to it.
func OpenAPIDocument() []byte { return slices.Clone(openAPI) }
