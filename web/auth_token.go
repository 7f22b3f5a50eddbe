package web

import (
	"errors"
	"net/http"
	"strings"

	"github.com/labstack/echo/v4"

	"portpanel/db"
	"portpanel/handlers"
	"portpanel/handlers/auth"
)

// tokenUser authenticates "Authorization: Bearer TOKEN". Any Authorization
// header decides: a wrong one is a 401, never a fall back to the session.
func tokenUser(h *handlers.Handlers, c echo.Context) (bool, error) {
	authz := c.Request().Header.Get(echo.HeaderAuthorization)
	if authz == "" {
		return false, nil
	}
	secret, ok := strings.CutPrefix(authz, "Bearer ")
	if !ok || secret == "" {
		return true, echo.NewHTTPError(http.StatusUnauthorized, "Use Authorization: Bearer TOKEN.")
	}
	// The metrics token reads /metrics as a viewer would and nothing else;
	// a user's API token or session works there too, and without
	// --metrics-token only they do: /metrics tells about the host, so it
	// is never open like /healthz.
	if c.Path() == MetricsPath && h.MetricsToken != "" && sameSecret(secret, h.MetricsToken) {
		handlers.SetUser(c, metricsScraper, true)
		return true, nil
	}
	u, _, err := h.DB.UserByTokenHash(c.Request().Context(), auth.HashToken(secret))
	if errors.Is(err, db.ErrNotFound) {
		return true, echo.NewHTTPError(http.StatusUnauthorized, "Unknown or revoked API token.")
	} else if err != nil {
		return true, err
	}
	handlers.SetUser(c, u, true)
	return true, nil
}
