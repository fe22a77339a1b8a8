package web

import (
	_ "embed"

	"github.com/labstack/echo/v4"
)

// OpenAPI is the OpenAPI 3.1 description of every /api/v1 route, served at
// GET /api/v1/openapi.json. It is the contract: TestOpenAPI drives every
// route and error through the router and validates the requests and the
// answers against it, and `make lint-openapi` lints it, so it cannot drift
// from the code. Its schemas are closed (no undeclared fields).
//
//go:embed openapi.json
var OpenAPI []byte

// handleOpenAPI is GET /api/v1/openapi.json.
func (s *Server) handleOpenAPI(c echo.Context) error {
	return sendJSONAnswer(c, s.openapi)
}
