package change_test

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"portpanel/auth"
	"portpanel/change"
	"portpanel/db"
	"portpanel/sysctl"
	"portpanel/sysctl/sysctltest"
)

const approvalOriginal = "# ports\nnet.ipv4.ip_local_port_range = 32768 60999\n"

var approvalTarget = sysctl.Range{Low: 40000, High: 50001}

// propose makes proposer's proposal of approvalTarget on a service that
// requires approval, and checks that it changed nothing.
func propose(t *testing.T, f fixture) db.Change {
	t.Helper()
	f.svc.RequireApproval = true
	was := f.state(t)
	c, err := f.svc.Apply(context.Background(), change.Request{
		Low: approvalTarget.Low, High: approvalTarget.High, Reason: "more ports for the proxy", Actor: proposer})
	if err != nil {
		t.Fatal(err)
	}
	if c.Status != db.StatusProposed || c.DecidedBy != "" {
		t.Fatalf("Apply with approval required gave %+v, want a proposal", c)
	}
	if now := f.state(t); now.kernel != was.kernel || now.content != was.content || now.exists != was.exists {
		t.Fatalf("proposing changed kernel or file: %+v", now)
	}
	return c
}

func TestApprovalProposesThenAnotherUserApplies(t *testing.T) {
	if !sysctltest.InNetns(t) {
		return
	}
	ctx := context.Background()
	f := newFixture(t, ptr(approvalOriginal))
	p := propose(t, f)
	ev := lastEvent(t, f.svc.DB, "change.proposed")
	if ev.ChangeID == nil || *ev.ChangeID != p.ID || !strings.Contains(ev.Detail, p.Diff) || p.Diff == "" ||
		!strings.Contains(ev.Detail, "+"+strings.TrimSuffix(rangeLine(approvalTarget), "\n")) {
		t.Errorf("change.proposed = %+v, want the diff of change #%d:\n%s", ev, p.ID, p.Diff)
	}

	was := f.state(t)
	_, err := f.svc.Approve(ctx, p.ID, change.Actor{ID: proposer.ID, Name: proposer.Name, Role: auth.RoleApprover}, "mine")
	if !errors.Is(err, change.ErrForbidden) {
		t.Fatalf("approving one's own proposal: err = %v, want ErrForbidden", err)
	}
	f.assertUnchanged(t, was)

	c, err := f.svc.Approve(ctx, p.ID, approver, "  looks right  ")
	if err != nil {
		t.Fatal(err)
	}
	if c.Status != db.StatusApplied || c.DecidedBy != approver.Name || c.DecidedAt == nil ||
		c.DecisionReason != "looks right" || c.User != proposer.Name {
		t.Errorf("approved change = %+v", c)
	}
	if got := f.kernel(t); got != approvalTarget {
		t.Errorf("kernel = %v, want %v", got, approvalTarget)
	}
	if content, _ := readFile(t, f.file); content != "# ports\n"+rangeLine(approvalTarget) {
		t.Errorf("file = %q", content)
	}
	if got := mustChange(t, f.svc.DB, p.ID); got.Status != db.StatusApplied || got.DecidedBy != approver.Name {
		t.Errorf("stored change = %+v", got)
	}
	want := []string{"change.proposed", "change.approved", "change.applying", "change.applied"}
	if got := auditActions(t, f.svc.DB); !slices.Equal(got, want) {
		t.Errorf("audit = %v, want %v", got, want)
	}
	for _, e := range auditEvents(t, f.svc.DB) {
		if e.ChangeID == nil || *e.ChangeID != p.ID {
			t.Errorf("audit %s is about change %v, want #%d", e.Action, e.ChangeID, p.ID)
		}
	}
	if ev := lastEvent(t, f.svc.DB, "change.approved"); ev.User != approver.Name || !strings.Contains(ev.Detail, "looks right") {
		t.Errorf("change.approved = %+v", ev)
	}
	if _, err := f.svc.Approve(ctx, p.ID, approver2, ""); !errors.Is(err, change.ErrConflict) {
		t.Errorf("approving an applied change: err = %v, want ErrConflict", err)
	}
}

func TestRejectNeedsAReasonAndChangesNothing(t *testing.T) {
	if !sysctltest.InNetns(t) {
		return
	}
	for _, tt := range []struct {
		name string
		who  change.Actor
	}{
		{"by an approver", approver},
		{"withdrawn by its author", proposer},
	} {
		t.Run(tt.name, func(t *testing.T) {
			ctx := context.Background()
			f := newFixture(t, ptr(approvalOriginal))
			f.setKernel(t, defaultRange)
			p := propose(t, f)

			was := f.state(t)
			var invalid *change.InvalidError
			if _, err := f.svc.Reject(ctx, p.ID, tt.who, " \t "); !errors.As(err, &invalid) || invalid.Field != "reason" {
				t.Fatalf("reject without reason: err = %v, want an InvalidError on reason", err)
			}
			f.assertUnchanged(t, was)

			c, err := f.svc.Reject(ctx, p.ID, tt.who, "not during the freeze")
			if err != nil {
				t.Fatal(err)
			}
			if c.Status != db.StatusRejected || c.DecisionReason != "not during the freeze" || c.DecidedBy != tt.who.Name || c.DecidedAt == nil {
				t.Errorf("rejected change = %+v", c)
			}
			if got := f.kernel(t); got != defaultRange {
				t.Errorf("kernel = %v", got)
			}
			if content, _ := readFile(t, f.file); content != approvalOriginal {
				t.Errorf("file = %q", content)
			}
			if ev := lastEvent(t, f.svc.DB, "change.rejected"); !strings.Contains(ev.Detail, "not during the freeze") {
				t.Errorf("change.rejected = %+v", ev)
			}

			was = f.state(t)
			if _, err := f.svc.Approve(ctx, p.ID, approver2, ""); !errors.Is(err, change.ErrConflict) {
				t.Errorf("approving a rejected change: err = %v, want ErrConflict", err)
			}
			if _, err := f.svc.Reject(ctx, p.ID, approver2, "again"); !errors.Is(err, change.ErrConflict) {
				t.Errorf("rejecting a rejected change: err = %v, want ErrConflict", err)
			}
			f.assertUnchanged(t, was)
		})
	}
}

func TestConcurrentApprovalsApplyOnce(t *testing.T) {
	if !sysctltest.InNetns(t) {
		return
	}
	ctx := context.Background()
	f := newFixture(t, ptr(approvalOriginal))
	p := propose(t, f)

	approvers := []change.Actor{approver, approver2, admin}
	type result struct {
		who change.Actor
		c   db.Change
		err error
	}
	results := make(chan result, len(approvers))
	start := make(chan struct{})
	for _, a := range approvers {
		go func() {
			<-start
			c, err := f.svc.Approve(ctx, p.ID, a, "go")
			results <- result{a, c, err}
		}()
	}
	close(start)
	var winners []result
	for range approvers {
		select {
		case r := <-results:
			switch {
			case r.err == nil:
				winners = append(winners, r)
			case !errors.Is(r.err, change.ErrConflict):
				t.Errorf("%s: err = %v, want success or ErrConflict", r.who.Name, r.err)
			}
		case <-time.After(time.Minute):
			t.Fatal("an approval never returned")
		}
	}
	if len(winners) != 1 {
		t.Fatalf("%d approvals succeeded, want exactly 1", len(winners))
	}
	stored := mustChange(t, f.svc.DB, p.ID)
	if stored.Status != db.StatusApplied || stored.DecidedBy != winners[0].who.Name {
		t.Errorf("stored = %s decided by %q, winner %s", stored.Status, stored.DecidedBy, winners[0].who.Name)
	}
	if got := f.kernel(t); got != approvalTarget {
		t.Errorf("kernel = %v, want %v", got, approvalTarget)
	}
	if content, _ := readFile(t, f.file); content != "# ports\n"+rangeLine(approvalTarget) {
		t.Errorf("file = %q", content)
	}
	want := []string{"change.proposed", "change.approved", "change.applying", "change.applied"}
	if got := auditActions(t, f.svc.DB); !slices.Equal(got, want) {
		t.Errorf("audit = %v, want %v", got, want)
	}
}

func TestApprovalRevalidatesAgainstTodaysKernel(t *testing.T) {
	if !sysctltest.InNetns(t) {
		return
	}
	ctx := context.Background()
	f := newFixture(t, ptr("# ports\n"))
	f.setKernel(t, sysctl.Range{Low: 45000, High: 60999})
	p := propose(t, f)
	// After the proposal, privileged ports were raised above its low end
	// (the kernel allows it: its own low end is 45000).
	writeUnprivPortStart(t, "45000")

	was := f.state(t)
	_, err := f.svc.Approve(ctx, p.ID, approver, "")
	if !isInvalid(err) {
		t.Fatalf("err = %v, want a validation error", err)
	}
	if !strings.Contains(err.Error(), "45000") {
		t.Errorf("error %q does not name ip_unprivileged_port_start's value", err)
	}
	f.assertUnchanged(t, was)
}

func TestApprovalOfUneditableFileFailsAtOnce(t *testing.T) {
	if !sysctltest.InNetns(t) {
		return
	}
	// A file portpanel refuses to edit: Apply without approval records a
	// failed change and touches nothing. A proposal of it could only fail
	// when approved, so Apply must refuse it in the same way.
	ctx := context.Background()
	f := newFixture(t, ptr("binary\x00junk\n"))
	f.svc.RequireApproval = true
	c, err := f.svc.Apply(ctx, change.Request{Low: 40000, High: 50001, Reason: "r", Actor: proposer})
	var failed *change.FailedError
	if !errors.As(err, &failed) || c.Status == db.StatusProposed {
		t.Errorf("Apply = status %q, err %v; want a failed change, not a proposal (error %q)", c.Status, err, c.Error)
	}
	if got := f.kernel(t); got != defaultRange {
		t.Errorf("kernel = %v", got)
	}
}
