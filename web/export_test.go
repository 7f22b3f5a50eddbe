package web_test

import (
	"crypto/sha256"
	"encoding/csv"
	"encoding/hex"
	"fmt"
	"maps"
	"net/http"
	"reflect"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"portpanel/auth"
	"portpanel/db"
	"portpanel/sysctl/sysctltest"
)

// march1 is when the seeded rows start: long before the sign-ins and
// exports the tests make, so a time filter separates the two.
var march1 = time.Date(2025, 3, 1, 0, 0, 0, 0, time.UTC)

var auditHeader = []string{"id", "at", "user", "action", "detail", "change_id", "prev_hash", "hash"}

// changeHeader is the API's change object, flattened.
var changeHeader = []string{"id", "status", "low", "high", "before_low", "before_high", "reason", "user",
	"created_at", "updated_at", "file", "diff", "error", "rollback_of", "warnings", "notes",
	"file_state_before", "confirm_within", "confirm_by", "decided_by", "decided_at",
	"decision_reason", "confirmed_by", "confirmed_at", "emergency", "reserved_ports", "reserved_ports_before"}

// seedAudit appends events at chosen times, straight to the database.
func seedAudit(t *testing.T, e *env, events ...db.AuditEvent) {
	t.Helper()
	for _, ev := range events {
		if _, err := e.h.DB.AppendAudit(t.Context(), ev); err != nil {
			t.Fatal(err)
		}
	}
}

// seedMany appends events in few transactions, for tests that need
// thousands: a commit per event costs an fsync each (synchronous=FULL). It
// rides on a change, whose transition appends any number of events in one
// transaction, so every event gets that change's id.
func seedMany(t *testing.T, e *env, events []db.AuditEvent) {
	t.Helper()
	chg, _, err := e.h.DB.RecordChange(t.Context(), db.Change{Status: db.StatusApplied, Low: 20000, High: 60999,
		User: events[0].User, CreatedAt: events[0].At}, events[0], nil)
	if err != nil {
		t.Fatal(err)
	}
	for rest := events[1:]; len(rest) > 0; {
		batch := rest[:min(len(rest), 1000)]
		rest = rest[len(batch):]
		if _, err := e.h.DB.Transition(t.Context(), []db.Transition{{Change: chg, From: chg.Status}}, batch, nil); err != nil {
			t.Fatal(err)
		}
	}
}

// seedFour are four events over three days of March 2025: alice twice,
// bob once (half a second before midnight) and the system once.
func seedFour(t *testing.T, e *env) {
	seedAudit(t, e,
		db.AuditEvent{At: march1.Add(9 * time.Hour), User: "alice", Action: "change.applied", Detail: "widened"},
		db.AuditEvent{At: march1.Add(24*time.Hour - 500*time.Millisecond), User: "bob", Action: "login", Detail: "signed in"},
		db.AuditEvent{At: march1.Add(24 * time.Hour), User: "alice", Action: "change.applied", Detail: "narrowed"},
		db.AuditEvent{At: march1.Add(50 * time.Hour), Action: "range.external", Detail: "changed by hand"},
	)
}

// readCSV parses an export and checks its header.
func readCSV(t *testing.T, res *http.Response, header []string) [][]string {
	t.Helper()
	if res.StatusCode != http.StatusOK {
		t.Fatalf("%s: status %d\n%s", res.Request.URL, res.StatusCode, body(res))
	}
	recs, err := csv.NewReader(res.Body).ReadAll()
	if err != nil {
		t.Fatalf("%s: not CSV: %v", res.Request.URL, err)
	}
	if len(recs) == 0 || !slices.Equal(recs[0], header) {
		t.Fatalf("%s: header = %q, want %q", res.Request.URL, recs, header)
	}
	return recs[1:]
}

// column returns column i of every row.
func column(rows [][]string, i int) []string {
	out := make([]string, len(rows))
	for r, row := range rows {
		out[r] = row[i]
	}
	return out
}

func TestExportAuditCSV(t *testing.T) {
	e := newEnv(t, sysctltest.ProcSys())
	seedFour(t, e)
	v := e.login(t, auth.RoleViewer)

	before := time.Now().UTC()
	res := v.get("/audit/export?format=csv&from=2025-03-01&to=2025-03-31")
	after := time.Now().UTC()
	if ct := res.Header.Get("Content-Type"); ct != "text/csv; charset=utf-8" {
		t.Errorf("Content-Type = %q", ct)
	}
	cd := res.Header.Get("Content-Disposition")
	if cd != `attachment; filename="portpanel-audit-`+before.Format("20060102")+`.csv"` &&
		cd != `attachment; filename="portpanel-audit-`+after.Format("20060102")+`.csv"` {
		t.Errorf("Content-Disposition = %q, want an attachment named for today (UTC)", cd)
	}
	rows := readCSV(t, res, auditHeader)
	want := [][]string{
		{"1", "2025-03-01T09:00:00Z", "alice", "change.applied", "widened", ""},
		{"2", "2025-03-01T23:59:59.5Z", "bob", "login", "signed in", ""},
		{"3", "2025-03-02T00:00:00Z", "alice", "change.applied", "narrowed", ""},
		{"4", "2025-03-03T02:00:00Z", "", "range.external", "changed by hand", ""},
	}
	if len(rows) != len(want) {
		t.Fatalf("rows = %q, want the 4 seeded events", rows)
	}
	for i, row := range rows {
		if !slices.Equal(row[:6], want[i]) {
			t.Errorf("row %d = %q, want %q", i, row[:6], want[i])
		}
		if len(row[7]) != 64 || (i > 0 && row[6] != rows[i-1][7]) {
			t.Errorf("row %d: prev_hash %q, hash %q: not a chain", i, row[6], row[7])
		}
	}
}

func TestExportFilters(t *testing.T) {
	e := newEnv(t, sysctltest.ProcSys())
	seedFour(t, e)
	v := e.login(t, auth.RoleViewer)
	for _, tt := range []struct {
		name, query string
		want        []string // details, oldest first
	}{
		{"a user's events only", "user=alice", []string{"widened", "narrowed"}},
		{"a date as to includes that whole day", "from=2025-03-01&to=2025-03-01", []string{"widened", "signed in"}},
		{"an RFC 3339 from is inclusive", "from=2025-03-02T00:00:00Z&to=2025-03-31", []string{"narrowed", "changed by hand"}},
		{"an RFC 3339 to is exclusive", "from=2025-03-01&to=2025-03-02T00:00:00Z", []string{"widened", "signed in"}},
		{"milliseconds count", "from=2025-03-01T23:59:59.5Z&to=2025-03-01T23:59:59.501Z", []string{"signed in"}},
		{"an offset is converted to UTC", "from=2025-03-02T01:00:00%2B01:00&to=2025-03-31", []string{"narrowed", "changed by hand"}},
		{"an unencoded + in an offset still works", "from=2025-03-02T01:00:00+01:00&to=2025-03-31", []string{"narrowed", "changed by hand"}},
		{"user and time together", "user=alice&from=2025-03-02&to=2025-03-31", []string{"narrowed"}},
		{"nobody by that name", "user=carol", nil},
	} {
		t.Run(tt.name, func(t *testing.T) {
			rows := readCSV(t, v.get("/audit/export?"+tt.query), auditHeader)
			if got := column(rows, 4); !slices.Equal(got, tt.want) {
				t.Errorf("details = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestExportNeutralisesFormulas(t *testing.T) {
	e := newEnv(t, sysctltest.ProcSys())
	details := map[string]string{ // stored → exported
		"=cmd|' /C calc'!A0": "'=cmd|' /C calc'!A0",
		"+1+1":               "'+1+1",
		"-2+3":               "'-2+3",
		"@SUM(A1:A2)":        "'@SUM(A1:A2)",
		"\t=1":               "'\t=1",
		"\r=1":               "'\r=1",
		// Quoted too, so dropping one leading quote always restores the text.
		"'=1":                "''=1",
		"a=1":                "a=1",
		"range 1024 - 65535": "range 1024 - 65535",
	}
	keys := slices.Sorted(maps.Keys(details))
	for _, d := range keys {
		seedAudit(t, e, db.AuditEvent{At: march1, User: "=HYPERLINK(\"http://x\")", Action: "test", Detail: d})
	}
	v := e.login(t, auth.RoleViewer)
	rows := readCSV(t, v.get("/audit/export?to=2025-03-01"), auditHeader)
	if len(rows) != len(keys) {
		t.Fatalf("%d rows, want %d", len(rows), len(keys))
	}
	for i, d := range keys {
		if got := rows[i][4]; got != details[d] {
			t.Errorf("detail %q exported as %q, want %q", d, got, details[d])
		}
		if got := rows[i][2]; got != `'=HYPERLINK("http://x")` {
			t.Errorf("user exported as %q", got)
		}
	}
	// JSON is data, not a spreadsheet: it carries the text unchanged.
	events := decode[[]map[string]any](t, v.get("/audit/export?format=json&to=2025-03-01"))
	for i, d := range keys {
		if events[i]["detail"] != d {
			t.Errorf("JSON detail = %q, want %q unchanged", events[i]["detail"], d)
		}
	}
}

// auditHash recomputes an exported event's hash as db/audit.go documents
// it, from the export alone: what an auditor does offline.
func auditHash(t *testing.T, ev map[string]any) string {
	t.Helper()
	at, err := time.Parse(time.RFC3339Nano, ev["at"].(string))
	if err != nil {
		t.Fatal(err)
	}
	changeID := ""
	if id, ok := ev["change_id"].(float64); ok {
		changeID = strconv.FormatInt(int64(id), 10)
	}
	h := sha256.New()
	for _, f := range []string{"portpanel-audit-v1", ev["prev_hash"].(string), strconv.FormatInt(int64(ev["id"].(float64)), 10),
		strconv.FormatInt(at.UnixMilli(), 10), ev["user"].(string), ev["action"].(string), ev["detail"].(string), changeID} {
		fmt.Fprintf(h, "%d:%s,", len(f), f)
	}
	return hex.EncodeToString(h.Sum(nil))
}

func TestExportAuditJSON(t *testing.T) {
	e := newEnv(t, sysctltest.ProcSys())
	seedFour(t, e)
	v := e.login(t, auth.RoleViewer)
	res := v.get("/audit/export?format=json&from=2025-03-01&to=2025-03-31")
	if ct := res.Header.Get("Content-Type"); ct != "application/json" {
		t.Errorf("Content-Type = %q", ct)
	}
	if cd := res.Header.Get("Content-Disposition"); !regexp.MustCompile(`^attachment; filename="portpanel-audit-\d{8}\.json"$`).MatchString(cd) {
		t.Errorf("Content-Disposition = %q", cd)
	}
	exported := decode[[]map[string]any](t, res)

	// The same objects as the API, which lists newest first.
	api := decode[struct {
		Events []map[string]any `json:"events"`
	}](t, v.get("/api/v1/audit?from=2025-03-01&to=2025-03-31")).Events
	slices.Reverse(api)
	if !reflect.DeepEqual(exported, api) {
		t.Errorf("export:\n%v\nAPI, oldest first:\n%v", exported, api)
	}
	if len(exported) != 4 {
		t.Fatalf("%d events, want 4", len(exported))
	}
	for i, ev := range exported {
		if got := auditHash(t, ev); got != ev["hash"] {
			t.Errorf("event %v: recomputed hash %s, exported %s", ev["id"], got, ev["hash"])
		}
		if i > 0 && ev["prev_hash"] != exported[i-1]["hash"] {
			t.Errorf("event %v: prev_hash does not link to the event before", ev["id"])
		}
	}
}

func TestExportChanges(t *testing.T) {
	e := newEnv(t, sysctltest.ProcSys())
	record := func(at time.Time, user, reason string, status string) {
		t.Helper()
		c := db.Change{Status: status, Low: 20000, High: 60999, BeforeLow: 32768, BeforeHigh: 60999, Reason: reason,
			User: user, CreatedAt: at, File: "/etc/sysctl.d/90-portpanel.conf", Diff: "--- a\n+++ b\n",
			Warnings: []string{"first", "second"}}
		if reason == "more ports" {
			reserved, before := "5432", ""
			c.ReservedPorts, c.BeforeReservedPorts = &reserved, &before
		}
		if _, _, err := e.h.DB.RecordChange(t.Context(), c, db.AuditEvent{At: at, User: user, Action: "change.applied"}, nil); err != nil {
			t.Fatal(err)
		}
	}
	record(march1.Add(time.Hour), "alice", "more ports", db.StatusApplied)
	record(march1.Add(25*time.Hour), "bob", "=2+2", db.StatusFailed)
	record(march1.Add(49*time.Hour), "alice", "back", db.StatusApplied)
	v := e.login(t, auth.RoleViewer)

	res := v.get("/changes/export?format=csv&user=alice")
	if cd := res.Header.Get("Content-Disposition"); !regexp.MustCompile(`^attachment; filename="portpanel-changes-\d{8}\.csv"$`).MatchString(cd) {
		t.Errorf("Content-Disposition = %q", cd)
	}
	recs := readCSV(t, res, changeHeader)
	if len(recs) != 2 {
		t.Fatalf("rows = %q, want alice's 2", recs)
	}
	row := map[string]string{}
	for i, col := range changeHeader {
		row[col] = recs[0][i]
	}
	for col, want := range map[string]string{"id": "1", "user": "alice", "reason": "more ports", "status": "applied",
		"low": "20000", "before_low": "32768", "created_at": "2025-03-01T01:00:00Z", "diff": "'--- a\n+++ b\n",
		"warnings": "first\nsecond", "rollback_of": "", "confirm_by": "", "emergency": "false", "reserved_ports": "5432",
		"reserved_ports_before": ""} {
		if row[col] != want {
			t.Errorf("%s = %q, want %q", col, row[col], want)
		}
	}
	if recs[1][0] != "3" {
		t.Errorf("second row is change %s, want 3", recs[1][0])
	}

	rows := readCSV(t, v.get("/changes/export?from=2025-03-02&to=2025-03-02"), changeHeader)
	if len(rows) != 1 || rows[0][6] != "'=2+2" {
		t.Errorf("changes on 2 March = %q, want bob's, its reason neutralised", rows)
	}

	exported := decode[[]map[string]any](t, v.get("/changes/export?format=json&from=2025-03-01&to=2025-03-31"))
	var api []map[string]any
	for _, id := range []string{"1", "2", "3"} {
		api = append(api, decode[map[string]any](t, v.get("/api/v1/changes/"+id)))
	}
	if !reflect.DeepEqual(exported, api) {
		t.Errorf("export:\n%v\nAPI:\n%v", exported, api)
	}
}

func TestExportIsAudited(t *testing.T) {
	e := newEnv(t, sysctltest.ProcSys())
	v := e.login(t, auth.RoleViewer)
	readCSV(t, v.get("/changes/export?user=alice&from=2025-03-01&to=2025-03-01"), changeHeader)
	list, err := e.h.DB.Audit(t.Context(), 1, 0)
	if err != nil {
		t.Fatal(err)
	}
	want := `exported the change history as CSV: from 2025-03-01T00:00:00Z, before 2025-03-02T00:00:00Z, user "alice"`
	if len(list) != 1 || list[0].Action != "changes.exported" || list[0].User != "viewer1" || list[0].Detail != want {
		t.Errorf("last event = %+v, want changes.exported by viewer1: %s", list, want)
	}
	rows := readCSV(t, v.get("/audit/export?user=viewer1"), auditHeader)
	if got := column(rows, 3); !slices.Equal(got, []string{"login", "changes.exported", "audit.exported"}) {
		t.Errorf("viewer1's actions = %q: an export is recorded before its rows are read", got)
	}
}

func TestExportRefusesBadParameters(t *testing.T) {
	e := newEnv(t, sysctltest.ProcSys())
	v := e.login(t, auth.RoleViewer)
	for _, tt := range []struct{ query, msg string }{
		{"from=yesterday", `from must be a date such as 2026-07-14 or an RFC 3339 time such as 2026-07-14T09:30:00Z, not "yesterday".`},
		{"to=2025-02-30", `to must be a date such as 2026-07-14 or an RFC 3339 time such as 2026-07-14T09:30:00Z, not "2025-02-30".`},
		{"from=2025-03-02&to=2025-03-01", "from (2025-03-02) must be before to (2025-03-01)."},
		{"format=xlsx", `format must be csv or json, not "xlsx".`},
	} {
		t.Run(tt.query, func(t *testing.T) {
			res := v.get("/api/v1/audit/export?" + tt.query)
			if out := decode[apiError](t, res); res.StatusCode != http.StatusBadRequest || out.Error != tt.msg {
				t.Errorf("API: %d %q, want 400 %q", res.StatusCode, out.Error, tt.msg)
			}
			res = v.get("/changes/export?" + tt.query)
			if b := body(res); res.StatusCode != http.StatusBadRequest || !mentions(b, tt.msg) || res.Header.Get("Content-Disposition") != "" {
				t.Errorf("page: %d, want a 400 page saying %q, not a download", res.StatusCode, tt.msg)
			}
		})
	}
	for _, path := range []string{"/audit", "/changes", "/api/v1/audit", "/api/v1/changes"} {
		if res := v.get(path + "?from=yesterday"); res.StatusCode != http.StatusBadRequest {
			t.Errorf("%s?from=yesterday: %d, want 400", path, res.StatusCode)
		}
	}
	list, err := e.h.DB.Audit(t.Context(), 1, 0)
	if err != nil || list[0].Action != "login" {
		t.Errorf("last event = %+v: a refused export must not be recorded as one", list)
	}
}

func TestExportNeedsSignIn(t *testing.T) {
	e := newEnv(t, sysctltest.ProcSys())
	anon := e.client(t)
	if res := anon.get("/audit/export?format=csv"); res.StatusCode != http.StatusSeeOther || !strings.HasPrefix(res.Header.Get("Location"), "/login?next=") {
		t.Errorf("anonymous /audit/export: %d to %q, want the login page", res.StatusCode, res.Header.Get("Location"))
	}
	for _, path := range []string{"/api/v1/audit/export", "/api/v1/changes/export"} {
		if res := anon.get(path); res.StatusCode != http.StatusUnauthorized {
			t.Errorf("anonymous %s: %d, want 401", path, res.StatusCode)
		}
	}
	// A script exports with its viewer token, on either path.
	hdr := e.bearer(t, "auditor", auth.RoleViewer)
	for _, path := range []string{"/api/v1/audit/export?format=json", "/audit/export?format=json"} {
		res := anon.do(http.MethodGet, path, hdr, nil)
		if events := decode[[]map[string]any](t, res); res.StatusCode != http.StatusOK || len(events) == 0 {
			t.Errorf("%s with a token: %d, %d events", path, res.StatusCode, len(events))
		}
	}
	list, err := e.h.DB.Audit(t.Context(), 1, 0)
	if err != nil || list[0].Detail != "exported the audit log as JSON with an API token: everything" {
		t.Errorf("last event = %+v", list)
	}
}
