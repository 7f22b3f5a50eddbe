package handlers

import (
	"errors"
	"net/http"

	"github.com/labstack/echo/v4"

	"portpanel/change"
	"portpanel/db"
)

// Changes on a remote host: the same body, the same answers and the same
// gate as the local host's (the change service routes them to the host's
// agent). Change ids are one sequence for every host, so a remote change
// is also approved, rejected, confirmed and rolled back under
// /api/v1/changes/{id}; the routes under a host check that the change is
// that host's.

// APIHostCreateChange is POST /api/v1/hosts/{name}/changes: as POST
// /api/v1/changes, for host name. 201 when its agent applied it, 202 when
// it is a proposal or its agent has not reported yet (the answer then
// says "applying"; GET /api/v1/changes/{id} follows it).
func (h *Handlers) APIHostCreateChange(c echo.Context) error {
	host := c.Param("name")
	body, req, err := changeBody(c)
	if err != nil {
		return err
	}
	ctx := c.Request().Context()
	if body.DryRun {
		pv, err := h.Changes.PreviewRemote(ctx, host, req)
		if err != nil {
			return err
		}
		answer := previewJSON(pv)
		answer["host"], answer["generation"] = pv.Host, pv.Generation
		return c.JSON(http.StatusOK, answer)
	}
	ch, err := h.Changes.ApplyRemote(ctx, host, req)
	if err != nil {
		return err
	}
	return createdJSON(c, ch)
}

// APIHostChanges is GET /api/v1/hosts/{name}/changes: host name's
// changes, newest first (?before=ID pages).
func (h *Handlers) APIHostChanges(c echo.Context) error {
	before, err := cursor(c)
	if err != nil {
		return err
	}
	list, err := h.DB.HostChanges(c.Request().Context(), h.changesHost(c.Param("name")), changesPerPage, before)
	if err != nil {
		return err
	}
	out := make([]map[string]any, 0, len(list))
	for _, ch := range list {
		out = append(out, changeJSON(ch))
	}
	return c.JSON(http.StatusOK, map[string]any{"changes": out})
}

// APIHostRollback is POST /api/v1/hosts/{name}/changes/{id}/rollback.
func (h *Handlers) APIHostRollback(c echo.Context) error { return h.rollbackJSON(c, h.hostsChange) }

// APIHostConfirm is POST /api/v1/hosts/{name}/changes/{id}/confirm: the
// confirmation goes to the host's agent, which holds the revert timer;
// 200 once it reported the change confirmed, 202 while it has not yet.
func (h *Handlers) APIHostConfirm(c echo.Context) error {
	ch, err := changeAction(c, func(id int64, _ string) (db.Change, error) {
		if err := h.hostsChange(c, id); err != nil {
			return db.Change{}, err
		}
		return h.Changes.Confirm(c.Request().Context(), id, actor(c))
	})
	if err != nil {
		return err
	}
	if ch.Status == db.StatusApplied {
		return c.JSON(http.StatusAccepted, changeJSON(ch))
	}
	return c.JSON(http.StatusOK, changeJSON(ch))
}

// hostsChange answers 404 unless change id is host :name's.
func (h *Handlers) hostsChange(c echo.Context, id int64) error {
	ch, err := h.DB.Change(c.Request().Context(), id)
	if err != nil {
		return err
	}
	if name := c.Param("name"); ch.Host != h.changesHost(name) || (ch.Host == "" && name == "") {
		return echo.NewHTTPError(http.StatusNotFound, "No such change on this host.")
	}
	return nil
}

// changesHost is how the changes table names host name: the panel's own
// host (serve --local-host) has the local changes, host "".
func (h *Handlers) changesHost(name string) string {
	if h.Changes != nil && name != "" && name == h.Changes.LocalHost {
		return ""
	}
	return name
}

// noAnswer reports whether err says a host's agent did not answer.
func noAnswer(err error) bool {
	var na *change.NoAnswerError
	return errors.As(err, &na)
}
