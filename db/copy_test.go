package db_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"portpanel/db"
	"portpanel/db/dbtest"
)

// seedEveryTable writes at least one row into every table of d through
// db's own methods, so a copy test sees every table carry data. A table
// added by a later migration makes TestCopyMovesEveryTable fail until it
// is seeded here: that is how a table db.Copy would miss gets noticed.
func seedEveryTable(t *testing.T, d *db.DB) {
	t.Helper()
	ctx := context.Background()
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	d.SetNotifier(notifier(new([]db.Recorded)))
	addEndpoint(t, d, "https://a.example/hook", db.FormatStandard, true, "change.applied")
	u, err := d.CreateUser(ctx, "alice", "admin", "hash", nil)
	must(err)
	_, err = d.CreateUser(ctx, "bob", "viewer", "hash", nil)
	must(err)
	_, err = d.CreateToken(ctx, u.ID, "ci", tokenHash("api-token"))
	must(err)
	c := change(20000, 60999)
	c.Status, c.FileExisted, c.FileBefore, c.FileAfter = db.StatusApplied, true, []byte("old\n"), []byte{}
	stored, _, err := d.RecordChange(ctx, c, db.AuditEvent{User: "alice", Action: "change.applied", Detail: "d"},
		&db.Sample{At: t0, Low: 20000, High: 60999, Source: db.SourceChange})
	must(err)
	back := change(32768, 60999)
	back.RollbackOf = &stored.ID
	_, _, err = d.RecordChange(ctx, back, db.AuditEvent{User: "bob", Action: "change.proposed"}, nil)
	must(err)
	for i := range 3 {
		_, err = d.InsertUsage(ctx, db.UsageSample{At: t0.Add(time.Duration(i) * time.Minute), Source: db.UsageSourceProc,
			RangeLow: 20000, RangeHigh: 60999, Capacity: 41000, InUse: i, BusiestRisk: 0.25,
			TCPStates: map[string]int{"ESTAB": i}})
		must(err)
	}
	_, err = d.PruneUsage(ctx, t0.Add(2*time.Hour), db.Retention{Raw: 24 * time.Hour, Hourly: 24 * time.Hour})
	must(err)
	must(d.RecordListeners(ctx, t0, []db.ListenerSighting{{Proto: "tcp", Port: 5432, Process: "postgres", PID: 7}}))
	_, err = d.Observe(ctx, "drift", "yes", func(string) *db.AuditEvent { return &db.AuditEvent{Action: "drift.detected"} }, nil)
	must(err)
	must(d.Sessions().CommitCtx(ctx, "session-hash", []byte(`{"user":1}`), time.Now().Add(time.Hour)))
	enrollAll(t, d, "web1")
	h, err := d.HostByName(ctx, "web1")
	must(err)
	_, err = d.UseNonce(ctx, h.ID, "nonce-1", t0)
	must(err)
	_, err = d.AddPreview(ctx, db.HostPreview{ID: "p1", HostID: h.ID, Keys: []byte(`{}`), CreatedAt: t0})
	must(err)
	inUse := 3
	_, err = d.RecordHostReport(ctx, h.ID, db.HostReport{At: t0, Version: "2", PollSeconds: 30, Observed: []byte(`{}`),
		Sample: &db.HostSample{Low: 1000, High: 2000, InUse: &inUse, Risk: "ok"}})
	must(err)
	_, err = d.ClaimJob(ctx, db.JobClaim{Job: "prune", Holder: "a", Now: t0, Every: time.Minute, Hold: time.Minute})
	must(err)
	must(d.UpdateThrottle(ctx, []string{"alice"}, func(c []db.ThrottleCount) { c[0].Fails, c[0].Seen = 1, t0 }))
}

// dump is every row of every table of d, in a form equal on both stores.
func dump(t *testing.T, d *db.DB) map[string][]string {
	t.Helper()
	tables, err := d.Schema(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	out := map[string][]string{}
	for _, tb := range tables {
		rows, err := d.SQL().Query(`SELECT ` + strings.Join(tb.Columns, ", ") + ` FROM ` + tb.Name)
		if err != nil {
			t.Fatal(err)
		}
		for rows.Next() {
			vals := make([]any, len(tb.Columns))
			ptrs := make([]any, len(vals))
			for i := range vals {
				ptrs[i] = &vals[i]
			}
			if err := rows.Scan(ptrs...); err != nil {
				t.Fatal(err)
			}
			var b strings.Builder
			for i, v := range vals {
				if bs, ok := v.([]byte); ok {
					v = fmt.Sprintf("%x", bs)
				}
				fmt.Fprintf(&b, "%s=%v ", tb.Columns[i], v)
			}
			out[tb.Name] = append(out[tb.Name], b.String())
		}
		if err := rows.Err(); err != nil {
			t.Fatal(err)
		}
		rows.Close()
		slices.Sort(out[tb.Name])
		if out[tb.Name] == nil {
			out[tb.Name] = []string{}
		}
	}
	return out
}

// db copy moves every table, row for row, ids kept; the new store then
// numbers new rows after the copied ones, and its audit chain verifies.
func TestCopyMovesEveryTable(t *testing.T) {
	ctx := context.Background()
	from, to := dbtest.Open(t), dbtest.OpenPostgres(t)
	seedEveryTable(t, from)
	before := dump(t, from)
	for table, rows := range before {
		if len(rows) == 0 {
			t.Errorf("table %s has no rows after seedEveryTable: seed it there, or a copy that misses it goes unseen", table)
		}
	}
	r, err := db.Copy(ctx, from, to)
	if err != nil {
		t.Fatalf("Copy: %v", err)
	}
	after := dump(t, to)
	for table, rows := range before {
		if !slices.Equal(rows, after[table]) {
			t.Errorf("table %s differs after the copy:\nsqlite   %q\npostgres %q", table, rows, after[table])
		}
	}
	if len(r.Tables) != len(before) || r.Audit == 0 {
		t.Errorf("report %+v: want all %d tables and the audit events verified", r, len(before))
	}
	// New rows continue the ids: the sequences were moved past the copy.
	u, err := to.CreateUser(ctx, "carol", "viewer", "hash", nil)
	if err != nil || u.ID != 3 {
		t.Errorf("first user created after the copy: id %d, %v; want 3", u.ID, err)
	}
	if _, err := to.AppendAudit(ctx, db.AuditEvent{Action: "after.copy"}); err != nil {
		t.Error(err)
	}
	if n, err := to.VerifyAudit(ctx); err != nil || n != r.Audit+1 {
		t.Errorf("VerifyAudit after one more event = %d, %v; want %d", n, err, r.Audit+1)
	}
	// Into a store with data: refused, and nothing written.
	if _, err := db.Copy(ctx, from, to); !errors.Is(err, db.ErrTargetNotEmpty) {
		t.Errorf("a second Copy into the same store: %v, want ErrTargetNotEmpty", err)
	}
}
