package handlers

import (
	"errors"
	"net/http"
	"strings"

	"github.com/labstack/echo/v4"

	"portpanel/change"
	"portpanel/db"
	"portpanel/views"
)

// Error is echo's one error handler: it maps an error to a status and
// answers JSON under /api/ and a page elsewhere. Only unexpected errors are
// logged; their text never reaches the client.
func (h *Handlers) Error(err error, c echo.Context) {
	if c.Response().Committed {
		return
	}
	status, msg := classify(err)
	switch status {
	case http.StatusInternalServerError:
		h.Log.Error("request failed", "method", c.Request().Method, "path", c.Request().URL.Path, "err", err)
	case http.StatusServiceUnavailable:
		c.Response().Header().Set("Retry-After", RetryAfterUnavailable)
		if db.IsUnavailable(err) {
			h.Log.Warn("request failed: database unavailable", "method", c.Request().Method, "path", c.Request().URL.Path, "err", err)
		}
	}
	var failed *change.FailedError
	if IsAPI(c) {
		body := map[string]any{"error": msg}
		if errors.As(err, &failed) {
			body["change"] = changeJSON(failed.Change)
		}
		if hz := hazardError(err); hz != nil {
			body["hazards"] = hz.Hazards
		}
		err = c.JSON(status, body)
	} else {
		err = h.errorPage(c, status, msg, errors.Is(err, db.ErrLastAdmin))
	}
	if err != nil {
		h.Log.Error("write error response", "err", err)
	}
}

func classify(err error) (int, string) {
	var he *echo.HTTPError
	var failed *change.FailedError
	switch {
	case errors.As(err, &he):
		if msg, ok := he.Message.(string); ok {
			return he.Code, msg
		}
		return he.Code, http.StatusText(he.Code)
	case hazardError(err) != nil:
		return http.StatusUnprocessableEntity, err.Error()
	case noAnswer(err):
		return http.StatusGatewayTimeout, err.Error()
	case errors.As(err, &failed):
		if failed.KernelRefused {
			return http.StatusUnprocessableEntity, failed.Change.Error
		}
		return http.StatusInternalServerError, failed.Change.Error
	case isInvalid(err):
		_, msg, _ := invalidField(err)
		return http.StatusUnprocessableEntity, msg
	case errors.Is(err, change.ErrConflict):
		return http.StatusConflict, err.Error()
	case errors.Is(err, db.ErrLastAdmin):
		return http.StatusConflict, "Not done: this is the last enabled admin, and portpanel needs one to manage users. Make another user admin first."
	case errors.Is(err, ErrUserDisabled):
		// Only reached if sign-in code forgot to check; same words as a
		// wrong password, so the answer reveals nothing more.
		return http.StatusUnauthorized, "Wrong user name or password."
	case errors.Is(err, db.ErrConflict):
		// Another request moved the change first; db's message says to what.
		var moved *db.StatusConflictError
		if errors.As(err, &moved) {
			return http.StatusConflict, "Not done: " + moved.Error() + "."
		}
		return http.StatusConflict, "Not done: it conflicts with the current state."
	case errors.Is(err, change.ErrForbidden):
		return http.StatusForbidden, err.Error()
	case errors.Is(err, db.ErrNotFound):
		return http.StatusNotFound, "Not found."
	case db.IsUnavailable(err):
		return http.StatusServiceUnavailable, unavailableMessage
	}
	return http.StatusInternalServerError, "Internal error: the details are in portpanel's log."
}

// While the database cannot be reached (PostgreSQL restarting), requests
// answer 503 with this message and Retry-After, and work again once it is
// back, without restarting portpanel.
const (
	unavailableMessage    = "The database is unavailable; try again shortly."
	RetryAfterUnavailable = "5" // seconds
)

func (h *Handlers) errorPage(c echo.Context, status int, msg string, lastAdmin bool) error {
	ch, err := h.chrome(c, http.StatusText(status), "")
	if err != nil {
		ch = views.Chrome{Title: http.StatusText(status), Host: h.Host, Now: h.Now()}
	}
	p := views.ErrorPage{Chrome: ch, Code: status, Title: http.StatusText(status), Message: msg}
	switch {
	case lastAdmin:
		p.NextLabel, p.NextHref = "Back to the users", "/users"
	case status == http.StatusConflict:
		// Most conflicts are a change made meanwhile: the way on is a fresh
		// form, which shows the current state.
		p.NextLabel, p.NextHref = "Start a new change from the current state", "/"
	}
	return render(c, status, views.Error(p))
}

// IsAPI reports whether c is a call of the JSON API, which answers JSON,
// errors included.
func IsAPI(c echo.Context) bool {
	return strings.HasPrefix(c.Request().URL.Path, "/api/")
}

// Health answers 200 without login, for load balancers and systemd.
func (h *Handlers) Health(c echo.Context) error {
	return c.JSON(http.StatusOK, map[string]string{"status": "ok"})
}
