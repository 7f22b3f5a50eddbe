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
	plan := queryPlan(t, d, func() (string, []any) { return awaitingQuery, []any{StatusApplied} })
	if !strings.Contains(plan, "changes_awaiting_idx") {
		t.Errorf("query plan %q does not use changes_awaiting_idx", plan)
	}
}
