package handlers

import (
	"context"
	"net/http"
	"time"

	"github.com/labstack/echo/v4"

	"portpanel/change"
	"portpanel/db"
	"portpanel/sysctl"
)

type rangeJSON struct {
	Low  int `json:"low"`
	High int `json:"high"`
}

// bootJSON is the value the host boots with: the boot reader's replay, or
// the kernel default (KernelDefault true, File "" and Line 0) when no write
// the kernel accepts sets it. Refused and Uncertain are never null.
type bootJSON struct {
	Low                   int           `json:"low"`
	High                  int           `json:"high"`
	File                  string        `json:"file"`
	Line                  int           `json:"line"`
	KernelDefault         bool          `json:"kernel_default"`
	Reader                sysctl.Reader `json:"reader"`
	UnprivilegedPortStart int           `json:"unprivileged_port_start"`
	Refused               []refusedJSON `json:"refused"`
	Uncertain             []string      `json:"uncertain"`
	// ReservedPorts is the boot value of ip_local_reserved_ports.
	ReservedPorts bootReservedJSON `json:"reserved_ports"`
}

// bootReservedJSON is the reserved ports the host boots with, replayed
// as the range is: the list the kernel then holds ("" for none), the file
// and line that set it ("" and 0 under kernel_default: no write sets it,
// nothing is reserved), and the refused writes after it.
type bootReservedJSON struct {
	Value         string        `json:"value"`
	File          string        `json:"file"`
	Line          int           `json:"line"`
	KernelDefault bool          `json:"kernel_default"`
	Refused       []refusedJSON `json:"refused"`
}

type refusedJSON struct {
	File   string `json:"file"`
	Line   int    `json:"line"`
	Value  string `json:"value"`
	Reason string `json:"reason"`
}

func bootAnswer(st change.Status) bootJSON {
	b := st.Boot.Boot
	out := bootJSON{Low: st.BootRange.Low, High: st.BootRange.High, KernelDefault: !st.BootSet, Reader: b.Reader,
		UnprivilegedPortStart: b.UnprivilegedPortStart, Refused: []refusedJSON{}, Uncertain: nonNil(b.Uncertain)}
	if out.Reader == "" {
		out.Reader = st.Boot.Reader
	}
	if st.BootSet {
		out.File, out.Line = b.Where.File, b.Where.Line
	}
	for _, r := range b.Refused {
		out.Refused = append(out.Refused, refusedJSON{File: r.Where.File, Line: r.Where.Line, Value: r.Value, Reason: r.Reason})
	}
	res := b.Reserved
	out.ReservedPorts = bootReservedJSON{Value: st.BootReserved, KernelDefault: !res.Set, Refused: []refusedJSON{}}
	if res.Set {
		out.ReservedPorts.File, out.ReservedPorts.Line = res.Where.File, res.Where.Line
	}
	for _, r := range res.Refused {
		out.ReservedPorts.Refused = append(out.ReservedPorts.Refused, refusedJSON{File: r.Where.File, Line: r.Where.Line, Value: r.Value, Reason: r.Reason})
	}
	return out
}

// APIRange is GET /api/v1/range.
func (h *Handlers) APIRange(c echo.Context) error {
	st, err := h.Changes.Status(c.Request().Context())
	if err != nil {
		return err
	}
	answer := rangeStatusJSON{
		Runtime: rangeJSON{st.Kernel.Range.Low, st.Kernel.Range.High}, Boot: bootAnswer(st), Size: st.Kernel.Range.Size(),
		UnprivilegedPortStart: st.Kernel.UnprivilegedPortStart, ReservedPorts: st.Kernel.ReservedPorts,
		Drift: st.Drift, ReservedDrift: st.ReservedDrift, FileOverridden: st.Boot.OverriddenBy != nil, OverriddenBy: st.Boot.OverriddenBy,
		Warnings: nonNil(append(append([]string{}, st.Warnings...), st.Boot.BootWarnings...)),
	}
	return c.JSON(http.StatusOK, answer)
}

// rangeStatusJSON is GET /api/v1/range's answer. Fields in alphabetical
// order, as the map it replaced was encoded: clients saw that order, and
// TestAPIRangeAnswer pins it.
type rangeStatusJSON struct {
	Boot  bootJSON `json:"boot"`
	Drift bool     `json:"drift"`
	// The managed file's value is not what the host boots with: a file
	// read after it sets the key again.
	FileOverridden        bool             `json:"file_overridden"`
	OverriddenBy          *sysctl.Location `json:"overridden_by"`
	ReservedDrift         bool             `json:"reserved_drift"`
	ReservedPorts         string           `json:"reserved_ports"`
	Runtime               rangeJSON        `json:"runtime"`
	Size                  int              `json:"size"`
	UnprivilegedPortStart int              `json:"unprivileged_port_start"`
	Warnings              []string         `json:"warnings"`
}

type changeRequest struct {
	Low    *int   `json:"low"`
	High   *int   `json:"high"`
	Reason string `json:"reason"`
	// DryRun returns what the change would do and changes nothing.
	DryRun bool `json:"dry_run"`
	// Base is what the author saw; a change made meanwhile makes it 409.
	Base *struct {
		Low           *int    `json:"low"`
		High          *int    `json:"high"`
		FileState     string  `json:"file_state"`
		ReservedPorts *string `json:"reserved_ports"`
		// Generation is a remote host's desired-state generation (a
		// dry run's "generation").
		Generation *int64 `json:"generation"`
	} `json:"base"`
	// ReservedPorts, when present and not null, also sets
	// net.ipv4.ip_local_reserved_ports in the same change ("" reserves
	// none).
	ReservedPorts *string `json:"reserved_ports"`
	// ConfirmWithin, in seconds, reverts the change unless confirmed.
	ConfirmWithin int `json:"confirm_within"`
	// Acknowledge names the hazards the caller accepts, by code.
	Acknowledge []string `json:"acknowledge"`
}

// APICreateChange is POST /api/v1/changes: apply (201), propose when
// approval is required (202), or with dry_run preview (200).
func (h *Handlers) APICreateChange(c echo.Context) error {
	body, req, err := changeBody(c)
	if err != nil {
		return err
	}
	ctx := c.Request().Context()
	if body.DryRun {
		pv, err := h.Changes.Preview(ctx, req)
		if err != nil {
			return err
		}
		return c.JSON(http.StatusOK, previewJSON(pv))
	}
	ch, err := h.Changes.Apply(ctx, req)
	if err != nil {
		return err
	}
	return createdJSON(c, ch)
}

// changeBody reads a change request's body (POST /api/v1/changes, and
// the same for a host).
func changeBody(c echo.Context) (changeRequest, change.Request, error) {
	var body changeRequest
	if err := decodeJSON(c, &body); err != nil {
		return body, change.Request{}, err
	}
	if body.Low == nil || body.High == nil {
		return body, change.Request{}, &change.InvalidError{Field: "value", Message: `Both "low" and "high" are required, as integers.`}
	}
	// Checked before it becomes a Duration: multiplied by a second, a huge
	// number of seconds wraps around, into a window that passes the check.
	if s := body.ConfirmWithin; s < 0 || time.Duration(s) > change.MaxConfirmWithin/time.Second {
		return body, change.Request{}, change.CheckConfirmWithin(-1)
	}
	req := change.Request{Low: *body.Low, High: *body.High, Reason: body.Reason, Actor: actor(c),
		ConfirmWithin: time.Duration(body.ConfirmWithin) * time.Second, ReservedPorts: body.ReservedPorts, Acknowledge: body.Acknowledge}
	if b := body.Base; b != nil {
		if (b.Low == nil) != (b.High == nil) {
			return body, change.Request{}, &change.InvalidError{Field: "value", Message: `"base" needs both "low" and "high", or neither.`}
		}
		if b.Low != nil {
			req.Base = &sysctl.Range{Low: *b.Low, High: *b.High}
		}
		req.BaseFile = b.FileState
		req.BaseReserved = b.ReservedPorts
		req.BaseGeneration = b.Generation
	}
	return body, req, nil
}

// createdJSON answers a new change: 201 when it was applied, 202 when it
// is a proposal waiting for approval or a remote change its host has not
// reported on yet.
func createdJSON(c echo.Context, ch db.Change) error {
	if ch.Status == db.StatusProposed || ch.Status == db.StatusApplying {
		return c.JSON(http.StatusAccepted, changeJSON(ch))
	}
	return c.JSON(http.StatusCreated, changeJSON(ch))
}

func previewJSON(pv change.Preview) map[string]any {
	return map[string]any{
		"dry_run": true, "before": rangeJSON{pv.Before.Low, pv.Before.High}, "after": rangeJSON{pv.Target.Low, pv.Target.High},
		"size_before": pv.Before.Size(), "size_after": pv.Target.Size(),
		"warnings": nonNil(pv.Warnings), "notes": nonNil(pv.Notes), "file": pv.File, "diff": pv.Diff,
		"file_state": pv.FileState, "requires_approval": pv.RequiresApproval,
		"reserved_ports_before": pv.BeforeReserved, "reserved_ports": pv.TargetReserved,
		"hazards": nonNilHazards(pv.Hazards), "listeners_in_range": listenersJSON(pv.Listeners), "reserve_fix": pv.ReserveFix,
	}
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

// APIRollback is POST /api/v1/changes/{id}/rollback: 201 when applied, 202
// when it became a proposal.
func (h *Handlers) APIRollback(c echo.Context) error { return h.rollbackJSON(c, nil) }

// rollbackJSON rolls back change :id once check (if not nil) accepts it.
func (h *Handlers) rollbackJSON(c echo.Context, check func(c echo.Context, id int64) error) error {
	ch, err := changeAction(c, func(id int64, reason string) (db.Change, error) {
		if check != nil {
			if err := check(c, id); err != nil {
				return db.Change{}, err
			}
		}
		return h.Changes.Rollback(c.Request().Context(), id, reason, actor(c))
	})
	if err != nil {
		return err
	}
	return createdJSON(c, ch)
}

// APIApprove is POST /api/v1/changes/{id}/approve, {"reason"} and
// {"acknowledge"} optional (hazards that appeared since the proposal).
func (h *Handlers) APIApprove(c echo.Context) error {
	id, err := pathID(c)
	if err != nil {
		return err
	}
	var body approveRequest
	if err := decodeOptionalJSON(c, &body); err != nil {
		return err
	}
	ch, err := h.Changes.ApproveAcknowledging(c.Request().Context(), id, actor(c), body.Reason, body.Acknowledge)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, changeJSON(ch))
}

// APIReject is POST /api/v1/changes/{id}/reject, {"reason"} required.
func (h *Handlers) APIReject(c echo.Context) error {
	return h.apiDecide(c, func(id int64, reason string) (db.Change, error) {
		return h.Changes.Reject(c.Request().Context(), id, actor(c), reason)
	})
}

// APIConfirm is POST /api/v1/changes/{id}/confirm.
func (h *Handlers) APIConfirm(c echo.Context) error {
	return h.apiDecide(c, func(id int64, _ string) (db.Change, error) {
		return h.Changes.Confirm(c.Request().Context(), id, actor(c))
	})
}

func (h *Handlers) apiDecide(c echo.Context, do func(id int64, reason string) (db.Change, error)) error {
	ch, err := changeAction(c, do)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, changeJSON(ch))
}

// changeAction runs do on the change named by :id with the optional
// {"reason"} of the body.
func changeAction(c echo.Context, do func(id int64, reason string) (db.Change, error)) (db.Change, error) {
	id, err := pathID(c)
	if err != nil {
		return db.Change{}, err
	}
	var req struct {
		Reason string `json:"reason"`
	}
	if err := decodeOptionalJSON(c, &req); err != nil {
		return db.Change{}, err
	}
	return do(id, req.Reason)
}

// APIChanges is GET /api/v1/changes (newest first; ?before=ID pages;
// user, from and to filter as on the page).
func (h *Handlers) APIChanges(c echo.Context) error {
	f, _, err := listFilter(c)
	if err != nil {
		return err
	}
	before, err := cursor(c)
	if err != nil {
		return err
	}
	return h.keptJSON(c, func(ctx context.Context) (any, error) {
		list, err := h.DB.ChangesFiltered(ctx, f, changesPerPage, before)
		if err != nil {
			return nil, err
		}
		out := make([]map[string]any, 0, len(list))
		for _, ch := range list {
			out = append(out, changeJSON(ch))
		}
		return map[string]any{"changes": out}, nil
	})
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

// APIAudit is GET /api/v1/audit (newest first; ?before=ID pages; user,
// from and to filter as on the page).
func (h *Handlers) APIAudit(c echo.Context) error {
	f, _, err := listFilter(c)
	if err != nil {
		return err
	}
	before, err := cursor(c)
	if err != nil {
		return err
	}
	list, err := h.DB.AuditFiltered(c.Request().Context(), f, eventsPerPage, before)
	if err != nil {
		return err
	}
	out := make([]map[string]any, 0, len(list))
	for _, e := range list {
		out = append(out, auditJSON(e))
	}
	return c.JSON(http.StatusOK, map[string]any{"events": out})
}

// auditJSON is an audit event as the API and the JSON export give it, with
// the chain's hashes so the log can be verified outside portpanel.
func auditJSON(e db.AuditEvent) map[string]any {
	return map[string]any{"id": e.ID, "at": e.At.UTC().Format(time.RFC3339Nano), "user": e.User, "action": e.Action,
		"detail": e.Detail, "change_id": e.ChangeID, "prev_hash": e.PrevHash, "hash": e.Hash}
}

// APIHistory is GET /api/v1/history (newest first).
func (h *Handlers) APIHistory(c echo.Context) error {
	before, err := cursor(c)
	if err != nil {
		return err
	}
	return h.keptJSON(c, func(ctx context.Context) (any, error) {
		list, err := h.DB.Samples(ctx, samplesPerPage, before)
		if err != nil {
			return nil, err
		}
		out := make([]map[string]any, 0, len(list))
		for _, s := range list {
			out = append(out, map[string]any{"at": s.At.UTC().Format(time.RFC3339Nano), "low": s.Low, "high": s.High, "source": s.Source,
				"reserved_ports": s.ReservedPorts})
		}
		return map[string]any{"samples": out}, nil
	})
}

func changeJSON(ch db.Change) map[string]any {
	return map[string]any{
		"id": ch.ID, "status": ch.Status, "low": ch.Low, "high": ch.High,
		"reserved_ports": ch.ReservedPorts, "reserved_ports_before": ch.BeforeReservedPorts,
		"before": rangeJSON{ch.BeforeLow, ch.BeforeHigh}, "reason": ch.Reason, "user": ch.User,
		"created_at": ch.CreatedAt.UTC().Format(time.RFC3339Nano), "updated_at": ch.UpdatedAt.UTC().Format(time.RFC3339Nano),
		"file": ch.File, "diff": ch.Diff, "error": ch.Error, "rollback_of": ch.RollbackOf,
		"warnings": nonNil(ch.Warnings), "notes": nonNil(ch.Notes), "file_state_before": ch.BaseFileHash,
		"confirm_within": int(ch.ConfirmWithin.Seconds()), "confirm_by": timeJSON(ch.ConfirmBy),
		"decided_by": ch.DecidedBy, "decided_at": timeJSON(ch.DecidedAt), "decision_reason": ch.DecisionReason,
		"confirmed_by": ch.ConfirmedBy, "confirmed_at": timeJSON(ch.ConfirmedAt), "emergency": ch.Emergency,
		"hazards": nonNilHazards(ch.Hazards), "acknowledged": nonNil(ch.Acknowledged),
		"host": ch.Host, "generation": ch.Generation, "agent_result": ch.AgentResult,
	}
}

// timeJSON is an optional time as RFC 3339 or null.
func timeJSON(t *time.Time) any {
	if t == nil {
		return nil
	}
	return t.UTC().Format(time.RFC3339Nano)
}
