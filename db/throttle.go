package db

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"slices"
	"strings"
	"time"
)

// ThrottleCount is one sign-in failure count of handlers/throttle, kept in
// the database so that every replica of the control plane sees the same
// counts. The zero count (no failures, no wait) is not stored.
type ThrottleCount struct {
	Fails int
	Until time.Time // no attempt before this
	Seen  time.Time // the latest attempt
}

func (c ThrottleCount) zero() bool { return c.Fails == 0 && c.Until.IsZero() }

// UpdateThrottle calls fn with the counts of keys (the zero count for a key
// not stored), in order, and stores what fn leaves in them, all in one
// transaction that holds the rows of keys: an Update of the same keys from
// another replica waits for it, so a parallel burst is counted one attempt
// at a time wherever it lands.
//
// Keys are stored as their SHA-256: a limiter key holds what a client
// typed as a user name, which may be a password typed in the wrong field.
func (d *DB) UpdateThrottle(ctx context.Context, keys []string, fn func([]ThrottleCount)) error {
	tx, err := d.sql.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("update sign-in counts: begin: %w", err)
	}
	defer tx.Rollback()
	hashed := make([]string, len(keys))
	for i, k := range keys {
		sum := sha256.Sum256([]byte(k))
		hashed[i] = hex.EncodeToString(sum[:])
	}
	// Rows are locked in one order whatever the caller's, so two updates
	// of the same pair of keys cannot deadlock on PostgreSQL. The upsert
	// locks the row (and creates it, so that a first attempt is locked
	// too); on SQLite the transaction holds the write lock from BEGIN.
	order := make([]int, len(keys))
	for i := range order {
		order[i] = i
	}
	slices.SortFunc(order, func(a, b int) int { return strings.Compare(hashed[a], hashed[b]) })
	counts := make([]ThrottleCount, len(keys))
	for _, i := range order {
		var until, seen int64
		if err := tx.QueryRowContext(ctx, `INSERT INTO login_throttle (key, fails, until_at, seen_at) VALUES ($1, 0, 0, 0)
			ON CONFLICT (key) DO UPDATE SET key = excluded.key
			RETURNING fails, until_at, seen_at`, hashed[i]).Scan(&counts[i].Fails, &until, &seen); err != nil {
			return fmt.Errorf("update sign-in counts: read: %w", err)
		}
		counts[i].Until, counts[i].Seen = timeOrZero(until), timeOrZero(seen)
	}
	fn(counts)
	for _, i := range order {
		c := counts[i]
		if c.zero() {
			_, err = tx.ExecContext(ctx, `DELETE FROM login_throttle WHERE key = $1`, hashed[i])
		} else {
			_, err = tx.ExecContext(ctx, `UPDATE login_throttle SET fails = $1, until_at = $2, seen_at = $3 WHERE key = $4`,
				c.Fails, msOrZero(c.Until), msOrZero(c.Seen), hashed[i])
		}
		if err != nil {
			return fmt.Errorf("update sign-in counts: write: %w", err)
		}
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("update sign-in counts: commit: %w", err)
	}
	return nil
}

// PruneThrottle deletes the counts last seen before idle whose wait is
// over at now (they would start over at the next attempt anyway), then,
// beyond keep counts, the least recently seen: the bound the memory store
// has, so that a client with many addresses cannot grow the table without
// end (a dropped count starts over, as in memory).
func (d *DB) PruneThrottle(ctx context.Context, idle, now time.Time, keep int) (int64, error) {
	res, err := d.sql.ExecContext(ctx, `DELETE FROM login_throttle WHERE seen_at < $1 AND until_at <= $2`, toMS(idle), toMS(now))
	if err != nil {
		return 0, fmt.Errorf("prune sign-in counts: %w", err)
	}
	n, _ := res.RowsAffected()
	res, err = d.sql.ExecContext(ctx, `DELETE FROM login_throttle WHERE seen_at <
		(SELECT seen_at FROM login_throttle ORDER BY seen_at DESC LIMIT 1 OFFSET $1)`, max(keep, 1)-1)
	if err != nil {
		return n, fmt.Errorf("prune sign-in counts beyond %d: %w", keep, err)
	}
	m, _ := res.RowsAffected()
	return n + m, nil
}

// CountThrottle is the number of counts stored.
func (d *DB) CountThrottle(ctx context.Context) (int, error) {
	var n int
	if err := d.sql.QueryRowContext(ctx, `SELECT COUNT(*) FROM login_throttle`).Scan(&n); err != nil {
		return 0, fmt.Errorf("count sign-in counts: %w", err)
	}
	return n, nil
}

// The zero time is stored as 0, not as year 1's milliseconds.
func msOrZero(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return toMS(t)
}

func timeOrZero(ms int64) time.Time {
	if ms == 0 {
		return time.Time{}
	}
	return fromMS(ms)
}
