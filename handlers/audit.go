package handlers

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"portpanel/views"
)

const eventsPerPage = 100

// Audit lists audit events newest first, filtered by user and time, and
// says whether the hash chain (the whole log, whatever the filter) still
// verifies.
func (h *Handlers) Audit(c echo.Context) error {
	ctx := c.Request().Context()
	f, filter, err := listFilter(c)
	if err != nil {
		return err
	}
	list, err := h.DB.AuditFiltered(ctx, f, eventsPerPage, cursor(c))
	if err != nil {
		return err
	}
	ch, err := h.chrome(c, "Audit log", "audit")
	if err != nil {
		return err
	}
	p := views.AuditPage{Chrome: ch, Filter: filter, Events: list, Next: nextCursor(len(list), eventsPerPage, func(i int) int64 { return list[i].ID })}
	p.Verified, err = h.DB.VerifyAudit(ctx)
	p.ChainOK = err == nil
	if err != nil {
		p.ChainError = err.Error()
	}
	return render(c, http.StatusOK, views.Audit(p))
}
