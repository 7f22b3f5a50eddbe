package handlers

import (
	"errors"
	"fmt"
	"net/http"

	"github.com/labstack/echo/v4"

	"portpanel/auth"
	"portpanel/change"
	"portpanel/db"
	"portpanel/views"
)

// PendingChanges lists proposals waiting for approval, oldest first.
func (h *Handlers) PendingChanges(c echo.Context) error {
	list, err := h.DB.ChangesByStatus(c.Request().Context(), db.StatusProposed)
	if err != nil {
		return err
	}
	ch, err := h.chrome(c, "Pending approval", "pending")
	if err != nil {
		return err
	}
	u, _ := CurrentUser(c)
	return render(c, http.StatusOK, views.Pending(views.PendingPage{
		Chrome: ch, Proposals: list, CanDecide: auth.MayApprove(u.Role),
	}))
}

// ApproveChange approves a proposal, which applies it.
func (h *Handlers) ApproveChange(c echo.Context) error {
	id, err := pathID(c)
	if err != nil {
		return err
	}
	chg, err := h.Changes.ApproveAcknowledging(c.Request().Context(), id, actor(c), c.FormValue("reason"), formList(c, "acknowledge"))
	if h.decisionFailed(c, id, "Not approved", err) {
		return nil
	} else if err != nil {
		return err
	}
	if chg.Host != "" {
		h.flash(c, "Approved. "+remoteMessage(chg), false)
	} else {
		h.flash(c, fmt.Sprintf("Approved and applied change #%d: the range is now %d – %d.", id, chg.Low, chg.High), false)
	}
	return c.Redirect(http.StatusSeeOther, changePath(id))
}

// RejectChange rejects a proposal with a reason.
func (h *Handlers) RejectChange(c echo.Context) error {
	id, err := pathID(c)
	if err != nil {
		return err
	}
	_, err = h.Changes.Reject(c.Request().Context(), id, actor(c), c.FormValue("reason"))
	if h.decisionFailed(c, id, "Not rejected", err) {
		return nil
	} else if err != nil {
		return err
	}
	h.flash(c, fmt.Sprintf("Rejected change #%d; nothing was changed.", id), false)
	return c.Redirect(http.StatusSeeOther, changePath(id))
}

// ConfirmChange keeps a change that would otherwise revert at its deadline.
func (h *Handlers) ConfirmChange(c echo.Context) error {
	id, err := pathID(c)
	if err != nil {
		return err
	}
	chg, err := h.Changes.Confirm(c.Request().Context(), id, actor(c))
	if h.decisionFailed(c, id, "Not confirmed", err) {
		return nil
	} else if err != nil {
		return err
	}
	if chg.Status == db.StatusApplied { // a remote host's agent has not said so yet
		h.flash(c, fmt.Sprintf("Confirmation of change #%d sent to %s; its agent has not reported it confirmed yet.", id, chg.Host), false)
	} else {
		h.flash(c, fmt.Sprintf("Confirmed change #%d: it stays.", id), false)
	}
	return c.Redirect(http.StatusSeeOther, changePath(id))
}

// decisionFailed answers an expected refusal (invalid, stale, forbidden) or
// a failed apply with a flash on the change's page, and reports whether it
// did. A stale proposal goes back to its page, which shows the current state.
func (h *Handlers) decisionFailed(c echo.Context, id int64, what string, err error) bool {
	var failed *change.FailedError
	switch {
	case err == nil:
		return false
	case errors.As(err, &failed):
		h.flash(c, fmt.Sprintf("Change #%d failed: %s", failed.Change.ID, failed.Change.Error), true)
	case isInvalid(err):
		_, msg, _ := invalidField(err)
		h.flash(c, what+": "+msg, true)
	case errors.Is(err, change.ErrConflict), errors.Is(err, change.ErrForbidden), hazardError(err) != nil:
		h.flash(c, what+": "+err.Error(), true)
	default:
		return false
	}
	c.Redirect(http.StatusSeeOther, changePath(id))
	return true
}
