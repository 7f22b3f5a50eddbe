package db

import (
	"context"
	"fmt"
	"strconv"
	"strings"
)

// AuditForHost returns up to limit audit events, newest first, of host
// name: those of its changes, and those whose detail names it as fleet
// writes it, quoted ("lb-01", so lb-1 does not find lb-10's events). The
// audit log has no host column: its hash chain covers the columns it has.
func (d *DB) AuditForHost(ctx context.Context, name string, limit int) ([]AuditEvent, error) {
	pattern := "%" + likeEscaper.Replace(strconv.Quote(name)) + "%"
	rows, err := d.sql.QueryContext(ctx, `SELECT `+auditColumns+` FROM audit_events
		WHERE detail LIKE $1 ESCAPE '\' OR change_id IN (SELECT id FROM changes WHERE host = $2)
		ORDER BY id DESC LIMIT $3`, pattern, name, clampLimit(limit))
	if err != nil {
		return nil, fmt.Errorf("list audit events of host %q: %w", name, err)
	}
	return collect(rows, scanAudit, "list audit events of host")
}

// likeEscaper escapes LIKE's wildcards (with ESCAPE '\').
var likeEscaper = strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`)
