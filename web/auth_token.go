package web

import (
	"errors"
	"net/http"
	"strings"

	"github.com/labstack/echo/v4"

	"portpanel/auth"
	"portpanel/db"
	"portpanel/handlers"
)

// tokenUser authenticates "Authorization: Bearer TOKEN". A Bearer header
// decides: a wrong one is a 401, never a fall back to the session. Another
// scheme is not portpanel's and is ignored: a reverse proxy's HTTP Basic
// sign-in reaches portpanel on every request of the browser behind it
// (nginx passes Authorization on), and used to make every page a 401.
func tokenUser(h *handlers.Handlers, c echo.Context) (bool, error) {
	authz := c.Request().Header.Get(echo.HeaderAuthorization)
	if !bearerScheme(authz) {
		return false, nil
	}
	secret, _ := strings.CutPrefix(authz, "Bearer ")
	if secret == "" {
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
	ctx := c.Request().Context()
	u, t, err := h.DB.UserByTokenHash(ctx, auth.HashToken(secret))
	if errors.Is(err, db.ErrNotFound) {
		return true, badToken(c, "Unknown or revoked API token.")
	} else if err != nil {
		return true, err
	}
	now := h.Now()
	if t.ExpiresAt != nil && !now.Before(*t.ExpiresAt) {
		return true, badToken(c, "API token expired on "+auth.ExpiryText(*t.ExpiresAt)+".")
	}
	if u.Disabled {
		return true, badToken(c, "The API token's user is disabled.")
	}
	if t.LastUsedAt == nil || now.Sub(*t.LastUsedAt) >= db.TokenUseInterval {
		// Only a convenience for the token list: a failed write must not
		// fail the request it describes.
		if err := h.DB.TokenUsed(ctx, t.ID, now); err != nil {
			h.Log.Warn("record API token use", "token", t.ID, "err", err)
		}
	}
	// The request acts with the token's role, capped by its owner's role
	// as it is now: demoting a user demotes their tokens at once.
	u.Role = auth.TokenRole(t.Role, u.Role)
	handlers.SetUser(c, u, true)
	return true, nil
}

// bearerScheme reports whether an Authorization header value is meant for
// portpanel: the Bearer scheme, spelled as RFC 6750 does, with or without a
// token after it.
func bearerScheme(authz string) bool {
	return authz == "Bearer" || strings.HasPrefix(authz, "Bearer ")
}

// badToken is the 401 for a token that cannot be used, with the header
// RFC 6750 asks for.
func badToken(c echo.Context, msg string) error {
	c.Response().Header().Set("WWW-Authenticate", `Bearer realm="portpanel", error="invalid_token"`)
	return echo.NewHTTPError(http.StatusUnauthorized, msg)
}
