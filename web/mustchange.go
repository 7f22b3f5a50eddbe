package web

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"portpanel/handlers"
)

// whileMustChange are the routes a user whose password an admin chose may
// still use: the account page to choose a new one, and signing out.
var whileMustChange = map[string]bool{"/account": true, "/account/password": true, "/logout": true}

// holdForNewPassword keeps a user with MustChangePassword on the account
// page until they set their own password: pages redirect there with a
// flash, API requests (session or token) get 403. Public routes are never
// held. A user signed in by the trusted proxy (neither token nor session)
// never types the local password, so is not held either.
func holdForNewPassword(h *handlers.Handlers, role string) echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			u, ok := handlers.CurrentUser(c)
			if role == Public || !ok || !u.MustChangePassword || whileMustChange[c.Path()] {
				return next(c)
			}
			viaToken := handlers.ViaToken(c)
			if !viaToken && h.SessionUserID(c) != u.ID {
				return next(c) // signed in by the trusted proxy
			}
			if viaToken || handlers.IsAPI(c) || c.Path() == MetricsPath {
				return echo.NewHTTPError(http.StatusForbidden, "An administrator set this account's password: sign in to portpanel and choose a new one on the account page (/account) first.")
			}
			h.Flash(c, "Set a new password to continue.", true)
			return c.Redirect(http.StatusSeeOther, "/account")
		}
	}
}
