package handlers

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"portpanel/auth"
	"portpanel/change"
	"portpanel/db"
	"portpanel/sysctl"
	"portpanel/views"
)

const changesPerPage = 50

// CreateChange handles the change form. A plain submit shows the preview
// page and changes nothing; confirm=yes applies (or proposes) exactly what
// was previewed; edit=yes goes back to the form with its values. Invalid
// input shows the form again with 422; an attempt the kernel or the file
// refused is recorded and shown.
func (h *Handlers) CreateChange(c echo.Context) error {
	form, req, errs := h.changeForm(c)
	if c.FormValue("edit") == "yes" {
		return h.dashboard(c, http.StatusOK, &form)
	}
	if len(errs) > 0 {
		return h.formErrors(c, form, errs...)
	}
	ctx := c.Request().Context()
	if c.FormValue("confirm") != "yes" {
		return h.review(c, form, req, "")
	}
	chg, err := h.Changes.Apply(ctx, req)
	var failed *change.FailedError
	switch {
	case hazardError(err) != nil:
		return h.review(c, form, req, err.Error())
	case errors.As(err, &failed):
		h.flash(c, fmt.Sprintf("Change #%d failed: %s", failed.Change.ID, failed.Change.Error), true)
		return c.Redirect(http.StatusSeeOther, changePath(failed.Change.ID))
	case isInvalid(err):
		return h.formErrors(c, form, err)
	case err != nil:
		return err
	}
	h.flash(c, appliedMessage(chg), false)
	return c.Redirect(http.StatusSeeOther, changePath(chg.ID))
}

// appliedMessage is the flash after a change was submitted.
func appliedMessage(chg db.Change) string {
	switch {
	case chg.Status == db.StatusProposed:
		return fmt.Sprintf("Change #%d is waiting for approval by a second person; nothing was changed yet.", chg.ID)
	case chg.ConfirmBy != nil:
		return fmt.Sprintf("Applied: the range is now %d – %d. Confirm it before %s UTC or it reverts automatically.",
			chg.Low, chg.High, chg.ConfirmBy.UTC().Format(time.TimeOnly))
	}
	return fmt.Sprintf("Applied: the range is now %d – %d, in the kernel and in %s.", chg.Low, chg.High, chg.File)
}

// changeForm reads the change form into the values to show again and the
// request to make.
func (h *Handlers) changeForm(c echo.Context) (views.ChangeForm, change.Request, []error) {
	form := views.ChangeForm{
		Low: c.FormValue("low"), High: c.FormValue("high"), Reason: c.FormValue("reason"),
		ConfirmWithin: c.FormValue("confirm_within"), BaseLow: c.FormValue("base_low"), BaseHigh: c.FormValue("base_high"),
		BaseFile: c.FormValue("base_file"), SetReserved: c.FormValue("set_reserved") == "yes",
		ReservedPorts: c.FormValue("reserved_ports"), BaseReserved: c.FormValue("base_reserved"),
	}
	if form.ConfirmWithin == "" {
		form.ConfirmWithin = "0"
	}
	req := change.Request{Reason: form.Reason, Actor: actor(c), BaseFile: form.BaseFile, Acknowledge: formList(c, "acknowledge")}
	var errs []error
	var err error
	if req.Low, err = sysctl.ParsePort("low", form.Low); err != nil {
		errs = append(errs, err)
	}
	if req.High, err = sysctl.ParsePort("high", form.High); err != nil {
		errs = append(errs, err)
	}
	secs, err := strconv.Atoi(form.ConfirmWithin)
	if err != nil {
		errs = append(errs, &change.InvalidError{Field: "confirm_within", Message: "Pick an auto-revert time from the list."})
	}
	req.ConfirmWithin = time.Duration(secs) * time.Second
	if form.SetReserved {
		// Spaces around a pasted list are the browser's, not a value the
		// kernel would see; spaces inside it are refused as in the API.
		list := strings.TrimSpace(form.ReservedPorts)
		req.ReservedPorts = &list
	}
	if params, err := c.FormParams(); err == nil && params.Has("base_reserved") {
		base := form.BaseReserved
		req.BaseReserved = &base
	}
	if form.BaseLow != "" || form.BaseHigh != "" {
		bl, lerr := strconv.Atoi(strings.TrimSpace(form.BaseLow))
		bh, herr := strconv.Atoi(strings.TrimSpace(form.BaseHigh))
		if lerr != nil || herr != nil {
			errs = append(errs, &change.InvalidError{Field: "value", Message: "The form's base value is malformed: reload the page and start again."})
		}
		req.Base = &sysctl.Range{Low: bl, High: bh}
	}
	return form, req, errs
}

// formErrors shows the dashboard again with the form's errors by field.
func (h *Handlers) formErrors(c echo.Context, form views.ChangeForm, errs ...error) error {
	form.Errors = map[string]string{}
	for _, err := range errs {
		field, msg, ok := invalidField(err)
		switch {
		case !ok:
			continue
		case field == "low" || field == "high" || field == "reason" || field == "confirm_within" || field == "reserved_ports":
			form.Errors[field] = msg
		default:
			form.Error = msg
		}
	}
	return h.dashboard(c, http.StatusUnprocessableEntity, &form)
}

// ListChanges lists changes, newest first, 50 a page, filtered by user and
// time.
func (h *Handlers) ListChanges(c echo.Context) error {
	f, filter, err := listFilter(c)
	if err != nil {
		return err
	}
	before, err := cursor(c)
	if err != nil {
		return err
	}
	ch, err := h.chrome(c, "Changes", "changes")
	if err != nil {
		return err
	}
	u, _ := CurrentUser(c)
	key := changesKey{filter: filter, before: before, canChange: auth.Allows(u.Role, auth.RoleOperator)}
	if key.canChange {
		key.csrf = ch.CSRF // in each rollback form
	}
	// Kept for a second of the times shown relative to now (versionCache).
	main, err := keep(h, c, &h.memo.changesPage, key, ch.Now.Unix(), func(ctx context.Context) (views.Prerendered, error) {
		list, err := h.DB.ChangesFiltered(ctx, f, changesPerPage, before)
		if err != nil {
			return views.Prerendered{}, err
		}
		undone, err := h.rolledBackBy(ctx, list)
		if err != nil {
			return views.Prerendered{}, err
		}
		return views.Prerender(ctx, views.ChangesMain(views.ChangesPage{
			Chrome: views.Chrome{Now: ch.Now, CSRF: key.csrf}, Filter: filter, Changes: list, RolledBackBy: undone,
			Next: nextCursor(len(list), changesPerPage, func(i int) int64 { return list[i].ID }), CanChange: key.canChange,
		}))
	})
	if err != nil {
		return err
	}
	return render(c, http.StatusOK, views.Framed(ch, main))
}

// changesKey is what the changes page shows besides the data and the time.
type changesKey struct {
	filter    views.ListFilter
	before    int64
	canChange bool
	csrf      string
}

// ShowChange shows one change with its diff and what the viewer may do.
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
		undone = undone || isInForce(r.Status)
	}
	operator := auth.Allows(u.Role, auth.RoleOperator)
	canDecide := chg.Status == db.StatusProposed && auth.MayApprove(u.Role) && chg.UserID != u.ID
	var fresh []db.Hazard
	if canDecide {
		if fresh, err = h.Changes.NewHazards(chg); err != nil {
			return err
		}
	}
	return render(c, http.StatusOK, views.Change(views.ChangePage{
		Chrome: ch, Change: chg, RolledBackBy: later,
		CanRollback:      isInForce(chg.Status) && !undone && operator,
		CanDecide:        canDecide,
		NewHazards:       fresh,
		CanConfirm:       chg.Status == db.StatusApplied && chg.ConfirmBy != nil && operator,
		RollbackProposes: h.Changes.RequireApproval && !auth.MayApprove(u.Role),
	}))
}

// isInForce reports whether a change with status is what the host runs
// (until something later replaces it).
func isInForce(status string) bool {
	return status == db.StatusApplied || status == db.StatusConfirmed
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
	if ch.Status == db.StatusProposed {
		h.flash(c, fmt.Sprintf("Rollback of change #%d proposed as change #%d: an approver must approve it.", id, ch.ID), false)
	} else {
		h.flash(c, fmt.Sprintf("Rolled back change #%d: the range is %d – %d again.", id, ch.Low, ch.High), false)
	}
	return c.Redirect(http.StatusSeeOther, changePath(ch.ID))
}

func changePath(id int64) string { return "/changes/" + strconv.FormatInt(id, 10) }

func actor(c echo.Context) change.Actor {
	u, _ := CurrentUser(c)
	return change.Actor{ID: u.ID, Name: u.Name, Role: u.Role}
}
