package db_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"portpanel/db"
	"portpanel/db/dbtest"
)

func appendEvents(t *testing.T, d *db.DB, n int) []db.AuditEvent {
	t.Helper()
	var out []db.AuditEvent
	for i := range n {
		e, err := d.AppendAudit(context.Background(), db.AuditEvent{
			User: "alice", Action: "login.ok", Detail: fmt.Sprintf("event %d", i+1)})
		if err != nil {
			t.Fatalf("append event %d: %v", i+1, err)
		}
		out = append(out, e)
	}
	return out
}

func TestAppendAuditChains(t *testing.T) {
	ctx := context.Background()
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		at := time.Date(2026, 1, 2, 3, 4, 5, 678_900_000, time.UTC)
		first, err := d.AppendAudit(ctx, db.AuditEvent{At: at, Action: "start"})
		if err != nil {
			t.Fatalf("append first: %v", err)
		}
		if first.ID != 1 || first.PrevHash != "" || len(first.Hash) != 64 || !first.At.Equal(at.Truncate(time.Millisecond)) {
			t.Errorf("first event = %+v: want id 1, empty prev_hash, a hex SHA-256, the given time", first)
		}
		second := appendEvents(t, d, 1)[0]
		if second.PrevHash != first.Hash {
			t.Errorf("second prev_hash = %q, want first hash %q", second.PrevHash, first.Hash)
		}
		stored, err := d.Audit(ctx, 10, 0)
		if err != nil {
			t.Fatalf("Audit: %v", err)
		}
		if len(stored) != 2 || stored[0] != second || stored[1] != first {
			t.Errorf("Audit = %+v, want [second, first] as returned by AppendAudit", stored)
		}
		if n, err := d.VerifyAudit(ctx); err != nil || n != 2 {
			t.Errorf("VerifyAudit = %d, %v; want 2, nil", n, err)
		}
	})
}

func TestVerifyEmptyAudit(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		if n, err := d.VerifyAudit(context.Background()); err != nil || n != 0 {
			t.Errorf("VerifyAudit on empty log = %d, %v; want 0, nil", n, err)
		}
	})
}

func TestAuditIsAppendOnly(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		appendEvents(t, d, 3)
		stmts := []string{
			`UPDATE audit_events SET detail = 'edited' WHERE id = 2`,
			`UPDATE audit_events SET hash = '' `,
			`DELETE FROM audit_events WHERE id = 3`,
			`DELETE FROM audit_events`,
		}
		if d.Dialect() == db.Postgres {
			// TRUNCATE fires no row trigger; SQLite has no TRUNCATE.
			// CASCADE, or the webhook deliveries' foreign key refuses it
			// before the trigger can.
			stmts = append(stmts, `TRUNCATE audit_events CASCADE`)
		}
		for _, stmt := range stmts {
			t.Run(stmt, func(t *testing.T) {
				_, err := d.SQL().Exec(stmt)
				if err == nil || !strings.Contains(err.Error(), "audit log is append-only") {
					t.Errorf("raw %q: error = %v, want the append-only trigger's", stmt, err)
				}
			})
		}
		if n, err := d.VerifyAudit(context.Background()); err != nil || n != 3 {
			t.Errorf("VerifyAudit after refused edits = %d, %v; want 3, nil", n, err)
		}
	})
}

// documentedHash recomputes an event's hash from the encoding documented in
// audit.go, independently of the package, so the format stays as written.
func documentedHash(e db.AuditEvent) string {
	changeID := ""
	if e.ChangeID != nil {
		changeID = strconv.FormatInt(*e.ChangeID, 10)
	}
	var m []byte
	for _, f := range []string{"portpanel-audit-v1", e.PrevHash, strconv.FormatInt(e.ID, 10),
		strconv.FormatInt(e.At.UnixMilli(), 10), e.User, e.Action, e.Detail, changeID} {
		m = append(m, strconv.Itoa(len(f))+":"+f+","...)
	}
	sum := sha256.Sum256(m)
	return hex.EncodeToString(sum[:])
}

func TestAuditHashFollowsDocumentedEncoding(t *testing.T) {
	ctx := context.Background()
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		c, withChange, err := d.RecordChange(ctx, change(1, 2), db.AuditEvent{User: "a:b,", Action: "change.applied", Detail: "3:x,"}, nil)
		if err != nil {
			t.Fatalf("record change: %v", err)
		}
		if withChange.ChangeID == nil || *withChange.ChangeID != c.ID {
			t.Fatalf("event change id = %v, want %d", withChange.ChangeID, c.ID)
		}
		plain := appendEvents(t, d, 1)[0]
		for _, e := range []db.AuditEvent{withChange, plain} {
			if want := documentedHash(e); e.Hash != want {
				t.Errorf("event %d hash = %s, want %s from the documented encoding", e.ID, e.Hash, want)
			}
		}
	})
}

// TestVerifyAuditDetectsTampering drops the triggers with raw SQL, as
// anyone with write access to the file could, then edits the log.
func TestVerifyAuditDetectsTampering(t *testing.T) {
	dbtest.EachStore(t, func(t *testing.T, open func(testing.TB) *db.DB) {
		tests := []struct {
			name    string
			tamper  []string
			wantOK  int
			wantBad int64
			wantWhy string
		}{
			{name: "edited detail", tamper: []string{`UPDATE audit_events SET detail = 'nothing to see' WHERE id = 3`},
				wantOK: 2, wantBad: 3, wantWhy: "hash does not match"},
			{name: "edited time", tamper: []string{`UPDATE audit_events SET at = at + 1 WHERE id = 2`},
				wantOK: 1, wantBad: 2, wantWhy: "hash does not match"},
			{name: "edited user", tamper: []string{`UPDATE audit_events SET user_name = 'mallory' WHERE id = 2`},
				wantOK: 1, wantBad: 2, wantWhy: "hash does not match"},
			{name: "edited action", tamper: []string{`UPDATE audit_events SET action = 'login.failed' WHERE id = 4`},
				wantOK: 3, wantBad: 4, wantWhy: "hash does not match"},
			{name: "change link added", tamper: []string{`UPDATE audit_events SET change_id = 1 WHERE id = 2`},
				wantOK: 1, wantBad: 2, wantWhy: "hash does not match"},
			{name: "edited and rehashed: the next event no longer links", tamper: []string{
				`UPDATE audit_events SET detail = 'nothing to see', hash = $1 WHERE id = 2`},
				wantOK: 2, wantBad: 3, wantWhy: "prev_hash"},
			{name: "row removed from the middle", tamper: []string{`DELETE FROM audit_events WHERE id = 2`},
				wantOK: 1, wantBad: 3, wantWhy: "prev_hash"},
			{name: "first row removed", tamper: []string{`DELETE FROM audit_events WHERE id = 1`},
				wantOK: 0, wantBad: 2, wantWhy: "prev_hash"},
			{name: "rows swapped", tamper: []string{
				`UPDATE audit_events SET id = 100 WHERE id = 2`,
				`UPDATE audit_events SET id = 2 WHERE id = 3`,
				`UPDATE audit_events SET id = 3 WHERE id = 100`},
				wantOK: 1, wantBad: 2, wantWhy: "prev_hash"},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				ctx := context.Background()
				d := open(t)
				if _, _, err := d.RecordChange(ctx, change(1, 2), db.AuditEvent{Action: "change.applied"}, nil); err != nil {
					t.Fatalf("record change: %v", err)
				}
				events := appendEvents(t, d, 3)
				// What a careful forger would store as event 2's hash.
				forged := events[0]
				forged.Detail = "nothing to see"
				rehash := documentedHash(forged)
				dbtest.DropAuditTriggers(t, d)
				for _, stmt := range tt.tamper {
					var args []any
					if strings.Contains(stmt, "$1") {
						args = append(args, rehash)
					}
					if _, err := d.SQL().Exec(stmt, args...); err != nil {
						t.Fatalf("tamper %q: %v", stmt, err)
					}
				}
				n, err := d.VerifyAudit(ctx)
				var ce *db.ChainError
				if !errors.As(err, &ce) {
					t.Fatalf("VerifyAudit = %d, %v; want a *ChainError", n, err)
				}
				if n != tt.wantOK || ce.ID != tt.wantBad || !strings.Contains(ce.Reason, tt.wantWhy) {
					t.Errorf("VerifyAudit = %d, %v; want %d verified, then event %d: %q", n, err, tt.wantOK, tt.wantBad, tt.wantWhy)
				}
			})
		}
	})
}

func TestConcurrentAppendsKeepOneChain(t *testing.T) {
	ctx := context.Background()
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		const workers, each = 20, 5
		var wg sync.WaitGroup
		errs := make(chan error, workers*each)
		for w := range workers {
			wg.Go(func() {
				for i := range each {
					_, err := d.AppendAudit(ctx, db.AuditEvent{Action: "test", Detail: fmt.Sprintf("w%d-%d", w, i)})
					if err != nil {
						errs <- err
					}
				}
			})
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Errorf("concurrent append: %v", err)
		}
		if n, err := d.VerifyAudit(ctx); err != nil || n != workers*each {
			t.Errorf("VerifyAudit = %d, %v; want %d, nil", n, err, workers*each)
		}
	})
}
