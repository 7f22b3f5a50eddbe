package handlers

import (
	"context"
	"net/http"

	"github.com/labstack/echo/v4"

	"portpanel/views"
)

const eventsPerPage = 100

// Audit lists audit events newest first, filtered by user and time, and
// says how much of the hash chain (the whole log, whatever the filter)
// verifies. Re-hashing the whole log on every view would cost time in
// proportion to its length, so the page checks only the events appended
// since the last check (db.CheckAudit) and says when the whole chain was
// last verified: older events are re-verified by full checks only.
func (h *Handlers) Audit(c echo.Context) error {
	f, filter, err := listFilter(c)
	if err != nil {
		return err
	}
	before, err := cursor(c)
	if err != nil {
		return err
	}
	ch, err := h.chrome(c, "Audit log", "audit")
	if err != nil {
		return err
	}
	// Kept for a second of the times shown relative to now (versionCache):
	// the chain can change only by a commit, and a full check's time shows
	// within the second.
	main, err := keep(h, c, &h.memo.auditPage, auditKey{filter, before}, ch.Now.Unix(), func(ctx context.Context) (views.Prerendered, error) {
		list, err := h.DB.AuditFiltered(ctx, f, eventsPerPage, before)
		if err != nil {
			return views.Prerendered{}, err
		}
		p := views.AuditPage{Chrome: views.Chrome{Now: ch.Now}, Filter: filter, Events: list,
			Next: nextCursor(len(list), eventsPerPage, func(i int) int64 { return list[i].ID })}
		st, err := h.DB.CheckAudit(ctx)
		p.Verified, p.VerifiedFullAt, p.VerifiedNewer = st.Verified, st.FullAt, st.Newer
		p.ChainOK = err == nil
		if err != nil {
			p.ChainError = err.Error()
		}
		return views.Prerender(ctx, views.AuditMain(p))
	})
	if err != nil {
		return err
	}
	return render(c, http.StatusOK, views.Framed(ch, main))
}

// auditKey is what the audit page shows besides the data and the time.
type auditKey struct {
	filter views.ListFilter
	before int64
}
