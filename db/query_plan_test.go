package db

import (
	"strings"
	"testing"
	"time"
)

// The audit and history pages must cost the same whatever the length of
// the history behind them (BENCHMARKS.md, latency-1M-*): each query they
// run must be bounded by an index, not walk the table or sort it.
//
// SQLite only, as are the other plan tests (awaiting_index_test.go): they
// read SQLite's EXPLAIN QUERY PLAN, and the indexes they check are built
// on SQLite's rowid, which an index entry carries (so one on user_name
// lists a user's rows in id order). PostgreSQL plans these queries its
// own way; its index set is not tuned for a million-row history yet.
func TestPageQueriesAreIndexBounded(t *testing.T) {
	d, err := Open(t.Context(), t.TempDir()+"/pp.db")
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	// As listing.page builds it for the audit page.
	auditPage := func(f Filter) func() (string, []any) {
		return func() (string, []any) {
			return auditListing.pageQuery(f, 100, 500, nil)
		}
	}
	since := toMS(time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC))
	for _, tt := range []struct {
		name  string
		query func() (string, []any)
		want  string // in the plan
		// boundedSort allows a sort whose rows the index already bounds
		// by the window, not by the history.
		boundedSort bool
	}{
		{"incremental chain check", func() (string, []any) { return verifyQuery, []any{int64(500)} },
			"USING INTEGER PRIMARY KEY (rowid>?)", false},
		{"audit page", auditPage(Filter{}), "USING INTEGER PRIMARY KEY (rowid<?)", false},
		{"audit page of one user", auditPage(Filter{User: "alice"}),
			"USING INDEX audit_events_user_idx (user_name=? AND rowid<?)", false},
		{"change marks", func() (string, []any) { return changeMarksQuery(1), []any{since, 1000, 32768, 60999} },
			// Sorted: the window's changes of the ranges asked for, merged
			// from one index range per range.
			"USING INDEX changes_range_created_at_idx (low=? AND high=? AND created_at>?)", true},
		// SamplesSince's main part (the rest is the one sample before the window).
		{"range chart", func() (string, []any) {
			return `SELECT ` + sampleColumns + ` FROM samples WHERE at >= $1 ORDER BY at, id`, []any{since}
		}, "USING INDEX samples_at_idx (at>?)", false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			plan := queryPlan(t, d, tt.query)
			if !strings.Contains(plan, tt.want) {
				t.Errorf("query plan %q does not contain %q", plan, tt.want)
			}
			// A sort would read every matching row before returning the first.
			if strings.Contains(plan, "TEMP B-TREE") && !tt.boundedSort {
				t.Errorf("query plan %q sorts", plan)
			}
		})
	}
}

func queryPlan(t *testing.T, d *DB, build func() (string, []any)) string {
	t.Helper()
	query, args := build()
	rows, err := d.sql.Query(`EXPLAIN QUERY PLAN `+query, args...)
	if err != nil {
		t.Fatalf("explain %q: %v", query, err)
	}
	defer rows.Close()
	var plan []string
	for rows.Next() {
		var id, parent, unused int
		var detail string
		if err := rows.Scan(&id, &parent, &unused, &detail); err != nil {
			t.Fatal(err)
		}
		plan = append(plan, detail)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return strings.Join(plan, "; ")
}

// Every filter combination of the audit and history pages, on the first
// page and a deeper one, must read its page from one index, in page order
// and bounded by the cursor: no sort of the filtered rows, and no walk
// through the rows the filter leaves out (issue 6: a from+to window used
// to be read whole through the time index and sorted).
func TestFilteredPagesAreIndexBounded(t *testing.T) {
	d, err := Open(t.Context(), t.TempDir()+"/pp.db")
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	from := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	to := from.AddDate(0, 10, 0)
	inWindow := toMS(from.AddDate(0, 5, 0)) // a deep page's cursor time
	afterWindow := toMS(to.AddDate(0, 1, 0))
	type want struct{ audit, changes string }
	for _, tt := range []struct {
		name     string
		f        Filter
		cursorAt *int64 // nil: first page
		want     want   // the plan's index and its constraints
	}{
		{"none", Filter{}, nil, want{
			"USING INTEGER PRIMARY KEY (rowid<?)", "USING INTEGER PRIMARY KEY (rowid<?)"}},
		{"user", Filter{User: "alice"}, nil, want{
			"USING INDEX audit_events_user_idx (user_name=? AND rowid<?)",
			"USING INDEX changes_user_idx (user_name=? AND rowid<?)"}},
		{"from", Filter{From: from}, nil, want{
			"USING INDEX audit_events_at_idx (at>?)", "USING INDEX changes_created_at_idx (created_at>?)"}},
		{"from, deep", Filter{From: from}, &inWindow, want{
			"USING INDEX audit_events_at_idx (at>? AND at<?)",
			"USING INDEX changes_created_at_idx (created_at>? AND created_at<?)"}},
		{"to", Filter{To: to}, nil, want{
			"USING INDEX audit_events_at_idx (at<?)", "USING INDEX changes_created_at_idx (created_at<?)"}},
		{"to, deep", Filter{To: to}, &inWindow, want{
			"USING INDEX audit_events_at_idx (at<?)", "USING INDEX changes_created_at_idx (created_at<?)"}},
		{"from and to", Filter{From: from, To: to}, nil, want{
			"USING INDEX audit_events_at_idx (at>? AND at<?)",
			"USING INDEX changes_created_at_idx (created_at>? AND created_at<?)"}},
		{"from and to, deep", Filter{From: from, To: to}, &inWindow, want{
			"USING INDEX audit_events_at_idx (at>? AND at<?)",
			"USING INDEX changes_created_at_idx (created_at>? AND created_at<?)"}},
		// A cursor after To (a row newer than the window) leaves To the bound.
		{"from and to, cursor after the window", Filter{From: from, To: to}, &afterWindow, want{
			"USING INDEX audit_events_at_idx (at>? AND at<?)",
			"USING INDEX changes_created_at_idx (created_at>? AND created_at<?)"}},
		{"user, from and to", Filter{User: "alice", From: from, To: to}, nil, want{
			"USING INDEX audit_events_user_at_idx (user_name=? AND at>? AND at<?)",
			"USING INDEX changes_user_created_at_idx (user_name=? AND created_at>? AND created_at<?)"}},
		{"user, from and to, deep", Filter{User: "alice", From: from, To: to}, &inWindow, want{
			"USING INDEX audit_events_user_at_idx (user_name=? AND at>? AND at<?)",
			"USING INDEX changes_user_created_at_idx (user_name=? AND created_at>? AND created_at<?)"}},
		{"user and to, deep", Filter{User: "alice", To: to}, &inWindow, want{
			"USING INDEX audit_events_user_at_idx (user_name=? AND at<?)",
			"USING INDEX changes_user_created_at_idx (user_name=? AND created_at<?)"}},
	} {
		var before int64
		if tt.cursorAt != nil {
			before = 500
		}
		for table, plan := range map[string]struct {
			query func() (string, []any)
			want  string
		}{
			"audit": {func() (string, []any) { return auditListing.pageQuery(tt.f, 100, before, tt.cursorAt) },
				tt.want.audit},
			"changes": {func() (string, []any) { return changeListing.pageQuery(tt.f, 100, before, tt.cursorAt) },
				tt.want.changes},
		} {
			t.Run(table+"/"+tt.name, func(t *testing.T) {
				got := queryPlan(t, d, plan.query)
				if !strings.Contains(got, plan.want) {
					t.Errorf("query plan %q does not contain %q", got, plan.want)
				}
				if strings.Contains(got, "TEMP B-TREE") {
					t.Errorf("query plan %q sorts", got)
				}
				// One index search, nothing else: a second step would be
				// a scan or a subquery over the filtered rows.
				if strings.Contains(got, ";") {
					t.Errorf("query plan %q has more than one step", got)
				}
			})
		}
	}
}
