package main

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"time"

	"portpanel/db"
)

// batch is how many audit events go into one multi-row INSERT (8
// parameters each, well under SQLite's 32,766).
const batch = 500

// seedAudit writes one audit event per change, at the change's time, as a
// valid hash chain: the audit page verifies the chain, and a broken one
// would stop that check early and flatter the large database.
func seedAudit(ctx context.Context, tx *sql.Tx, n int, now int64) error {
	stmts := map[int]*sql.Stmt{}
	defer func() {
		for _, s := range stmts {
			s.Close()
		}
	}()
	prev := ""
	for first := 1; first <= n; first += batch {
		last := min(first+batch-1, n)
		events, err := eventsFor(ctx, tx, first, last)
		if err != nil {
			return err
		}
		args := make([]any, 0, 8*len(events))
		for _, e := range events {
			e.prev = prev
			e.hash = chainHash(e)
			prev = e.hash
			args = append(args, e.id, e.at, e.user, e.action, e.detail, e.id, e.prev, e.hash)
		}
		st := stmts[len(events)]
		if st == nil {
			q := `INSERT INTO audit_events (id, at, user_name, action, detail, change_id, prev_hash, hash) VALUES ` +
				strings.TrimSuffix(strings.Repeat("(?, ?, ?, ?, ?, ?, ?, ?), ", len(events)), ", ")
			if st, err = tx.PrepareContext(ctx, q); err != nil {
				return err
			}
			stmts[len(events)] = st
		}
		if _, err := st.ExecContext(ctx, args...); err != nil {
			return err
		}
	}
	return nil
}

type event struct {
	id, at                           int64
	user, action, detail, prev, hash string
}

// eventsFor reads changes first..last and describes each as its audit
// event would.
func eventsFor(ctx context.Context, tx *sql.Tx, first, last int) ([]*event, error) {
	rows, err := tx.QueryContext(ctx, `SELECT id, created_at, status, low, before_low FROM changes
		WHERE id BETWEEN ? AND ? ORDER BY id`, first, last)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []*event
	for rows.Next() {
		e := &event{user: "bench"}
		var status string
		var low, before int
		if err := rows.Scan(&e.id, &e.at, &status, &low, &before); err != nil {
			return nil, err
		}
		e.action = "change.applied"
		if status == "failed" {
			e.action = "change.failed"
		}
		e.detail = fmt.Sprintf("net.ipv4.ip_local_port_range %d 60999 → %d 60999: seeded change %d", before, low, e.id)
		out = append(out, e)
	}
	return out, rows.Err()
}

// chainHash is the hash db gives e in the chain; run.sh has `portpanel
// audit verify` check the seeded chain.
func chainHash(e *event) string {
	return db.AuditHash(db.AuditEvent{ID: e.id, At: time.UnixMilli(e.at), User: e.user, Action: e.action,
		Detail: e.detail, ChangeID: &e.id, PrevHash: e.prev})
}
