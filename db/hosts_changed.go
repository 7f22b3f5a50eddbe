package db

import (
	"context"
	"fmt"
	"time"
)

// HostsChangedSince returns the hosts, by name, that something stored at
// or after since changed as the Hosts list shows them: enrolled (again),
// reported (with what became of a generation), given a desired state, or
// revoked. Those times are the control plane's clock, so a reader keeps
// a read of every host current by asking for what changed since its last
// read began, less a margin for clocks and commits in flight. A key
// rotation or a confirmation changes nothing the list shows and is not
// returned.
func (d *DB) HostsChangedSince(ctx context.Context, since time.Time) ([]Host, error) {
	ms := toMS(since)
	rows, err := d.sql.QueryContext(ctx, `SELECT `+hostColumns+` FROM hosts
		WHERE enrolled_at >= $1 OR reported_at >= $1 OR desired_at >= $1 OR revoked_at >= $1
		ORDER BY name`, ms)
	if err != nil {
		return nil, fmt.Errorf("list hosts changed since %s: %w", since.UTC().Format(time.RFC3339), err)
	}
	return collect(rows, scanHost, "list hosts changed")
}
