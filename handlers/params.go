package handlers

import (
	"errors"
	"fmt"
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

// cursor is the keyset "before" parameter of list pages: 0 (the newest)
// when absent, else the id the page starts below. A value that is no id
// is refused rather than read as the first page: a script paging with a
// broken cursor would get the first page again and again.
func cursor(c echo.Context) (int64, error) {
	v := c.QueryParam("before")
	if v == "" {
		return 0, nil
	}
	id, err := strconv.ParseInt(v, 10, 64)
	if err != nil || id <= 0 {
		return 0, echo.NewHTTPError(http.StatusBadRequest,
			fmt.Sprintf("before must be the id an older page starts below, a whole number above 0, not %q.", v))
	}
	return id, nil
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
