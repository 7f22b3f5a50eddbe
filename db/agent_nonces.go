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
	return d.insertNonce(ctx, id, `INSERT INTO agent_nonces (host_id, nonce, seen_at) VALUES ($1, $2, $3)
		ON CONFLICT (host_id, nonce) DO NOTHING`, id, nonce, toMS(at))
}

// SpendNonce is UseNonce for a request verified with k, a copy of the
// host's keys the caller may have kept: the nonce is recorded only while
// the host is not revoked and k's keys are still its keys, in
// the same statement. So a control plane that caches keys learns of a
// revocation or rotation, made on any replica, at the next request: false
// means a replay, a revocation or a new key, and the caller reads the
// keys again to tell which.
func (d *DB) SpendNonce(ctx context.Context, k HostKey, nonce string, at time.Time) (bool, error) {
	// The grace of the previous key is compared too: re-enrolling a
	// revoked host with its old key ends a grace the copy still holds.
	var prevUntil int64
	if k.PrevKeyUntil != nil {
		prevUntil = toMS(*k.PrevKeyUntil)
	}
	// The WHERE is also what lets SQLite parse ON CONFLICT after a SELECT.
	return d.insertNonce(ctx, k.ID, `INSERT INTO agent_nonces (host_id, nonce, seen_at)
		SELECT $1, $2, $3 WHERE EXISTS (SELECT 1 FROM hosts
			WHERE id = $1 AND public_key = $4 AND COALESCE(prev_key_until, 0) = $5 AND revoked_at IS NULL)
		ON CONFLICT (host_id, nonce) DO NOTHING`, k.ID, nonce, toMS(at), k.PublicKey, prevUntil)
}

func (d *DB) insertNonce(ctx context.Context, id int64, query string, args ...any) (bool, error) {
	res, err := d.sql.ExecContext(ctx, query, args...)
	if err != nil {
		return false, fmt.Errorf("record nonce of host %d: %w", id, err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return false, fmt.Errorf("record nonce of host %d: count: %w", id, err)
	}
	return n == 1, nil
}

// nonceBatch bounds one DELETE of PruneNonces: at 10,000 hosts a minute
// of nonces is ~40,000 rows, and one statement deleting them all holds
// its locks (SQLite: the whole database) while agents wait to write.
const nonceBatch = 5000

// PruneNonces forgets nonces seen before before: by then their timestamps
// are refused anyway. It deletes in batches of nonceBatch and returns how
// many it deleted.
func (d *DB) PruneNonces(ctx context.Context, before time.Time) (int, error) {
	return d.pruneNonces(ctx, before, nonceBatch)
}

func (d *DB) pruneNonces(ctx context.Context, before time.Time, batch int) (int, error) {
	total := 0
	for {
		n, err := d.deleteCounted(ctx, "prune agent nonces", `DELETE FROM agent_nonces
			WHERE (host_id, nonce) IN (SELECT host_id, nonce FROM agent_nonces WHERE seen_at < $1 LIMIT $2)`,
			toMS(before), batch)
		total += n
		if err != nil || n < batch {
			return total, err
		}
	}
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
