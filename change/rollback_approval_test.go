package change_test

import (
	"context"
	"errors"
	"os"
	"strings"
	"testing"

	"portpanel/change"
	"portpanel/db"
	"portpanel/sysctl/sysctltest"
)

// appliedUnderApproval is a change of approvalTarget proposed by proposer
// and approved by approver.
func appliedUnderApproval(t *testing.T, f fixture) db.Change {
	t.Helper()
	p := propose(t, f)
	c, err := f.svc.Approve(context.Background(), p.ID, approver, "")
	if err != nil || c.Status != db.StatusApplied {
		t.Fatalf("approve: %v, %v", c.Status, err)
	}
	return c
}

func TestRollbackUnderApproval(t *testing.T) {
	if !sysctltest.InNetns(t) {
		return
	}
	for _, who := range []change.Actor{approver, admin} {
		t.Run("emergency rollback by "+who.Role, func(t *testing.T) {
			ctx := context.Background()
			f := newFixture(t, ptr(approvalOriginal))
			f.setKernel(t, defaultRange)
			orig := appliedUnderApproval(t, f)

			rb, err := f.svc.Rollback(ctx, orig.ID, "it broke the proxy", who)
			if err != nil {
				t.Fatal(err)
			}
			if rb.Status != db.StatusApplied || !rb.Emergency || rb.RollbackOf == nil || *rb.RollbackOf != orig.ID {
				t.Errorf("rollback = %+v, want applied at once as an emergency", rb)
			}
			assertRolledBack(t, f, orig.ID)
			ev := lastEvent(t, f.svc.DB, "change.rolled_back")
			if ev.User != who.Name || !strings.Contains(ev.Detail, "emergency") || !strings.Contains(ev.Detail, "it broke the proxy") {
				t.Errorf("change.rolled_back = %+v, want it to say emergency", ev)
			}
		})
	}

	t.Run("an operator proposes, an approver approves", func(t *testing.T) {
		ctx := context.Background()
		f := newFixture(t, ptr(approvalOriginal))
		f.setKernel(t, defaultRange)
		orig := appliedUnderApproval(t, f)

		was := f.state(t)
		p, err := f.svc.Rollback(ctx, orig.ID, "", proposer)
		if err != nil {
			t.Fatal(err)
		}
		if p.Status != db.StatusProposed || p.Emergency || p.RollbackOf == nil || *p.RollbackOf != orig.ID {
			t.Errorf("operator's rollback = %+v, want a proposal", p)
		}
		if now := f.state(t); now.kernel != was.kernel || now.content != was.content {
			t.Errorf("proposing a rollback changed kernel %v or file %q", now.kernel, now.content)
		}
		if got := mustChange(t, f.svc.DB, orig.ID); got.Status != db.StatusApplied {
			t.Errorf("original is %s, want still applied", got.Status)
		}
		if _, err := f.svc.Approve(ctx, p.ID, proposer, ""); !errors.Is(err, change.ErrForbidden) {
			t.Errorf("approving one's own rollback: err = %v, want ErrForbidden", err)
		}

		rb, err := f.svc.Approve(ctx, p.ID, approver2, "yes, undo it")
		if err != nil {
			t.Fatal(err)
		}
		if rb.Status != db.StatusApplied || rb.Emergency || rb.DecidedBy != approver2.Name {
			t.Errorf("approved rollback = %+v", rb)
		}
		assertRolledBack(t, f, orig.ID)
		if _, err := f.svc.Rollback(ctx, orig.ID, "", approver); !errors.Is(err, change.ErrConflict) {
			t.Errorf("rolling back twice: err = %v, want ErrConflict", err)
		}
	})
}

// assertRolledBack checks that change id is reverted and kernel and file
// are as before it.
func assertRolledBack(t *testing.T, f fixture, id int64) {
	t.Helper()
	if got := mustChange(t, f.svc.DB, id); got.Status != db.StatusReverted {
		t.Errorf("original is %s, want reverted", got.Status)
	}
	if got := f.kernel(t); got != defaultRange {
		t.Errorf("kernel = %v, want %v", got, defaultRange)
	}
	if content, _ := readFile(t, f.file); content != approvalOriginal {
		t.Errorf("file = %q, want %q", content, approvalOriginal)
	}
}

// An operator's rollback of a file portpanel refuses to edit could only
// fail when approved, so it fails at once, as Apply does
// (TestApprovalOfUneditableFileFailsAtOnce): no proposal waits for an
// approver who can do nothing but watch it fail.
func TestOperatorsRollbackOfUneditableFileFailsAtOnce(t *testing.T) {
	if !sysctltest.InNetns(t) {
		return
	}
	ctx := context.Background()
	f := newFixture(t, ptr(approvalOriginal))
	f.setKernel(t, defaultRange)
	orig := appliedUnderApproval(t, f)
	if err := os.WriteFile(f.file, []byte("binary\x00junk\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	kernel := f.kernel(t)

	rb, err := f.svc.Rollback(ctx, orig.ID, "", proposer)
	var failed *change.FailedError
	if !errors.As(err, &failed) || rb.Status != db.StatusFailed {
		t.Fatalf("Rollback = status %q, err %v; want a failed change, not a proposal", rb.Status, err)
	}
	if !strings.Contains(rb.Error, "cannot be edited") {
		t.Errorf("error = %q, want it to say the file cannot be edited", rb.Error)
	}
	if list, err := f.svc.DB.ChangesByStatus(ctx, db.StatusProposed); err != nil || len(list) != 0 {
		t.Errorf("proposals = %v (%v), want none", list, err)
	}
	if got := f.kernel(t); got != kernel {
		t.Errorf("kernel = %v, want it unchanged at %v", got, kernel)
	}
	if got := mustChange(t, f.svc.DB, orig.ID); got.Status != db.StatusApplied {
		t.Errorf("original is %s, want still applied", got.Status)
	}
}
