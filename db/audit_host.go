package db

import (
	"context"
	"fmt"
	"strconv"
	"strings"
)

// AuditForHost returns up to limit audit events, newest first, whose
// detail names host name as fleet writes it: quoted, "lb-01" (so lb-1
// does not find lb-10's events). The audit log has no host column: its
// hash chain covers the columns it has, and a name in the detail is what
// every event of a host (enrollment, revocation, remote change) carries.
func (d *DB) AuditForHost(ctx context.Context, name string, limit int) ([]AuditEvent, error) {
	pattern := "%" + likeEscaper.Replace(strconv.Quote(name)) + "%"
	rows, err := d.sql.QueryContext(ctx, `SELECT `+auditColumns+` FROM audit_events
		WHERE detail LIKE $1 ESCAPE '\' ORDER BY id DESC LIMIT $2`, pattern, clampLimit(limit))
	if err != nil {
		return nil, fmt.Errorf("list audit events of host %q: %w", name, err)
	}
	return collect(rows, scanAudit, "list audit events of host")
}

// likeEscaper escapes LIKE's wildcards (with ESCAPE '\').
var likeEscaper = strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`)
