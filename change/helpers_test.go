package change_test

import (
	"context"
	"errors"
	"os"
	"slices"
	"testing"
	"time"

	"portpanel/auth"
	"portpanel/change"
	"portpanel/db"
	"portpanel/internal/testclock"
	"portpanel/sysctl"
)

// The people of the approval tests: an operator who proposes, and two
// approvers and an admin who may decide on others' proposals.
var (
	proposer  = change.Actor{ID: 1, Name: "olga", Role: auth.RoleOperator}
	approver  = change.Actor{ID: 2, Name: "anna", Role: auth.RoleApprover}
	approver2 = change.Actor{ID: 3, Name: "bert", Role: auth.RoleApprover}
	admin     = change.Actor{ID: 4, Name: "root", Role: auth.RoleAdmin}
)

// defaultRange is the kernel default, which a fresh network namespace has.
var defaultRange = sysctl.Range{Low: 32768, High: 60999}

// newClock is a controllable Service.Now: deadlines pass when the test
// says, without sleeping. It starts on a whole millisecond, the precision
// the database keeps, so stored times compare equal.
func newClock() *testclock.Clock { return testclock.New(time.Date(2031, 3, 4, 5, 6, 7, 0, time.UTC)) }

// state is everything a change can touch: kernel, file, database.
type state struct {
	kernel     sysctl.Range
	content    string
	exists     bool
	changes    []db.Change
	auditCount int
}

func (f fixture) state(t *testing.T) state {
	t.Helper()
	ctx := context.Background()
	s := state{kernel: f.kernel(t)}
	s.content, s.exists = readFile(t, f.file)
	var err error
	if s.changes, err = f.svc.DB.Changes(ctx, 1000, 0); err != nil {
		t.Fatal(err)
	}
	events, err := f.svc.DB.Audit(ctx, 1000, 0)
	if err != nil {
		t.Fatal(err)
	}
	s.auditCount = len(events)
	return s
}

// assertUnchanged fails unless kernel, file and database are as in was,
// statuses included.
func (f fixture) assertUnchanged(t *testing.T, was state) {
	t.Helper()
	now := f.state(t)
	if now.kernel != was.kernel {
		t.Errorf("kernel = %v, want it unchanged at %v", now.kernel, was.kernel)
	}
	if now.content != was.content || now.exists != was.exists {
		t.Errorf("file = %q (exists %v), want it unchanged: %q (exists %v)", now.content, now.exists, was.content, was.exists)
	}
	if len(now.changes) != len(was.changes) {
		t.Errorf("%d changes recorded, want %d", len(now.changes), len(was.changes))
	} else {
		for i := range now.changes {
			if now.changes[i].Status != was.changes[i].Status {
				t.Errorf("change #%d is %s, was %s", now.changes[i].ID, now.changes[i].Status, was.changes[i].Status)
			}
		}
	}
	if now.auditCount != was.auditCount {
		t.Errorf("%d audit events, want %d", now.auditCount, was.auditCount)
	}
}

// auditActions lists the audit log's actions, oldest first.
func auditActions(t *testing.T, d *db.DB) []string {
	t.Helper()
	events := auditEvents(t, d)
	out := make([]string, len(events))
	for i, e := range events {
		out[i] = e.Action
	}
	return out
}

// auditEvents lists the audit log, oldest first, and checks its chain.
func auditEvents(t *testing.T, d *db.DB) []db.AuditEvent {
	t.Helper()
	events, err := d.Audit(context.Background(), 1000, 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := d.VerifyAudit(context.Background()); err != nil {
		t.Errorf("audit chain: %v", err)
	}
	slices.Reverse(events)
	return events
}

// lastEvent is the newest audit event with action.
func lastEvent(t *testing.T, d *db.DB, action string) db.AuditEvent {
	t.Helper()
	events := auditEvents(t, d)
	for i := len(events) - 1; i >= 0; i-- {
		if events[i].Action == action {
			return events[i]
		}
	}
	t.Fatalf("no %q in the audit log %v", action, auditActions(t, d))
	return db.AuditEvent{}
}

func mustChange(t *testing.T, d *db.DB, id int64) db.Change {
	t.Helper()
	c, err := d.Change(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// isInvalid reports whether err is a validation refusal of either layer.
func isInvalid(err error) bool {
	var ce *change.InvalidError
	var se *sysctl.InvalidError
	return errors.As(err, &ce) || errors.As(err, &se)
}

// rangeLine is the line the file editor writes for r.
func rangeLine(r sysctl.Range) string { return "net.ipv4.ip_local_port_range = " + r.String() + "\n" }

func writeUnprivPortStart(t *testing.T, port string) {
	t.Helper()
	if err := os.WriteFile("/proc/sys/net/ipv4/ip_unprivileged_port_start", []byte(port), 0); err != nil {
		t.Fatal(err)
	}
}

func removeFile(t *testing.T, path string) {
	t.Helper()
	if err := os.Remove(path); err != nil {
		t.Fatal(err)
	}
}
