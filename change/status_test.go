package change_test

import (
	"context"
	"os"
	"testing"
	"time"

	"portpanel/change"
	"portpanel/sysctl"
	"portpanel/sysctl/sysctltest"
)

// Status shows portpanel's own changes (apply, rollback) and a sysctl -w
// at once, and a hand edit of a file once ReportMaxAge has passed.
func TestStatusAfterChanges(t *testing.T) {
	if !sysctltest.InNetns(t) {
		return
	}
	ctx := context.Background()
	f := newFixture(t, ptr("# managed by hand\n"))
	status := func() change.Status {
		t.Helper()
		st, err := f.svc.Status(ctx)
		if err != nil {
			t.Fatal(err)
		}
		return st
	}
	boot := func() sysctl.Range { t.Helper(); return status().BootRange }
	running := func() sysctl.Range { t.Helper(); return status().Kernel.Range }
	if got := boot(); got != change.KernelDefault {
		t.Fatalf("boot before any change = %v, want the kernel default %v", got, change.KernelDefault)
	}
	c, err := f.svc.Apply(ctx, change.Request{Low: 40000, High: 50001, Reason: "more ports", Actor: operator})
	if err != nil {
		t.Fatal(err)
	}
	if got, want := boot(), (sysctl.Range{Low: 40000, High: 50001}); got != want {
		t.Errorf("boot right after apply = %v, want %v", got, want)
	}
	if got, want := running(), (sysctl.Range{Low: 40000, High: 50001}); got != want {
		t.Errorf("running range right after apply = %v, want %v", got, want)
	}
	if _, err := f.svc.Rollback(ctx, c.ID, "back", approver); err != nil {
		t.Fatal(err)
	}
	if got := boot(); got != change.KernelDefault {
		t.Errorf("boot right after rollback = %v, want %v", got, change.KernelDefault)
	}
	if got := running(); got != change.KernelDefault {
		t.Errorf("running range right after rollback = %v, want %v", got, change.KernelDefault)
	}
	// By hand, as sysctl -w does.
	byHand := sysctl.Range{Low: 41000, High: 51001}
	if err := f.svc.Kernel.WriteRange(byHand); err != nil {
		t.Fatal(err)
	}
	if got := running(); got != byHand {
		t.Errorf("running range right after sysctl -w = %v, want %v", got, byHand)
	}
	if err := os.WriteFile(f.file, []byte("net.ipv4.ip_local_port_range = 20000 30001\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	time.Sleep(change.ReportMaxAge + 100*time.Millisecond)
	if got, want := boot(), (sysctl.Range{Low: 20000, High: 30001}); got != want {
		t.Errorf("boot %v after a hand edit = %v, want %v", change.ReportMaxAge+100*time.Millisecond, got, want)
	}
}
