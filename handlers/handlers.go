// Package handlers turns HTTP requests into calls of the change workflow and
// the database, and their results into pages or JSON. Handlers stay thin:
// business rules live in package change.
package handlers

import (
	"fmt"
	"log/slog"
	"time"

	"github.com/a-h/templ"
	"github.com/alexedwards/scs/v2"
	"github.com/labstack/echo/v4"

	"portpanel/change"
	"portpanel/db"
)

// Handlers holds what every handler needs. main builds it.
type Handlers struct {
	DB       *db.DB
	Changes  *change.Service
	Sessions *scs.SessionManager
	Setup    *SetupToken
	Log      *slog.Logger
	// Host is the host name shown in the top bar; Netns is set when
	// portpanel runs in a network namespace other than the host's.
	Host  string
	Netns string
	Now   func() time.Time
}

// render buffers page and sends it, so a failed render never leaves half a
// page behind.
func render(c echo.Context, status int, page templ.Component) error {
	buf := templ.GetBuffer()
	defer templ.ReleaseBuffer(buf)
	if err := page.Render(c.Request().Context(), buf); err != nil {
		return fmt.Errorf("render: %w", err)
	}
	return c.HTMLBlob(status, buf.Bytes())
}
