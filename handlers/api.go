package handlers

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"time"

	"github.com/labstack/echo/v4"

	"portpanel/change"
	"portpanel/db"
)

type rangeJSON struct {
	Low  int `json:"low"`
	High int `json:"high"`
}

type bootJSON struct {
	Low  int    `json:"low"`
	High int    `json:"high"`
	File string `json:"file"`
	Line int    `json:"line"`
}

// APIRange is GET /api/v1/range.
func (h *Handlers) APIRange(c echo.Context) error {
	st, err := h.Changes.Status(c.Request().Context())
	if err != nil {
		return err
	}
	var boot *bootJSON
	if b := st.Boot.Boot; b.Set && b.Range != nil {
		boot = &bootJSON{Low: b.Range.Low, High: b.Range.High, File: b.Where.File, Line: b.Where.Line}
	}
	warnings := st.Warnings
	if warnings == nil {
		warnings = []string{}
	}
	return c.JSON(http.StatusOK, map[string]any{
		"runtime":                 rangeJSON{st.Kernel.Range.Low, st.Kernel.Range.High},
		"boot":                    boot,
		"size":                    st.Kernel.Range.Size(),
		"unprivileged_port_start": st.Kernel.UnprivilegedPortStart,
		"reserved_ports":          st.Kernel.ReservedPorts,
		"drift":                   st.Drift,
		"warnings":                warnings,
	})
}

type changeRequest struct {
	Low    *int   `json:"low"`
	High   *int   `json:"high"`
	Reason string `json:"reason"`
}

// APICreateChange is POST /api/v1/changes.
func (h *Handlers) APICreateChange(c echo.Context) error {
	var req changeRequest
	if err := decodeJSON(c, &req); err != nil {
		return err
	}
	if req.Low == nil || req.High == nil {
		return &change.InvalidError{Field: "value", Message: `Both "low" and "high" are required, as integers.`}
	}
	ch, err := h.Changes.Apply(c.Request().Context(), change.Request{Low: *req.Low, High: *req.High, Reason: req.Reason, Actor: actor(c)})
	if err != nil {
		return err
	}
	return c.JSON(http.StatusCreated, changeJSON(ch))
}

// APIRollback is POST /api/v1/changes/{id}/rollback.
func (h *Handlers) APIRollback(c echo.Context) error {
	id, err := pathID(c)
	if err != nil {
		return err
	}
	var req struct {
		Reason string `json:"reason"`
	}
	if err := decodeJSON(c, &req); err != nil {
		return err
	}
	ch, err := h.Changes.Rollback(c.Request().Context(), id, req.Reason, actor(c))
	if err != nil {
		return err
	}
	return c.JSON(http.StatusCreated, changeJSON(ch))
}

// APIChanges is GET /api/v1/changes (newest first; ?before=ID pages).
func (h *Handlers) APIChanges(c echo.Context) error {
	list, err := h.DB.Changes(c.Request().Context(), changesPerPage, cursor(c))
	if err != nil {
		return err
	}
	out := make([]map[string]any, 0, len(list))
	for _, ch := range list {
		out = append(out, changeJSON(ch))
	}
	return c.JSON(http.StatusOK, map[string]any{"changes": out})
}

// APIChange is GET /api/v1/changes/{id}.
func (h *Handlers) APIChange(c echo.Context) error {
	id, err := pathID(c)
	if err != nil {
		return err
	}
	ch, err := h.DB.Change(c.Request().Context(), id)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, changeJSON(ch))
}

// APIAudit is GET /api/v1/audit (newest first).
func (h *Handlers) APIAudit(c echo.Context) error {
	list, err := h.DB.Audit(c.Request().Context(), eventsPerPage, cursor(c))
	if err != nil {
		return err
	}
	out := make([]map[string]any, 0, len(list))
	for _, e := range list {
		out = append(out, map[string]any{"id": e.ID, "at": e.At.UTC().Format(time.RFC3339Nano), "user": e.User, "action": e.Action, "detail": e.Detail, "change_id": e.ChangeID})
	}
	return c.JSON(http.StatusOK, map[string]any{"events": out})
}

// APIHistory is GET /api/v1/history (newest first).
func (h *Handlers) APIHistory(c echo.Context) error {
	list, err := h.DB.Samples(c.Request().Context(), samplesPerPage, cursor(c))
	if err != nil {
		return err
	}
	out := make([]map[string]any, 0, len(list))
	for _, s := range list {
		out = append(out, map[string]any{"at": s.At.UTC().Format(time.RFC3339Nano), "low": s.Low, "high": s.High, "source": s.Source})
	}
	return c.JSON(http.StatusOK, map[string]any{"samples": out})
}

func changeJSON(ch db.Change) map[string]any {
	warnings := ch.Warnings
	if warnings == nil {
		warnings = []string{}
	}
	return map[string]any{
		"id": ch.ID, "status": ch.Status, "low": ch.Low, "high": ch.High,
		"before": rangeJSON{ch.BeforeLow, ch.BeforeHigh}, "reason": ch.Reason, "user": ch.User,
		"created_at": ch.CreatedAt.UTC().Format(time.RFC3339Nano), "file": ch.File, "diff": ch.Diff,
		"error": ch.Error, "rollback_of": ch.RollbackOf, "warnings": warnings,
	}
}

// decodeJSON reads one JSON object into v, refusing unknown fields (a typo
// such as "reson" must not pass silently) and trailing data.
func decodeJSON(c echo.Context, v any) error {
	dec := json.NewDecoder(c.Request().Body)
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		if errors.Is(err, io.EOF) {
			return echo.NewHTTPError(http.StatusBadRequest, "The request body must be a JSON object.")
		}
		return echo.NewHTTPError(http.StatusBadRequest, fmt.Sprintf("Malformed JSON: %v.", err))
	}
	if dec.More() {
		return echo.NewHTTPError(http.StatusBadRequest, "Malformed JSON: data after the object.")
	}
	return nil
}
