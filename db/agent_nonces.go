package db

import (
	"context"
	"fmt"
	"time"
)

// UseNonce records that host id signed a request with nonce at at. It
// returns false when the host used that nonce before (a replay), and the
// insert decides it, so two replicas receiving the same request cannot
// both accept it.
func (d *DB) UseNonce(ctx context.Context, id int64, nonce string, at time.Time) (bool, error) {
	res, err := d.sql.ExecContext(ctx, `INSERT INTO agent_nonces (host_id, nonce, seen_at) VALUES ($1, $2, $3)
		ON CONFLICT (host_id, nonce) DO NOTHING`, id, nonce, toMS(at))
	if err != nil {
		return false, fmt.Errorf("record nonce of host %d: %w", id, err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return false, fmt.Errorf("record nonce of host %d: count: %w", id, err)
	}
	return n == 1, nil
}

// PruneNonces forgets nonces seen before before: by then their timestamps
// are refused anyway. It returns how many it deleted.
func (d *DB) PruneNonces(ctx context.Context, before time.Time) (int, error) {
	return d.deleteCounted(ctx, "prune agent nonces", `DELETE FROM agent_nonces WHERE seen_at < $1`, toMS(before))
}

// deleteCounted runs a DELETE and returns how many rows it deleted.
func (d *DB) deleteCounted(ctx context.Context, what, query string, args ...any) (int, error) {
	res, err := d.sql.ExecContext(ctx, query, args...)
	if err != nil {
		return 0, fmt.Errorf("%s: %w", what, err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return 0, fmt.Errorf("%s: count: %w", what, err)
	}
	return int(n), nil
}
