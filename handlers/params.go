package handlers

import (
	"errors"
	"net/http"
	"strconv"

	"github.com/labstack/echo/v4"

	"portpanel/change"
	"portpanel/sysctl"
)

// pathID parses the :id path parameter.
func pathID(c echo.Context) (int64, error) {
	id, err := strconv.ParseInt(c.Param("id"), 10, 64)
	if err != nil || id <= 0 {
		return 0, echo.NewHTTPError(http.StatusNotFound, "No such change.")
	}
	return id, nil
}

// cursor is the keyset "before" parameter of list pages (0: the newest).
func cursor(c echo.Context) int64 {
	id, err := strconv.ParseInt(c.QueryParam("before"), 10, 64)
	if err != nil || id < 0 {
		return 0
	}
	return id
}

// nextCursor is the cursor of the next page when this one was full.
func nextCursor(n, limit int, id func(int) int64) int64 {
	if n < limit || n == 0 {
		return 0
	}
	return id(n - 1)
}

// invalidField extracts the field and message of a validation error.
func invalidField(err error) (field, msg string, ok bool) {
	var ce *change.InvalidError
	var se *sysctl.InvalidError
	switch {
	case errors.As(err, &ce):
		return ce.Field, ce.Message, true
	case errors.As(err, &se):
		return se.Field, se.Message, true
	}
	return "", "", false
}

func isInvalid(err error) bool {
	_, _, ok := invalidField(err)
	return ok
}
