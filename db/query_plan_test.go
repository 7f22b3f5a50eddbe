package db

import (
	"strings"
	"testing"
	"time"
)

// The audit and history pages must cost the same whatever the length of
// the history behind them (BENCHMARKS.md, latency-1M-*): each query they
// run must be bounded by an index, not walk the table or sort it.
func TestPageQueriesAreIndexBounded(t *testing.T) {
	d, err := Open(t.Context(), t.TempDir()+"/pp.db")
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	// As listing.page builds it for the audit page.
	auditPage := func(f Filter) func() (string, []any) {
		return func() (string, []any) {
			cond, args := f.where("at")
			return `SELECT ` + auditColumns + ` FROM audit_events WHERE id < ?` + cond + ` ORDER BY id DESC LIMIT ?`,
				append(append([]any{int64(500)}, args...), 100)
		}
	}
	since := toMS(time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC))
	for _, tt := range []struct {
		name  string
		query func() (string, []any)
		want  string // in the plan
	}{
		{"incremental chain check", func() (string, []any) { return verifyQuery, []any{int64(500)} },
			"USING INTEGER PRIMARY KEY (rowid>?)"},
		{"audit page", auditPage(Filter{}), "USING INTEGER PRIMARY KEY (rowid<?)"},
		{"audit page of one user", auditPage(Filter{User: "alice"}),
			"USING INDEX audit_events_user_idx (user_name=? AND rowid<?)"},
		{"change marks", func() (string, []any) { return changeMarksQuery, []any{since, 1000} },
			"USING INDEX changes_created_at_idx (created_at>?)"},
		// SamplesSince's main part (the rest is the one sample before the window).
		{"range chart", func() (string, []any) {
			return `SELECT ` + sampleColumns + ` FROM samples WHERE at >= ? ORDER BY at, id`, []any{since}
		}, "USING INDEX samples_at_idx (at>?)"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			plan := queryPlan(t, d, tt.query)
			if !strings.Contains(plan, tt.want) {
				t.Errorf("query plan %q does not contain %q", plan, tt.want)
			}
			// A sort would read every matching row before returning the first.
			if strings.Contains(plan, "TEMP B-TREE") {
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
