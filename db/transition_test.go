package db_test

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"sync"
	"testing"
	"time"

	"portpanel/db"
	"portpanel/db/dbtest"
)

// record stores a change in status.
func record(t *testing.T, d *db.DB, status string) db.Change {
	t.Helper()
	c := change(20000, 60999)
	c.Status = status
	c, _, err := d.RecordChange(context.Background(), c, db.AuditEvent{Action: "change." + status}, nil)
	if err != nil {
		t.Fatalf("record %s change: %v", status, err)
	}
	return c
}

func TestTransitionWritesChangeEventAndSample(t *testing.T) {
	ctx := context.Background()
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		p := record(t, d, db.StatusProposed)
		decided := time.Date(2026, 5, 2, 9, 0, 0, 0, time.UTC)
		next := p
		next.Status, next.DecidedBy, next.DecidedAt, next.DecisionReason = db.StatusApproved, "bob", &decided, "ok"
		next.Reason, next.User = "rewritten", "mallory" // fixed at creation: must not be written
		next.UpdatedAt = time.Time{}                    // now
		before := time.Now().Add(-time.Millisecond)

		got, err := d.Transition(ctx, []db.Transition{{From: db.StatusProposed, Change: next}},
			[]db.AuditEvent{{User: "bob", Action: "change.approved"}},
			&db.Sample{Low: 1, High: 2, Source: db.SourceChange})
		if err != nil {
			t.Fatalf("Transition: %v", err)
		}
		if len(got) != 1 {
			t.Fatalf("Transition returned %d changes, want 1", len(got))
		}
		want := p
		want.Status, want.DecidedBy, want.DecidedAt, want.DecisionReason = db.StatusApproved, "bob", &decided, "ok"
		want.UpdatedAt = got[0].UpdatedAt
		if !reflect.DeepEqual(got[0], want) {
			t.Errorf("Transition returned\n%+v\nwant\n%+v", got[0], want)
		}
		if got[0].UpdatedAt.Before(before) || time.Since(got[0].UpdatedAt) > time.Minute {
			t.Errorf("UpdatedAt = %v, want now", got[0].UpdatedAt)
		}
		if read, err := d.Change(ctx, p.ID); err != nil || !reflect.DeepEqual(read, got[0]) {
			t.Errorf("read back %+v, %v; want what Transition returned", read, err)
		}
		events, err := d.Audit(ctx, 1, 0)
		if err != nil || len(events) != 1 || events[0].ChangeID == nil || *events[0].ChangeID != p.ID {
			t.Errorf("latest audit event %+v, %v; want change.approved for change %d", events, err, p.ID)
		}
		if s, err := d.LatestSample(ctx); err != nil || s.Low != 1 || s.High != 2 {
			t.Errorf("LatestSample = %+v, %v; want the sample passed", s, err)
		}
		if n, err := d.VerifyAudit(ctx); err != nil || n != 2 {
			t.Errorf("VerifyAudit = %d, %v; want 2, nil", n, err)
		}
	})
}

// A rollback moves two changes at once: itself to applied and the change it
// reverts to reverted.
func TestTransitionSeveralChanges(t *testing.T) {
	ctx := context.Background()
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		orig, rb := record(t, d, db.StatusApplied), record(t, d, db.StatusApplying)
		at := time.Date(2026, 5, 2, 9, 0, 0, 5_000_000, time.UTC)
		done, reverted := rb, orig
		done.Status, done.UpdatedAt = db.StatusApplied, at
		reverted.Status, reverted.UpdatedAt = db.StatusReverted, at
		got, err := d.Transition(ctx, []db.Transition{
			{From: db.StatusApplying, Change: done},
			{From: db.StatusApplied, Change: reverted},
		}, []db.AuditEvent{{Action: "change.rolled_back"}, {Action: "change.reverted", ChangeID: &orig.ID}}, nil)
		if err != nil {
			t.Fatalf("Transition: %v", err)
		}
		if len(got) != 2 || got[0].ID != rb.ID || got[0].Status != db.StatusApplied ||
			got[1].ID != orig.ID || got[1].Status != db.StatusReverted {
			t.Fatalf("Transition returned %+v; want change %d applied, then %d reverted", got, rb.ID, orig.ID)
		}
		for _, c := range got {
			if !c.UpdatedAt.Equal(at) {
				t.Errorf("change %d UpdatedAt = %v, want the given %v", c.ID, c.UpdatedAt, at)
			}
		}
		events, err := d.Audit(ctx, 2, 0)
		if err != nil {
			t.Fatalf("Audit: %v", err)
		}
		gotIDs := ids(events, func(e db.AuditEvent) int64 { return *e.ChangeID })
		if want := []int64{orig.ID, rb.ID}; !equal(gotIDs, want) { // newest first
			t.Errorf("audit change ids %v, want %v: nil means the first transition's change", gotIDs, want)
		}
	})
}

// TestTransitionConflictWritesNothing: a change that moved on fails the whole
// transaction, including transitions and events before it.
func TestTransitionConflictWritesNothing(t *testing.T) {
	dbtest.EachStore(t, func(t *testing.T, open func(testing.TB) *db.DB) {
		ctx := context.Background()
		tests := []struct {
			name     string
			statuses []string // of the changes, one transition each, all from proposed
			wantMsg  string   // %d is the id of the change that moved on
		}{
			{name: "the change moved on", statuses: []string{db.StatusApplied},
				wantMsg: "change %d is applied, not proposed"},
			{name: "a later change moved on", statuses: []string{db.StatusProposed, db.StatusRejected},
				wantMsg: "change %d is rejected, not proposed"},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				d := open(t)
				var ts []db.Transition
				for _, s := range tt.statuses {
					c := record(t, d, s)
					c.Status = db.StatusApproved
					ts = append(ts, db.Transition{From: db.StatusProposed, Change: c})
				}
				_, err := d.Transition(ctx, ts, []db.AuditEvent{{Action: "change.approved"}},
					&db.Sample{Low: 1, High: 2, Source: db.SourceChange})
				if !errors.Is(err, db.ErrConflict) {
					t.Fatalf("Transition error = %v, want ErrConflict", err)
				}
				moved := ts[len(ts)-1].Change.ID
				var se *db.StatusConflictError
				if !errors.As(err, &se) || err.Error() != fmt.Sprintf(tt.wantMsg, moved) {
					t.Errorf("error %q (%T), want a *StatusConflictError saying %q", err, err, fmt.Sprintf(tt.wantMsg, moved))
				}
				for i, s := range tt.statuses {
					if c, err := d.Change(ctx, ts[i].Change.ID); err != nil || c.Status != s {
						t.Errorf("change %d is %q (%v) after the conflict, want still %s", ts[i].Change.ID, c.Status, err, s)
					}
				}
				if n := countRows(t, d, "audit_events"); n != len(tt.statuses) {
					t.Errorf("%d audit events, want only the %d from recording", n, len(tt.statuses))
				}
				if n := countRows(t, d, "samples"); n != 0 {
					t.Errorf("%d samples, want 0", n)
				}
			})
		}
	})
}

func TestTransitionRefuses(t *testing.T) {
	ctx := context.Background()
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		p := record(t, d, db.StatusProposed)
		approved := p
		approved.Status = db.StatusApproved
		missing := approved
		missing.ID = 999
		bogus := approved
		bogus.Status = "maybe"
		ok := []db.AuditEvent{{Action: "change.approved"}}
		tests := []struct {
			name     string
			ts       []db.Transition
			events   []db.AuditEvent
			notFound bool
		}{
			{name: "no transitions", events: ok},
			{name: "missing change", ts: []db.Transition{{From: db.StatusProposed, Change: missing}}, events: ok, notFound: true},
			{name: "unknown new status", ts: []db.Transition{{From: db.StatusProposed, Change: bogus}}, events: ok},
			{name: "unknown old status", ts: []db.Transition{{From: "maybe", Change: approved}}, events: ok},
			{name: "event the audit log refuses undoes the update",
				ts: []db.Transition{{From: db.StatusProposed, Change: approved}}, events: []db.AuditEvent{{Action: ""}}},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				_, err := d.Transition(ctx, tt.ts, tt.events, nil)
				if err == nil || errors.Is(err, db.ErrConflict) || errors.Is(err, db.ErrNotFound) != tt.notFound {
					t.Fatalf("Transition error = %v; want an error, not a conflict, ErrNotFound %v", err, tt.notFound)
				}
				if c, err := d.Change(ctx, p.ID); err != nil || c.Status != db.StatusProposed {
					t.Errorf("change %d is %q (%v), want still proposed", p.ID, c.Status, err)
				}
			})
		}
	})
}

// TestTransitionRace: of eight requests approving the same proposal at
// once, exactly one wins.
func TestTransitionRace(t *testing.T) {
	ctx := context.Background()
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		p := record(t, d, db.StatusProposed)
		const n = 8
		start := make(chan struct{})
		errs := make([]error, n)
		var wg sync.WaitGroup
		for i := range n {
			wg.Go(func() {
				c := p
				c.Status, c.DecidedBy = db.StatusApproved, fmt.Sprintf("approver%d", i)
				<-start
				_, errs[i] = d.Transition(ctx, []db.Transition{{From: db.StatusProposed, Change: c}},
					[]db.AuditEvent{{User: c.DecidedBy, Action: "change.approved"}}, nil)
			})
		}
		close(start)
		wg.Wait()
		winner := -1
		for i, err := range errs {
			switch {
			case err == nil && winner >= 0:
				t.Errorf("approver%d and approver%d both succeeded", winner, i)
			case err == nil:
				winner = i
			case !errors.Is(err, db.ErrConflict):
				t.Errorf("approver%d: error %v, want ErrConflict", i, err)
			}
		}
		if winner < 0 {
			t.Fatal("no Transition succeeded")
		}
		if c, err := d.Change(ctx, p.ID); err != nil || c.DecidedBy != fmt.Sprintf("approver%d", winner) {
			t.Errorf("stored DecidedBy %q (%v), want the winner approver%d", c.DecidedBy, err, winner)
		}
		if n := countRows(t, d, "audit_events"); n != 2 {
			t.Errorf("%d audit events, want 2 (recorded, approved once)", n)
		}
	})
}
