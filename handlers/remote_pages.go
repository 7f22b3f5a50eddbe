package handlers

import (
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"

	"github.com/labstack/echo/v4"

	"portpanel/auth"
	"portpanel/change"
	"portpanel/db"
	"portpanel/views"
)

// hostChangeForm is the host page's change form for u, nil when u may not
// change hosts or host v cannot take a change (no report yet, revoked,
// observe-only: the change service would refuse it anyway).
func (h *Handlers) hostChangeForm(u db.User, v hostView, csrf string) *views.HostChange {
	if !auth.Allows(u.Role, auth.RoleOperator) || v.Observed == nil || v.RevokedAt != nil || v.ObserveOnly {
		return nil
	}
	o := v.Observed
	low, high := strconv.Itoa(o.Runtime.Low), strconv.Itoa(o.Runtime.High)
	return &views.HostChange{Host: v.Name, CSRF: csrf, RequireApproval: h.Changes.RequireApproval, Form: views.ChangeForm{
		Low: low, High: high, ConfirmWithin: "0", BaseLow: low, BaseHigh: high,
		ReservedPorts: o.ReservedPorts, BaseReserved: o.ReservedPorts, BaseGeneration: strconv.FormatInt(v.Generation, 10),
	}}
}

// HostCreateChange handles a host page's change form as CreateChange
// handles the dashboard's: a plain submit shows the review (the agent's
// diff and hazards) and changes nothing; confirm=yes applies (or
// proposes) what was reviewed, through the same gate; edit=yes goes back
// to the host page. What is refused goes back to the host page with the
// reason.
func (h *Handlers) HostCreateChange(c echo.Context) error {
	host := c.Param("name")
	back := views.HostURL(host)
	if c.FormValue("edit") == "yes" {
		return c.Redirect(http.StatusSeeOther, back)
	}
	form, req, errs := h.changeForm(c)
	form.BaseGeneration = c.FormValue("base_generation")
	if form.BaseGeneration != "" {
		gen, err := strconv.ParseInt(form.BaseGeneration, 10, 64)
		if err != nil {
			errs = append(errs, &change.InvalidError{Field: "value", Message: "The form's base generation is malformed: reload the host page and start again."})
		}
		req.BaseGeneration = &gen
	}
	if len(errs) > 0 {
		return h.backToHost(c, back, "Not changed", errs[0])
	}
	if c.FormValue("confirm") != "yes" {
		return h.hostReview(c, host, form, req, "")
	}
	chg, err := h.Changes.ApplyRemote(c.Request().Context(), host, req)
	var failed *change.FailedError
	switch {
	case hazardError(err) != nil:
		return h.hostReview(c, host, form, req, err.Error())
	case errors.As(err, &failed):
		h.flash(c, fmt.Sprintf("Change #%d failed: %s", failed.Change.ID, failed.Change.Error), true)
		return c.Redirect(http.StatusSeeOther, changePath(failed.Change.ID))
	case err != nil:
		return h.backToHost(c, back, "Not changed", err)
	}
	h.flash(c, remoteMessage(chg), false)
	return c.Redirect(http.StatusSeeOther, changePath(chg.ID))
}

// hostReview is the Review change page for host: the agent's preview.
func (h *Handlers) hostReview(c echo.Context, host string, form views.ChangeForm, req change.Request, hazardMsg string) error {
	pv, err := h.Changes.PreviewRemote(c.Request().Context(), host, req)
	if err != nil {
		return h.backToHost(c, views.HostURL(host), "Not reviewed", err)
	}
	form.BaseFile, form.BaseGeneration = pv.FileState, strconv.FormatInt(pv.Generation, 10)
	ch, err := h.chrome(c, "Review change on "+host, "hosts")
	if err != nil {
		return err
	}
	status := http.StatusOK
	if hazardMsg != "" {
		status = http.StatusUnprocessableEntity
	}
	return render(c, status, views.Preview(views.PreviewPage{
		Chrome: ch, Host: host, Form: form, Before: pv.Before, After: pv.Target, Warnings: pv.Warnings, Notes: pv.Notes,
		File: pv.File, Diff: pv.Diff, RequiresApproval: pv.RequiresApproval, Risk: h.viewRisk(),
		BeforeReserved: pv.BeforeReserved, AfterReserved: pv.TargetReserved,
		Hazards: pv.Hazards, Acknowledged: req.Acknowledge, HazardError: hazardMsg,
	}))
}

// backToHost answers an expected refusal (invalid, stale, forbidden, the
// agent not answering, no such host) with a flash on the host page, and
// returns any other error as it is.
func (h *Handlers) backToHost(c echo.Context, back, what string, err error) error {
	msg := err.Error()
	switch {
	case isInvalid(err):
		_, msg, _ = invalidField(err)
	case errors.Is(err, change.ErrConflict), errors.Is(err, change.ErrForbidden), noAnswer(err), errors.Is(err, db.ErrNotFound):
	default:
		return err
	}
	h.flash(c, what+": "+strings.TrimSuffix(msg, ".")+".", true)
	return c.Redirect(http.StatusSeeOther, back)
}

// remoteMessage is the flash after a remote change was submitted.
func remoteMessage(chg db.Change) string {
	switch chg.Status {
	case db.StatusApplying:
		return fmt.Sprintf("Change #%d was sent to %s; its agent has not reported on it yet. This page follows it.", chg.ID, chg.Host)
	case db.StatusApplied:
		if chg.ConfirmBy != nil {
			return fmt.Sprintf("Applied on %s: the range is now %d – %d. Confirm it before its deadline or %s reverts it.", chg.Host, chg.Low, chg.High, chg.Host)
		}
		return fmt.Sprintf("Applied on %s: the range is now %d – %d, in its kernel and in %s.", chg.Host, chg.Low, chg.High, chg.File)
	}
	return appliedMessage(chg)
}
