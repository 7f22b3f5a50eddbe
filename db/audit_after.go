package db

import (
	"context"
	"fmt"
)

// AuditAfter returns up to limit audit events with ids above afterID,
// oldest first: what a reader that has seen the log up to afterID has not
// (the syslog forwarder). Limits as for Changes.
//
// Such a reader misses nothing: appends are serialized from their read of
// the chain head to their commit (appendAudit: SQLite's write lock, or
// PostgreSQL's advisory lock), so ids are committed in order, and a reader
// sees an id only once every lower one is committed.
func (d *DB) AuditAfter(ctx context.Context, afterID int64, limit int) ([]AuditEvent, error) {
	rows, err := d.sql.QueryContext(ctx,
		`SELECT `+auditColumns+` FROM audit_events WHERE id > $1 ORDER BY id LIMIT $2`, afterID, clampLimit(limit))
	if err != nil {
		return nil, fmt.Errorf("list audit events after %d: %w", afterID, err)
	}
	return collect(rows, scanAudit, fmt.Sprintf("list audit events after %d", afterID))
}
