package agent

// The agent's journal is a change.Service database of its own. Each local
// change made for a generation records that generation as its user id:
// the agent has no users, the column has no foreign key, and the row is
// written in the transaction that records the change, so no crash can
// leave a change that does not say which generation it was for. Automatic
// reverts are recorded by change.SystemUser, with user id 0.

import (
	"context"
	"fmt"
	"strings"

	"portpanel/db"
)

// changesFor returns the local changes made for generation gen, newest
// first. Generations only grow, so the search stops at the first change
// of an older one.
func changesFor(ctx context.Context, d *db.DB, gen int64) ([]db.Change, error) {
	var out []db.Change
	before := int64(0)
	for {
		page, err := d.Changes(ctx, 100, before)
		if err != nil {
			return nil, fmt.Errorf("load the journal's changes: %w", err)
		}
		for _, c := range page {
			switch {
			case c.UserID == gen:
				out = append(out, c)
			case c.UserID > 0 && c.UserID < gen:
				return out, nil
			}
		}
		if len(page) < 100 {
			return out, nil
		}
		before = page[len(page)-1].ID
	}
}

// interrupted reports whether c failed only because the agent stopped
// during its apply: crash recovery put kernel and file back, so the
// generation may be applied again.
func interrupted(c db.Change) bool {
	return c.Status == db.StatusFailed && strings.HasPrefix(c.Error, "interrupted")
}

// maxAttempts bounds how often one generation is applied after crashes:
// an apply that kills the agent every time must end as failed, not loop.
const maxAttempts = 3
