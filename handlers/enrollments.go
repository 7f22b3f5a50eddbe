package handlers

import (
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"portpanel/change"
	"portpanel/db"
	"portpanel/fleet"
	"portpanel/views"
)

const enrollmentsPerPage = 50

// ListEnrollments is the enrollment tokens page (admin): the form for a
// new token and the tokens, newest first.
func (h *Handlers) ListEnrollments(c echo.Context) error {
	return h.enrollmentsPage(c, http.StatusOK, views.EnrollmentForm{TTL: views.DefaultEnrollmentTTL})
}

func (h *Handlers) enrollmentsPage(c echo.Context, status int, form views.EnrollmentForm) error {
	list, next, err := h.enrollments(c)
	if err != nil {
		return err
	}
	ch, err := h.chrome(c, "Enrollment tokens", "hosts")
	if err != nil {
		return err
	}
	return render(c, status, views.Enrollments(views.EnrollmentsPage{Chrome: ch, Form: form, Enrollments: list, Next: next}))
}

// enrollments is the page of tokens ?before= asks for, newest first, and
// the cursor of the next.
func (h *Handlers) enrollments(c echo.Context) ([]db.EnrollmentToken, int64, error) {
	before, err := cursor(c)
	if err != nil {
		return nil, 0, err
	}
	list, err := h.DB.EnrollmentTokens(c.Request().Context(), enrollmentsPerPage, before)
	return list, nextCursor(len(list), enrollmentsPerPage, func(i int) int64 { return list[i].ID }), err
}

// CreateEnrollment handles the form: the token is shown on the page it
// answers with, once, never through a redirect (which would carry it in
// the session's flash).
func (h *Handlers) CreateEnrollment(c echo.Context) error {
	form := views.EnrollmentForm{Group: strings.TrimSpace(c.FormValue("group")), TTL: c.FormValue("ttl"), Errors: map[string]string{}}
	ttl, err := time.ParseDuration(form.TTL)
	if err != nil {
		form.Errors["ttl"] = "Pick a lifetime from the list."
		return h.enrollmentsPage(c, http.StatusUnprocessableEntity, form)
	}
	me, _ := CurrentUser(c)
	secret, t, err := h.createEnrollment(c, me.Name, form.Group, ttl)
	if field, msg, ok := invalidField(err); ok {
		form.Errors[field] = msg
		return h.enrollmentsPage(c, http.StatusUnprocessableEntity, form)
	} else if err != nil {
		return err
	}
	ch, err := h.chrome(c, "Enrollment token created", "hosts")
	if err != nil {
		return err
	}
	c.Response().Header().Set("Cache-Control", "no-store")
	return render(c, http.StatusCreated, views.EnrollmentCreated(views.EnrollmentCreatedPage{Chrome: ch, Enrollment: t, Token: secret, Server: h.AgentURL}))
}

// RevokeEnrollment is a token's Revoke button.
func (h *Handlers) RevokeEnrollment(c echo.Context) error {
	t, err := h.revokeEnrollment(c)
	if err != nil {
		return err
	}
	h.flash(c, fmt.Sprintf("Revoked enrollment token #%d for group %s: it enrolls no host now.", t.ID, t.Group), false)
	return c.Redirect(http.StatusSeeOther, "/enrollments")
}

func (h *Handlers) revokeEnrollment(c echo.Context) (db.EnrollmentToken, error) {
	noSuch := echo.NewHTTPError(http.StatusNotFound, "No such enrollment token.")
	id, err := strconv.ParseInt(c.Param("id"), 10, 64)
	if err != nil || id <= 0 {
		return db.EnrollmentToken{}, noSuch
	}
	me, _ := CurrentUser(c)
	t, err := h.Fleet.RevokeEnrollment(c.Request().Context(), me.Name, id)
	switch {
	case errors.Is(err, db.ErrNotFound):
		return t, noSuch
	case errors.Is(err, db.ErrConflict):
		return t, echo.NewHTTPError(http.StatusConflict, fmt.Sprintf("Enrollment token #%d was used or revoked already.", id))
	}
	return t, err
}

// enrollmentJSON is an enrollment token as the API lists it: never the
// token, which only the answer that creates it carries.
type enrollmentJSON struct {
	ID        int64      `json:"id"`
	Group     string     `json:"group"`
	CreatedBy string     `json:"created_by"`
	CreatedAt time.Time  `json:"created_at"`
	ExpiresAt time.Time  `json:"expires_at"`
	UsedAt    *time.Time `json:"used_at"`
	UsedBy    *string    `json:"used_by"`
	RevokedAt *time.Time `json:"revoked_at"`
}

func toEnrollmentJSON(t db.EnrollmentToken) enrollmentJSON {
	out := enrollmentJSON{ID: t.ID, Group: t.Group, CreatedBy: t.CreatedBy, CreatedAt: t.CreatedAt.UTC(), ExpiresAt: t.ExpiresAt.UTC(),
		UsedAt: utc(t.UsedAt), RevokedAt: utc(t.RevokedAt)}
	if t.UsedBy != "" {
		out.UsedBy = &t.UsedBy
	}
	return out
}

// APIEnrollments is GET /api/v1/enrollments, newest first, paged by
// ?before=ID.
func (h *Handlers) APIEnrollments(c echo.Context) error {
	list, _, err := h.enrollments(c)
	if err != nil {
		return err
	}
	out := make([]enrollmentJSON, 0, len(list))
	for _, t := range list {
		out = append(out, toEnrollmentJSON(t))
	}
	return c.JSON(http.StatusOK, map[string]any{"enrollments": out})
}

// APICreateEnrollment is POST /api/v1/enrollments {"group", "ttl"} → 201
// {"id", "token", "group", "expires_at"}: the only time the token is
// shown.
func (h *Handlers) APICreateEnrollment(c echo.Context) error {
	var body struct {
		Group string `json:"group"`
		TTL   string `json:"ttl"` // a Go duration: 15m, 1h, 24h; "" is 1h
	}
	if err := decodeJSON(c, &body); err != nil {
		return err
	}
	ttl := fleet.DefaultEnrollTTL
	if body.TTL != "" {
		d, err := time.ParseDuration(body.TTL)
		if err != nil {
			return &change.InvalidError{Field: "ttl", Message: fmt.Sprintf(`"ttl" must be a duration such as 15m, 1h or 24h, not %q.`, body.TTL)}
		}
		ttl = d
	}
	me, _ := CurrentUser(c)
	secret, t, err := h.createEnrollment(c, me.Name, strings.TrimSpace(body.Group), ttl)
	if err != nil {
		return err
	}
	c.Response().Header().Set("Cache-Control", "no-store")
	return c.JSON(http.StatusCreated, map[string]any{"id": t.ID, "token": secret, "group": t.Group, "expires_at": t.ExpiresAt.UTC()})
}

// APIRevokeEnrollment is POST /api/v1/enrollments/ID/revoke; it takes
// no body but an empty object.
func (h *Handlers) APIRevokeEnrollment(c echo.Context) error {
	if err := decodeOptionalJSON(c, &struct{}{}); err != nil {
		return err
	}
	t, err := h.revokeEnrollment(c)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, toEnrollmentJSON(t))
}

// createEnrollment checks group and ttl, with messages that name the
// field, and has fleet make the token.
func (h *Handlers) createEnrollment(c echo.Context, by, group string, ttl time.Duration) (string, db.EnrollmentToken, error) {
	if fleet.CheckGroup(group) != nil {
		return "", db.EnrollmentToken{}, &change.InvalidError{Field: "group",
			Message: "Name the group with 1 to 64 letters, digits, dots, dashes or underscores."}
	}
	if ttl < time.Minute || ttl > fleet.MaxEnrollTTL {
		return "", db.EnrollmentToken{}, &change.InvalidError{Field: "ttl",
			Message: fmt.Sprintf("A token's lifetime is 1m to 24h, not %s.", ttl)}
	}
	return h.Fleet.CreateEnrollment(c.Request().Context(), by, group, ttl)
}
