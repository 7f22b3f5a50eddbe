package handlers

import (
	"errors"
	"fmt"
	"net/http"
	"strconv"

	"github.com/labstack/echo/v4"

	"portpanel/change"
	"portpanel/db"
	"portpanel/handlers/auth"
	"portpanel/sysctl"
	"portpanel/views"
)

const changesPerPage = 50

// CreateChange applies the change form. Invalid input shows the form again
// with 422; an attempt the kernel or the file refused is recorded and shown.
func (h *Handlers) CreateChange(c echo.Context) error {
	form := views.ChangeForm{Low: c.FormValue("low"), High: c.FormValue("high"), Reason: c.FormValue("reason")}
	low, lerr := sysctl.ParsePort("low", form.Low)
	high, herr := sysctl.ParsePort("high", form.High)
	if err := errors.Join(lerr, herr); err != nil {
		return h.formErrors(c, form, lerr, herr)
	}
	ch, err := h.Changes.Apply(c.Request().Context(), change.Request{Low: low, High: high, Reason: form.Reason, Actor: actor(c)})
	var failed *change.FailedError
	switch {
	case errors.As(err, &failed):
		h.flash(c, fmt.Sprintf("Change #%d failed: %s", failed.Change.ID, failed.Change.Error), true)
		return c.Redirect(http.StatusSeeOther, changePath(failed.Change.ID))
	case isInvalid(err):
		return h.formErrors(c, form, err)
	case err != nil:
		return err
	}
	h.flash(c, fmt.Sprintf("Applied: the range is now %d – %d, in the kernel and in %s.", ch.Low, ch.High, ch.File), false)
	return c.Redirect(http.StatusSeeOther, changePath(ch.ID))
}

// formErrors shows the dashboard again with the form's errors by field.
func (h *Handlers) formErrors(c echo.Context, form views.ChangeForm, errs ...error) error {
	form.Errors = map[string]string{}
	for _, err := range errs {
		field, msg, ok := invalidField(err)
		switch {
		case !ok:
			continue
		case field == "low" || field == "high" || field == "reason":
			form.Errors[field] = msg
		default:
			form.Error = msg
		}
	}
	return h.dashboard(c, http.StatusUnprocessableEntity, &form)
}

// ListChanges lists changes, newest first, 50 a page.
func (h *Handlers) ListChanges(c echo.Context) error {
	ctx := c.Request().Context()
	list, err := h.DB.Changes(ctx, changesPerPage, cursor(c))
	if err != nil {
		return err
	}
	undone, err := h.rolledBackBy(ctx, list)
	if err != nil {
		return err
	}
	ch, err := h.chrome(c, "Changes", "changes")
	if err != nil {
		return err
	}
	u, _ := CurrentUser(c)
	return render(c, http.StatusOK, views.Changes(views.ChangesPage{
		Chrome: ch, Changes: list, RolledBackBy: undone, Next: nextCursor(len(list), changesPerPage, func(i int) int64 { return list[i].ID }),
		CanChange: auth.Allows(u.Role, db.RoleOperator),
	}))
}

// ShowChange shows one change with its diff.
func (h *Handlers) ShowChange(c echo.Context) error {
	ctx := c.Request().Context()
	id, err := pathID(c)
	if err != nil {
		return err
	}
	chg, err := h.DB.Change(ctx, id)
	if err != nil {
		return err
	}
	later, err := h.DB.RollbacksOf(ctx, id)
	if err != nil {
		return err
	}
	ch, err := h.chrome(c, fmt.Sprintf("Change #%d", id), "changes")
	if err != nil {
		return err
	}
	u, _ := CurrentUser(c)
	undone := false
	for _, r := range later {
		undone = undone || r.Status == db.StatusApplied
	}
	return render(c, http.StatusOK, views.Change(views.ChangePage{
		Chrome: ch, Change: chg, RolledBackBy: later,
		CanRollback: chg.Status == db.StatusApplied && !undone && auth.Allows(u.Role, db.RoleOperator),
	}))
}

// RollbackChange rolls back an applied change and shows the new change.
func (h *Handlers) RollbackChange(c echo.Context) error {
	id, err := pathID(c)
	if err != nil {
		return err
	}
	ch, err := h.Changes.Rollback(c.Request().Context(), id, c.FormValue("reason"), actor(c))
	var failed *change.FailedError
	switch {
	case errors.As(err, &failed):
		h.flash(c, fmt.Sprintf("Rollback #%d failed: %s", failed.Change.ID, failed.Change.Error), true)
		return c.Redirect(http.StatusSeeOther, changePath(failed.Change.ID))
	case isInvalid(err) || errors.Is(err, change.ErrConflict):
		h.flash(c, "Not rolled back: "+err.Error(), true)
		return c.Redirect(http.StatusSeeOther, changePath(id))
	case err != nil:
		return err
	}
	h.flash(c, fmt.Sprintf("Rolled back change #%d: the range is %d – %d again.", id, ch.Low, ch.High), false)
	return c.Redirect(http.StatusSeeOther, changePath(ch.ID))
}

func changePath(id int64) string { return "/changes/" + strconv.FormatInt(id, 10) }

func actor(c echo.Context) change.Actor {
	u, _ := CurrentUser(c)
	return change.Actor{ID: u.ID, Name: u.Name}
}
