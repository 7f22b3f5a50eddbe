package web

import (
	"errors"

	"github.com/labstack/echo/v4"

	"portpanel/db"
	"portpanel/handlers"
)

// sessionUser authenticates the session cookie's user, if any. No session
// is not an error: authorize decides what an anonymous request may do.
func sessionUser(h *handlers.Handlers, c echo.Context) (bool, error) {
	id := h.SessionUserID(c)
	if id == 0 {
		return false, nil
	}
	u, err := h.DB.UserByID(c.Request().Context(), id)
	if errors.Is(err, db.ErrNotFound) {
		return false, nil
	} else if err != nil {
		return true, err
	}
	handlers.SetUser(c, u, false)
	return true, nil
}
