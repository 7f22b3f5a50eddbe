package change_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"portpanel/change"
	"portpanel/db"
	"portpanel/internal/testclock"
	"portpanel/sysctl"
	"portpanel/sysctl/sysctltest"
)

var confirmTarget = sysctl.Range{Low: 40000, High: 50001}

// applyAwaiting applies confirmTarget with a two-minute confirmation
// window on a fixture driven by clk.
func applyAwaiting(t *testing.T, f fixture, clk *testclock.Clock) db.Change {
	t.Helper()
	f.svc.Now = clk.Now
	c, err := f.svc.Apply(context.Background(), change.Request{Low: confirmTarget.Low, High: confirmTarget.High,
		Reason: "try it", Actor: operator, ConfirmWithin: 2 * time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	if c.Status != db.StatusApplied || c.ConfirmBy == nil || !c.ConfirmBy.Equal(clk.Now().Add(2*time.Minute)) {
		t.Fatalf("applied = %s, confirm by %v; want applied, due at %v", c.Status, c.ConfirmBy, clk.Now().Add(2*time.Minute))
	}
	if got := f.kernel(t); got != confirmTarget {
		t.Fatalf("kernel = %v", got)
	}
	return c
}

func awaiting(t *testing.T, d *db.DB) []int64 {
	t.Helper()
	list, err := d.AwaitingConfirmation(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	var ids []int64
	for _, c := range list {
		ids = append(ids, c.ID)
	}
	return ids
}

func TestConfirmKeepsTheChange(t *testing.T) {
	if !sysctltest.InNetns(t) {
		return
	}
	ctx := context.Background()
	clk := newClock()
	f := newFixture(t, ptr("# ports\n"))
	c := applyAwaiting(t, f, clk)
	if ids := awaiting(t, f.svc.DB); len(ids) != 1 || ids[0] != c.ID {
		t.Fatalf("awaiting confirmation = %v, want [%d]", ids, c.ID)
	}

	was := f.state(t)
	_, err := f.svc.Apply(ctx, change.Request{Low: 41000, High: 51001, Reason: "meanwhile", Actor: operator})
	if !errors.Is(err, change.ErrConflict) || !strings.Contains(err.Error(), "awaits confirmation") {
		t.Fatalf("another change meanwhile: err = %v, want ErrConflict saying it awaits confirmation", err)
	}
	f.assertUnchanged(t, was)

	clk.Advance(time.Minute)
	if n, err := f.svc.RevertDue(ctx); n != 0 || err != nil {
		t.Fatalf("RevertDue before the deadline = %d, %v", n, err)
	}
	confirmed, err := f.svc.Confirm(ctx, c.ID, approver)
	if err != nil {
		t.Fatal(err)
	}
	if confirmed.Status != db.StatusConfirmed || confirmed.ConfirmedBy != approver.Name ||
		confirmed.ConfirmedAt == nil || !confirmed.ConfirmedAt.Equal(clk.Now()) {
		t.Errorf("confirmed = %+v", confirmed)
	}
	if ids := awaiting(t, f.svc.DB); len(ids) != 0 {
		t.Errorf("still awaiting confirmation: %v", ids)
	}
	if ev := lastEvent(t, f.svc.DB, "change.confirmed"); ev.User != approver.Name || ev.ChangeID == nil || *ev.ChangeID != c.ID {
		t.Errorf("change.confirmed = %+v", ev)
	}
	if _, err := f.svc.Confirm(ctx, c.ID, approver); !errors.Is(err, change.ErrConflict) {
		t.Errorf("confirming twice: err = %v, want ErrConflict", err)
	}

	clk.Advance(time.Hour)
	was = f.state(t)
	if n, err := f.svc.RevertDue(ctx); n != 0 || err != nil {
		t.Fatalf("RevertDue after confirmation = %d, %v", n, err)
	}
	f.assertUnchanged(t, was)
	if _, err := f.svc.Apply(ctx, change.Request{Low: 41000, High: 51001, Reason: "next", Actor: operator}); err != nil {
		t.Errorf("a change after the confirmation: %v", err)
	}
}

func TestUnconfirmedChangeReverts(t *testing.T) {
	if !sysctltest.InNetns(t) {
		return
	}
	for _, tt := range []struct {
		name     string
		original *string
		restart  bool // RevertDue runs in a new Service, as after a restart
	}{
		{name: "restores the file byte for byte", original: ptr("# ports\r\nnet.ipv4.ip_local_port_range=32768 60999\r\nvm.x = 1")},
		{name: "removes a file the change created"},
		{name: "after a restart", original: ptr("# only a comment\n"), restart: true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			ctx := context.Background()
			clk := newClock()
			f := newFixture(t, tt.original)
			f.setKernel(t, defaultRange)
			orig := applyAwaiting(t, f, clk)

			clk.Advance(2*time.Minute + time.Millisecond)
			if _, err := f.svc.Confirm(ctx, orig.ID, operator); !errors.Is(err, change.ErrConflict) {
				t.Fatalf("Confirm after the deadline: err = %v, want ErrConflict", err)
			}
			svc := f.svc
			if tt.restart {
				svc = &change.Service{Kernel: f.svc.Kernel, Config: f.svc.Config, Reader: f.svc.Reader,
					File: f.svc.File, DB: f.svc.DB, Now: clk.Now}
			}
			if n, err := svc.RevertDue(ctx); n != 1 || err != nil {
				t.Fatalf("RevertDue = %d, %v; want 1", n, err)
			}

			if got := mustChange(t, f.svc.DB, orig.ID); got.Status != db.StatusReverted {
				t.Errorf("original is %s, want reverted", got.Status)
			}
			rbs, err := f.svc.DB.RollbacksOf(ctx, orig.ID)
			if err != nil || len(rbs) != 1 {
				t.Fatalf("rollbacks = %+v, %v", rbs, err)
			}
			rb := rbs[0]
			if rb.Status != db.StatusApplied || rb.User != change.SystemUser || rb.ConfirmBy != nil ||
				rb.Low != defaultRange.Low || rb.High != defaultRange.High {
				t.Errorf("revert = %+v", rb)
			}
			if got := f.kernel(t); got != defaultRange {
				t.Errorf("kernel = %v, want %v", got, defaultRange)
			}
			content, exists := readFile(t, f.file)
			if want := tt.original; (want == nil) == exists || (want != nil && content != *want) {
				t.Errorf("file = %q (exists %v), want %v", content, exists, tt.original)
			}
			if ev := lastEvent(t, f.svc.DB, "change.rolled_back"); ev.User != change.SystemUser ||
				ev.ChangeID == nil || *ev.ChangeID != rb.ID || !strings.Contains(ev.Detail, "Not confirmed") {
				t.Errorf("change.rolled_back = %+v", ev)
			}
			if ids := awaiting(t, f.svc.DB); len(ids) != 0 {
				t.Errorf("still awaiting confirmation: %v", ids)
			}
			clk.Advance(time.Hour)
			if n, err := svc.RevertDue(ctx); n != 0 || err != nil {
				t.Errorf("second RevertDue = %d, %v", n, err)
			}
		})
	}
}

func TestRollbackOfTheAwaitingChange(t *testing.T) {
	if !sysctltest.InNetns(t) {
		return
	}
	ctx := context.Background()
	clk := newClock()
	f := newFixture(t, ptr("# ports\n"))
	orig := applyAwaiting(t, f, clk)

	rb, err := f.svc.Rollback(ctx, orig.ID, "", operator)
	if err != nil {
		t.Fatal(err)
	}
	if rb.Status != db.StatusApplied || rb.RollbackOf == nil || *rb.RollbackOf != orig.ID {
		t.Errorf("rollback = %+v", rb)
	}
	if got := mustChange(t, f.svc.DB, orig.ID); got.Status != db.StatusReverted {
		t.Errorf("original is %s, want reverted", got.Status)
	}
	if ids := awaiting(t, f.svc.DB); len(ids) != 0 {
		t.Errorf("still awaiting confirmation: %v", ids)
	}
	if _, err := f.svc.Confirm(ctx, orig.ID, operator); !errors.Is(err, change.ErrConflict) {
		t.Errorf("confirming a rolled back change: err = %v, want ErrConflict", err)
	}
	clk.Advance(time.Hour)
	was := f.state(t)
	if n, err := f.svc.RevertDue(ctx); n != 0 || err != nil {
		t.Errorf("RevertDue = %d, %v; want nothing to do", n, err)
	}
	f.assertUnchanged(t, was)
	if got := f.kernel(t); got != defaultRange {
		t.Errorf("kernel = %v", got)
	}
	if content, _ := readFile(t, f.file); content != "# ports\n" {
		t.Errorf("file = %q", content)
	}
}
