package db

import (
	"context"
	"path/filepath"
	"strings"
	"testing"
)

// The query behind every signed-in page must use the partial index, not
// walk every applied change (BENCHMARKS.md: 222x slower at 1M changes).
func TestAwaitingConfirmationUsesItsIndex(t *testing.T) {
	d, err := Open(context.Background(), filepath.Join(t.TempDir(), "pp.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	rows, err := d.sql.Query(`EXPLAIN QUERY PLAN `+awaitingQuery, StatusApplied)
	if err != nil {
		t.Fatal(err)
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
	if got := strings.Join(plan, "; "); !strings.Contains(got, "changes_awaiting_idx") {
		t.Errorf("query plan %q does not use changes_awaiting_idx", got)
	}
}
