package change_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"portpanel/change"
	"portpanel/db"
	"portpanel/sysctl"
	"portpanel/sysctl/sysctltest"
)

func TestStaleRequestsAreRefused(t *testing.T) {
	if !sysctltest.InNetns(t) {
		return
	}
	const original = "# ports\nnet.ipv4.ip_local_port_range = 32768 60999\n"
	for _, tt := range []struct {
		name     string
		base     *sysctl.Range
		baseFile func(current string) string
		wantMsg  []string
	}{
		{
			name:    "running range moved",
			base:    &sysctl.Range{Low: 30000, High: 60999},
			wantMsg: []string{"32768–60999", "30000–60999"},
		},
		{
			name:     "file edited since it was reviewed",
			base:     &defaultRange,
			baseFile: func(string) string { return sysctl.FileHash([]byte(original + "# someone else\n")) },
			wantMsg:  []string{"changed since you reviewed"},
		},
		{
			name:     "file reviewed as absent",
			baseFile: func(string) string { return "absent" },
			wantMsg:  []string{"changed since you reviewed"},
		},
	} {
		t.Run(tt.name, func(t *testing.T) {
			ctx := context.Background()
			f := newFixture(t, ptr(original))
			f.setKernel(t, defaultRange)
			req := change.Request{Low: 40000, High: 50001, Reason: "stale", Actor: operator, Base: tt.base}
			if tt.baseFile != nil {
				req.BaseFile = tt.baseFile(original)
			}
			was := f.state(t)
			for _, approval := range []bool{false, true} {
				f.svc.RequireApproval = approval
				_, err := f.svc.Apply(ctx, req)
				if !errors.Is(err, change.ErrConflict) {
					t.Fatalf("Apply (approval %v): err = %v, want ErrConflict", approval, err)
				}
				for _, m := range tt.wantMsg {
					if !strings.Contains(err.Error(), m) {
						t.Errorf("error %q does not say %q", err, m)
					}
				}
				if _, err := f.svc.Preview(ctx, req); !errors.Is(err, change.ErrConflict) {
					t.Errorf("Preview: err = %v, want ErrConflict", err)
				}
				f.assertUnchanged(t, was)
			}
		})
	}
}

func TestProposalWhoseBasisMovedIsNotApproved(t *testing.T) {
	if !sysctltest.InNetns(t) {
		return
	}
	for _, tt := range []struct {
		name    string
		move    func(t *testing.T, f fixture)
		restore func(t *testing.T, f fixture)
	}{
		{
			name:    "kernel changed by hand",
			move:    func(t *testing.T, f fixture) { f.setKernel(t, sysctl.Range{Low: 33000, High: 61001}) },
			restore: func(t *testing.T, f fixture) { f.setKernel(t, defaultRange) },
		},
		{
			name:    "file edited by hand",
			move:    func(t *testing.T, f fixture) { mustWrite(t, f.file, approvalOriginal+"# edited by hand\n") },
			restore: func(t *testing.T, f fixture) { mustWrite(t, f.file, approvalOriginal) },
		},
		{
			name:    "file removed by hand",
			move:    func(t *testing.T, f fixture) { removeFile(t, f.file) },
			restore: func(t *testing.T, f fixture) { mustWrite(t, f.file, approvalOriginal) },
		},
	} {
		t.Run(tt.name, func(t *testing.T) {
			ctx := context.Background()
			f := newFixture(t, ptr(approvalOriginal))
			f.setKernel(t, defaultRange)
			p := propose(t, f)
			tt.move(t, f)

			was := f.state(t)
			if _, err := f.svc.Approve(ctx, p.ID, approver, ""); !errors.Is(err, change.ErrConflict) {
				t.Fatalf("err = %v, want ErrConflict", err)
			}
			f.assertUnchanged(t, was)
			if got := mustChange(t, f.svc.DB, p.ID); got.Status != db.StatusProposed || got.DecidedBy != "" {
				t.Errorf("proposal = %s decided by %q, want still proposed", got.Status, got.DecidedBy)
			}

			// Put back as it was, the proposal is current again.
			tt.restore(t, f)
			if c, err := f.svc.Approve(ctx, p.ID, approver, ""); err != nil || c.Status != db.StatusApplied {
				t.Fatalf("approve after restoring: %v, %v", c.Status, err)
			}
			if got := f.kernel(t); got != approvalTarget {
				t.Errorf("kernel = %v", got)
			}
		})
	}
}

func TestParallelAppliesOnTheSameBaseOneWins(t *testing.T) {
	if !sysctltest.InNetns(t) {
		return
	}
	ctx := context.Background()
	const original = "# ports\n"
	f := newFixture(t, ptr(original))
	p, err := f.svc.Preview(ctx, change.Request{Low: 40000, High: 50001, Reason: "r", Actor: operator})
	if err != nil {
		t.Fatal(err)
	}
	targets := []sysctl.Range{{Low: 40000, High: 50001}, {Low: 41000, High: 51001}, {Low: 42000, High: 52001}}
	type result struct {
		target sysctl.Range
		c      db.Change
		err    error
	}
	results := make(chan result, len(targets))
	start := make(chan struct{})
	for _, r := range targets {
		go func() {
			<-start
			c, err := f.svc.Apply(ctx, change.Request{Low: r.Low, High: r.High, Reason: "race", Actor: operator,
				Base: &p.Before, BaseFile: p.FileState})
			results <- result{r, c, err}
		}()
	}
	close(start)
	var winners []result
	for range targets {
		select {
		case r := <-results:
			switch {
			case r.err == nil:
				winners = append(winners, r)
			case !errors.Is(r.err, change.ErrConflict):
				t.Errorf("%v: err = %v, want success or ErrConflict", r.target, r.err)
			}
		case <-time.After(time.Minute):
			t.Fatal("an Apply never returned")
		}
	}
	if len(winners) != 1 {
		t.Fatalf("%d applies succeeded, want exactly 1", len(winners))
	}
	w := winners[0]
	if got := f.kernel(t); got != w.target {
		t.Errorf("kernel = %v, winner %v", got, w.target)
	}
	if content, _ := readFile(t, f.file); content != original+rangeLine(w.target) {
		t.Errorf("file = %q, winner %v", content, w.target)
	}
	list, err := f.svc.DB.Changes(ctx, 10, 0)
	if err != nil || len(list) != 1 || list[0].ID != w.c.ID || list[0].Status != db.StatusApplied {
		t.Errorf("changes = %+v, %v; want only the winner, applied", list, err)
	}
}
