package web

import (
	"errors"

	"github.com/labstack/echo/v4"

	"portpanel/db"
	"portpanel/handlers"
)

// sessionUser authenticates the session cookie's user, if any. No session
// is not an error: authorize decides what an anonymous request may do.
//
// The user is read afresh on every request (from db's cache, which any
// commit empties), so a role change applies at once. A session unused for
// longer than the idle timeout ends here too. A session whose user is gone or disabled, or whose password
// changed since it began (the user's session epoch moved on), is destroyed
// on the server, and the request goes on as anonymous.
func sessionUser(h *handlers.Handlers, c echo.Context) (bool, error) {
	id := h.SessionUserID(c)
	if id == 0 {
		return false, nil
	}
	u, err := h.DB.UserByID(c.Request().Context(), id)
	switch {
	case errors.Is(err, db.ErrNotFound):
		return false, h.EndSession(c, "")
	case err != nil:
		return true, err
	case u.Disabled || u.SessionEpoch != h.SessionEpoch(c):
		return false, h.EndSession(c, "Your session has ended: your password was changed or your account disabled. Sign in again.")
	case h.SessionIdle(c):
		return false, h.EndSession(c, "Your session ended after "+h.Sessions.Idle.String()+" without activity. Sign in again.")
	}
	handlers.SetUser(c, u, false)
	return true, nil
}
