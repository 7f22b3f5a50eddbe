package handlers

import (
	"bufio"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"portpanel/db"
	"portpanel/views"
)

// exportFlushEvery is how many rows an export writes between flushes: a
// slow client sees steady progress and the server holds little, while the
// flush stays rare enough not to dominate.
const exportFlushEvery = 100

// exportStall is how long an export waits for a client to take the next
// rows. The server's WriteTimeout bounds a whole response, which a large
// export over a slow link may well exceed; each flush moves the deadline
// on instead, so only a client that stops reading is cut off.
const exportStall = time.Minute

// ExportAudit is GET /audit/export (and /api/v1/audit/export): the audit
// events matching user, from and to as CSV or JSON, oldest first (chain
// order), with prev_hash and hash so an auditor can verify the chain
// offline. Rows are written as they are read, never gathered first.
func (h *Handlers) ExportAudit(c echo.Context) error {
	f, x, err := startExport(h, c, auditTable)
	if err != nil {
		return err
	}
	return x.finish(h.DB.EachAudit(c.Request().Context(), f, x.row))
}

// ExportChanges is GET /changes/export (and /api/v1/changes/export): the
// changes matching user, from and to (on created_at), oldest first, in the
// shape GET /api/v1/changes/{id} returns.
func (h *Handlers) ExportChanges(c echo.Context) error {
	f, x, err := startExport(h, c, changeTable)
	if err != nil {
		return err
	}
	return x.finish(h.DB.EachChange(c.Request().Context(), f, x.row))
}

// exportTable says how one kind of row is exported.
type exportTable[T any] struct {
	name   string // "audit" or "changes": the file name and the audit action
	what   string // for the audit event's detail
	header []string
	record func(T) []string       // the CSV cells, in header order
	object func(T) map[string]any // the JSON object, as the API returns it
}

var auditTable = exportTable[db.AuditEvent]{
	name: "audit", what: "the audit log",
	header: []string{"id", "at", "user", "action", "detail", "change_id", "prev_hash", "hash"},
	record: func(e db.AuditEvent) []string {
		return []string{idText(e.ID), csvTime(&e.At), e.User, e.Action, e.Detail, optID(e.ChangeID), e.PrevHash, e.Hash}
	},
	object: auditJSON,
}

var changeTable = exportTable[db.Change]{
	name: "changes", what: "the change history",
	header: []string{"id", "status", "low", "high", "before_low", "before_high", "reason", "user",
		"created_at", "updated_at", "file", "diff", "error", "rollback_of", "warnings", "notes",
		"file_state_before", "confirm_within", "confirm_by", "decided_by", "decided_at",
		"decision_reason", "confirmed_by", "confirmed_at", "emergency", "reserved_ports", "reserved_ports_before"},
	record: func(ch db.Change) []string {
		return []string{idText(ch.ID), ch.Status, strconv.Itoa(ch.Low), strconv.Itoa(ch.High),
			strconv.Itoa(ch.BeforeLow), strconv.Itoa(ch.BeforeHigh), ch.Reason, ch.User,
			csvTime(&ch.CreatedAt), csvTime(&ch.UpdatedAt), ch.File, ch.Diff, ch.Error, optID(ch.RollbackOf),
			strings.Join(ch.Warnings, "\n"), strings.Join(ch.Notes, "\n"), ch.BaseFileHash,
			strconv.Itoa(int(ch.ConfirmWithin.Seconds())), csvTime(ch.ConfirmBy), ch.DecidedBy,
			csvTime(ch.DecidedAt), ch.DecisionReason, ch.ConfirmedBy, csvTime(ch.ConfirmedAt),
			strconv.FormatBool(ch.Emergency), optString(ch.ReservedPorts), optString(ch.BeforeReservedPorts)}
	},
	object: changeJSON,
}

// startExport reads the export's query and records it in the audit log
// before a row is read: who took a copy of what is part of the record even
// when the download is cut short.
func startExport[T any](h *Handlers, c echo.Context, t exportTable[T]) (db.Filter, *export[T], error) {
	f, _, err := listFilter(c)
	if err != nil {
		return db.Filter{}, nil, err
	}
	format := c.QueryParam("format")
	switch format {
	case "":
		format = "csv"
	case "csv", "json":
	default:
		return db.Filter{}, nil, echo.NewHTTPError(http.StatusBadRequest, fmt.Sprintf("format must be csv or json, not %q.", format))
	}
	u, _ := CurrentUser(c)
	via := ""
	if ViaToken(c) {
		via = " with an API token"
	}
	detail := fmt.Sprintf("exported %s as %s%s: %s", t.what, strings.ToUpper(format), via, describeFilter(f))
	if _, err := h.DB.AppendAudit(c.Request().Context(), db.AuditEvent{User: u.Name, Action: t.name + ".exported", Detail: detail}); err != nil {
		return db.Filter{}, nil, err
	}
	file := fmt.Sprintf("portpanel-%s-%s.%s", t.name, h.Now().UTC().Format("20060102"), format)
	return f, &export[T]{h: h, c: c, t: t, json: format == "json", file: file}, nil
}

// describeFilter says what an export selected, for its audit event.
func describeFilter(f db.Filter) string {
	var parts []string
	if !f.From.IsZero() {
		parts = append(parts, "from "+f.From.UTC().Format(time.RFC3339Nano))
	}
	if !f.To.IsZero() {
		parts = append(parts, "before "+f.To.UTC().Format(time.RFC3339Nano))
	}
	if f.User != "" {
		parts = append(parts, "user "+quote(f.User))
	}
	if len(parts) == 0 {
		return "everything"
	}
	return strings.Join(parts, ", ")
}

// export streams rows of one table as CSV or as a JSON array. Nothing is
// sent until the first row (or finish), so an error before it still gets a
// proper error response instead of a download.
type export[T any] struct {
	h       *Handlers
	c       echo.Context
	t       exportTable[T]
	json    bool
	file    string
	started bool
	rows    int
	csv     *csv.Writer
	buf     *bufio.Writer // JSON only
}

func (x *export[T]) start() error {
	x.started = true
	res := x.c.Response()
	if x.json {
		res.Header().Set(echo.HeaderContentType, echo.MIMEApplicationJSON)
	} else {
		res.Header().Set(echo.HeaderContentType, "text/csv; charset=utf-8")
	}
	res.Header().Set(echo.HeaderContentDisposition, `attachment; filename="`+x.file+`"`)
	res.WriteHeader(http.StatusOK)
	if err := x.extendDeadline(); err != nil {
		return err
	}
	if x.json {
		x.buf = bufio.NewWriter(res)
		_, err := x.buf.WriteString("[")
		return err
	}
	x.csv = csv.NewWriter(res)
	return x.csv.Write(x.t.header)
}

func (x *export[T]) row(v T) error {
	if !x.started {
		if err := x.start(); err != nil {
			return err
		}
	}
	if x.json {
		b, err := json.Marshal(x.t.object(v))
		if err != nil {
			return fmt.Errorf("encode row: %w", err)
		}
		sep := ",\n"
		if x.rows == 0 {
			sep = "\n"
		}
		x.buf.WriteString(sep)
		if _, err := x.buf.Write(b); err != nil {
			return err
		}
	} else {
		rec := x.t.record(v)
		for i := range rec {
			rec[i] = csvCell(rec[i])
		}
		if err := x.csv.Write(rec); err != nil {
			return err
		}
	}
	x.rows++
	if x.rows%exportFlushEvery == 0 {
		return x.flush()
	}
	return nil
}

func (x *export[T]) flush() error {
	if x.json {
		if err := x.buf.Flush(); err != nil {
			return err
		}
	} else {
		x.csv.Flush()
		if err := x.csv.Error(); err != nil {
			return err
		}
	}
	if err := http.NewResponseController(x.c.Response()).Flush(); err != nil {
		return err
	}
	return x.extendDeadline()
}

func (x *export[T]) extendDeadline() error {
	err := http.NewResponseController(x.c.Response()).SetWriteDeadline(time.Now().Add(exportStall))
	if errors.Is(err, http.ErrNotSupported) {
		return nil
	}
	return err
}

// finish ends the file after the last row, or handles err. Once the status
// and some rows are out, an error cannot become an error response any more;
// the connection is broken off instead, so the client sees a truncated
// transfer rather than a file that looks complete but is not.
func (x *export[T]) finish(err error) error {
	if err == nil && !x.started {
		err = x.start() // no rows: still a valid, empty file
	}
	if err == nil && x.json {
		_, err = x.buf.WriteString("\n]\n")
	}
	if err == nil {
		err = x.flush()
	}
	if err == nil || !x.started {
		return err
	}
	req := x.c.Request()
	if req.Context().Err() == nil { // not just a client that went away
		x.h.Log.Error("export failed after sending rows", "path", req.URL.Path, "rows", x.rows, "err", err)
	}
	panic(http.ErrAbortHandler)
}

// csvCell neutralises a cell a spreadsheet would run as a formula (OWASP,
// "CSV Injection"): a cell starting with = + - @ tab or CR gets a leading
// single quote. A cell that already starts with a quote gets one too, so
// the escape stays reversible: to get the stored text back, drop one
// leading quote wherever there is one (the JSON export needs no undoing).
func csvCell(s string) string {
	if s != "" && strings.ContainsRune("=+-@\t\r'", rune(s[0])) {
		return "'" + s
	}
	return s
}

func idText(v int64) string { return strconv.FormatInt(v, 10) }

func optID(v *int64) string {
	if v == nil {
		return ""
	}
	return idText(*v)
}

// csvTime is a time as RFC 3339 in UTC with its milliseconds (the audit
// hash covers them), or "" for none.
func csvTime(t *time.Time) string {
	if t == nil {
		return ""
	}
	return t.UTC().Format(time.RFC3339Nano)
}

// listFilter reads the query parameters shared by the list pages, the list
// API and the exports: user (exact name), from and to. from and to take a
// date (YYYY-MM-DD, UTC) or an RFC 3339 time; to is exclusive, and a date
// as to means the end of that day, so from=to=one date is that whole day.
// The raw values come back too, for the page's form and links.
func listFilter(c echo.Context) (db.Filter, views.ListFilter, error) {
	raw := views.ListFilter{User: strings.TrimSpace(c.QueryParam("user")),
		From: strings.TrimSpace(c.QueryParam("from")), To: strings.TrimSpace(c.QueryParam("to"))}
	f := db.Filter{User: raw.User}
	var err error
	if f.From, err = parseBound("from", raw.From, false); err != nil {
		return db.Filter{}, raw, err
	}
	if f.To, err = parseBound("to", raw.To, true); err != nil {
		return db.Filter{}, raw, err
	}
	if !f.From.IsZero() && !f.To.IsZero() && !f.From.Before(f.To) {
		return db.Filter{}, raw, echo.NewHTTPError(http.StatusBadRequest,
			fmt.Sprintf("from (%s) must be before to (%s).", raw.From, raw.To))
	}
	return f, raw, nil
}

func parseBound(name, v string, endOfDay bool) (time.Time, error) {
	if v == "" {
		return time.Time{}, nil
	}
	if t, err := time.Parse(time.DateOnly, v); err == nil {
		if endOfDay {
			t = t.AddDate(0, 0, 1)
		}
		return t, nil
	}
	// An unencoded "+02:00" offset arrives as " 02:00" from a query string.
	if t, err := time.Parse(time.RFC3339, strings.ReplaceAll(v, " ", "+")); err == nil {
		return t.UTC(), nil
	}
	return time.Time{}, echo.NewHTTPError(http.StatusBadRequest, fmt.Sprintf(
		"%s must be a date such as 2026-07-14 or an RFC 3339 time such as 2026-07-14T09:30:00Z, not %q.", name, v))
}

// optString is an optional value as a CSV cell: empty when nil (the JSON
// export keeps null apart from "").
func optString(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}
