package db_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"portpanel/db"
	"portpanel/db/dbtest"
)

// tamper drops the append-only triggers, as anyone with write access to
// the file could, and runs stmts.
func tamper(t *testing.T, d *db.DB, stmts ...string) {
	t.Helper()
	dbtest.DropAuditTriggers(t, d)
	for _, stmt := range stmts {
		if _, err := d.SQL().Exec(stmt); err != nil {
			t.Fatalf("tamper %q: %v", stmt, err)
		}
	}
}

// TestCheckAuditFindsTamperingSinceTheLastCheck: after a first check has
// verified events 1–4, more are appended and the log is edited; the next
// CheckAudit must name the first event that no longer verifies among the
// new ones and the previous head (event 4).
func TestCheckAuditFindsTamperingSinceTheLastCheck(t *testing.T) {
	dbtest.EachStore(t, func(t *testing.T, open func(testing.TB) *db.DB) {
		for _, tt := range []struct {
			name    string
			tamper  []string
			wantBad int64
			wantWhy string
		}{
			{"new event edited", []string{`UPDATE audit_events SET detail = 'nothing to see' WHERE id = 6`}, 6, "hash does not match"},
			{"newest event edited", []string{`UPDATE audit_events SET user_name = 'mallory' WHERE id = 7`}, 7, "hash does not match"},
			{"new event removed", []string{`DELETE FROM audit_events WHERE id = 5`}, 6, "prev_hash"},
			{"head edited", []string{`UPDATE audit_events SET detail = 'nothing to see' WHERE id = 4`}, 4, "verified before was changed"},
			{"head edited and rehashed", []string{`UPDATE audit_events SET hash = 'x' || hash WHERE id = 4`}, 4, "verified before was changed"},
			{"head and all after it removed", []string{`DELETE FROM audit_events WHERE id >= 4`}, 4, "removed"},
		} {
			t.Run(tt.name, func(t *testing.T) {
				ctx := context.Background()
				d := open(t)
				appendEvents(t, d, 4)
				if st, err := d.CheckAudit(ctx); err != nil || st.Verified != 4 {
					t.Fatalf("first CheckAudit = %+v, %v; want 4 verified", st, err)
				}
				appendEvents(t, d, 3)
				tamper(t, d, tt.tamper...)
				_, err := d.CheckAudit(ctx)
				var ce *db.ChainError
				if !errors.As(err, &ce) || ce.ID != tt.wantBad || !strings.Contains(ce.Reason, tt.wantWhy) {
					t.Fatalf("CheckAudit: %v; want event %d: %q", err, tt.wantBad, tt.wantWhy)
				}
				// A break stays reported, even once the rows after it are
				// fine again.
				appendEvents(t, d, 1)
				if _, again := d.CheckAudit(ctx); !errors.As(again, &ce) || ce.ID != tt.wantBad {
					t.Errorf("CheckAudit after the break = %v, want event %d again", again, tt.wantBad)
				}
			})
		}
	})
}

// TestOldTamperingTakesAFullCheck documents the trade-off: an event older
// than the head is not re-read by CheckAudit, so its edit shows only at
// the next full check, which CheckAudit then keeps reporting.
func TestOldTamperingTakesAFullCheck(t *testing.T) {
	ctx := context.Background()
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		appendEvents(t, d, 5)
		if _, err := d.CheckAudit(ctx); err != nil {
			t.Fatal(err)
		}
		tamper(t, d, `UPDATE audit_events SET detail = 'nothing to see' WHERE id = 2`)
		appendEvents(t, d, 2)
		if st, err := d.CheckAudit(ctx); err != nil || st.Verified != 7 {
			t.Fatalf("CheckAudit = %+v, %v; want 7 verified: old events are not re-read", st, err)
		}
		n, err := d.VerifyAudit(ctx)
		var ce *db.ChainError
		if !errors.As(err, &ce) || ce.ID != 2 || n != 1 {
			t.Fatalf("VerifyAudit = %d, %v; want 1 verified, then event 2", n, err)
		}
		if _, err := d.CheckAudit(ctx); !errors.As(err, &ce) || ce.ID != 2 {
			t.Errorf("CheckAudit after the full check = %v, want event 2", err)
		}
	})
}

// TestCheckAuditStatus: the first check is a full one; later ones add
// what was appended since, and a new full check becomes the base.
func TestCheckAuditStatus(t *testing.T) {
	ctx := context.Background()
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		before := time.Now()
		st, err := d.CheckAudit(ctx)
		if err != nil || st.Verified != 0 || st.FullN != 0 || st.FullAt.Before(before) {
			t.Fatalf("CheckAudit of an empty log = %+v, %v; want a full check of nothing", st, err)
		}
		fullAt := st.FullAt
		appendEvents(t, d, 3)
		st, err = d.CheckAudit(ctx)
		if want := (db.ChainStatus{Verified: 3, FullAt: fullAt, FullN: 0, Newer: 3}); err != nil || st != want {
			t.Errorf("CheckAudit after 3 appends = %+v, %v; want %+v", st, err, want)
		}
		if n, err := d.VerifyAudit(ctx); err != nil || n != 3 {
			t.Fatalf("VerifyAudit = %d, %v", n, err)
		}
		appendEvents(t, d, 2)
		st, err = d.CheckAudit(ctx)
		if err != nil || st.Verified != 5 || st.FullN != 3 || st.Newer != 2 || !st.FullAt.After(fullAt) {
			t.Errorf("CheckAudit after a full check and 2 appends = %+v, %v; want 5 verified, 3 in full after %s, 2 since", st, err, fullAt)
		}
	})
}

// TestFirstCheckIsFull: a process's first CheckAudit has no head to start
// from, so it verifies the whole log and finds an old break at once.
func TestFirstCheckIsFull(t *testing.T) {
	ctx := context.Background()
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		appendEvents(t, d, 4)
		tamper(t, d, `UPDATE audit_events SET action = 'login.failed' WHERE id = 1`)
		_, err := d.CheckAudit(ctx)
		var ce *db.ChainError
		if !errors.As(err, &ce) || ce.ID != 1 {
			t.Errorf("first CheckAudit = %v, want event 1", err)
		}
	})
}

// TestRepairedChainVerifiesAgain: a full check that reads the log after
// the break was found, and finds it whole again, clears the break.
func TestRepairedChainVerifiesAgain(t *testing.T) {
	ctx := context.Background()
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		appendEvents(t, d, 3)
		if _, err := d.CheckAudit(ctx); err != nil {
			t.Fatal(err)
		}
		tamper(t, d, `UPDATE audit_events SET detail = detail || '!' WHERE id = 3`)
		if _, err := d.CheckAudit(ctx); err == nil {
			t.Fatal("CheckAudit missed the edited head")
		}
		tamper(t, d, `UPDATE audit_events SET detail = substr(detail, 1, length(detail) - 1) WHERE id = 3`)
		if _, err := d.CheckAudit(ctx); err == nil {
			t.Fatal("CheckAudit forgot the break before a full check")
		}
		if n, err := d.VerifyAudit(ctx); err != nil || n != 3 {
			t.Fatalf("VerifyAudit of the repaired log = %d, %v", n, err)
		}
		if st, err := d.CheckAudit(ctx); err != nil || st.Verified != 3 {
			t.Errorf("CheckAudit after the repair = %+v, %v; want 3 verified", st, err)
		}
	})
}

// TestConcurrentChecksAndAppends: checks running beside appends and a full
// check never see a sound chain as broken, and end up covering every event.
func TestConcurrentChecksAndAppends(t *testing.T) {
	ctx := context.Background()
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		done := make(chan error, 3)
		go func() {
			for range 30 {
				if _, err := d.AppendAudit(ctx, db.AuditEvent{Action: "login.ok", Detail: "x"}); err != nil {
					done <- err
					return
				}
			}
			done <- nil
		}()
		for range 2 {
			go func() {
				for range 20 {
					if _, err := d.CheckAudit(ctx); err != nil {
						done <- err
						return
					}
					if _, err := d.VerifyAudit(ctx); err != nil {
						done <- err
						return
					}
				}
				done <- nil
			}()
		}
		for range 3 {
			if err := <-done; err != nil {
				t.Fatal(err)
			}
		}
		if st, err := d.CheckAudit(ctx); err != nil || st.Verified != 30 {
			t.Errorf("final CheckAudit = %+v, %v; want 30 verified", st, err)
		}
	})
}

// TestPeriodicFullCheckFindsOldTampering: an edit of an event older than
// CheckAudit's head is found by the next full check (serve runs one every
// hour) and from then on reaches the page through CheckAudit.
func TestPeriodicFullCheckFindsOldTampering(t *testing.T) {
	ctx := context.Background()
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		appendEvents(t, d, 5)
		if _, err := d.CheckAudit(ctx); err != nil {
			t.Fatal(err)
		}
		tamper(t, d, `UPDATE audit_events SET detail = 'nothing to see' WHERE id = 2`)
		var ce *db.ChainError
		if _, err := d.VerifyAudit(ctx); !errors.As(err, &ce) || ce.ID != 2 {
			t.Fatalf("full check = %v, want event 2", err)
		}
		if _, err := d.CheckAudit(ctx); !errors.As(err, &ce) || ce.ID != 2 {
			t.Errorf("CheckAudit after the full check = %v, want event 2", err)
		}
	})
}

// A full check anchors the chain: the next CheckAudit (the first view of
// the audit page after serve's first check) has only what is new to read.
func TestFirstPeriodicCheckAnchorsTheChain(t *testing.T) {
	ctx := context.Background()
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		appendEvents(t, d, 5)
		if st := d.ChainChecked(); !st.FullAt.IsZero() || st.Verified != 0 {
			t.Fatalf("before any check: %+v", st)
		}
		if _, err := d.VerifyAudit(ctx); err != nil {
			t.Fatal(err)
		}
		if st := d.ChainChecked(); st.FullAt.IsZero() || st.FullN != 5 || st.Verified != 5 {
			t.Errorf("after the first full check: %+v, want 5 events verified", st)
		}
		appendEvents(t, d, 2)
		if st, err := d.CheckAudit(ctx); err != nil || st.FullN != 5 || st.Newer != 2 {
			t.Errorf("CheckAudit after it = %+v, %v; want the 5 of the full check and 2 newer", st, err)
		}
	})
}
