package change

import (
	"context"
	"errors"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"portpanel/db/dbtest"
	"portpanel/sysctl"
	"portpanel/sysctl/sysctltest"
)

func TestReserveFirst(t *testing.T) {
	def := sysctl.Range{Low: 32768, High: 60999}
	cases := []struct {
		name          string
		before, after sysctl.Range
		was, will     string
		want          bool
	}{
		{"reserve, then widen over the port", def, sysctl.Range{Low: 1024, High: 65000}, "", "5432", true},
		{"narrow, then unreserve the port left outside", def, sysctl.Range{Low: 40000, High: 60999}, "33000", "", false},
		{"only reserving: either order is safe, reserve first", def, def, "", "40000", true},
		{"only widening", def, sysctl.Range{Low: 1024, High: 65000}, "5432", "5432", true},
		{"unreserve a port that stays inside: narrowing first changes nothing", def, sysctl.Range{Low: 33000, High: 60999}, "40000", "", true},
		{"move the range and the reservation with it", def, sysctl.Range{Low: 10000, High: 20001}, "40000", "15000", true},
		{"a list that does not parse goes last", def, sysctl.Range{Low: 1024, High: 65000}, "", "65536", false},
	}
	for _, tc := range cases {
		if got := reserveFirst(tc.before, tc.after, tc.was, tc.will); got != tc.want {
			t.Errorf("%s: reserveFirst = %v, want %v", tc.name, got, tc.want)
		}
	}
}

// The kernel itself refuses the second key: a list it cannot parse, which
// only a change planned elsewhere could carry (plan refuses it). The range,
// written first, goes back.
func TestKernelRefusesReservedListAfterRange(t *testing.T) {
	if !sysctltest.InNetns(t) {
		return
	}
	ctx := context.Background()
	root := t.TempDir()
	file := filepath.Join(root, "sysctl.conf")
	s := &Service{Kernel: sysctl.Kernel{ProcSys: sysctltest.ProcSys()}, Config: sysctl.Config{Root: root},
		Reader: sysctl.ReaderProcps, File: file, DB: dbtest.Open(t), Now: time.Now}
	p, err := s.plan(ctx, Request{Low: 1024, High: 65000, ReservedPorts: ptr("5432"), Reason: "refused list",
		Actor: Actor{ID: 1, Name: "olga"}})
	if err != nil {
		t.Fatal(err)
	}
	p.change.ReservedPorts = ptr("5432,65536")
	_, err = s.start(ctx, p, "")
	var failed *FailedError
	if !errors.As(err, &failed) || !failed.KernelRefused || !errors.Is(err, syscall.EINVAL) {
		t.Fatalf("err = %v, want the kernel's EINVAL", err)
	}
	if r, _ := s.Kernel.ReadRange(); r != (sysctl.Range{Low: 32768, High: 60999}) {
		t.Errorf("range = %v, want it put back", r)
	}
	if l, _ := s.Kernel.ReadReserved(); l != "" {
		t.Errorf("reserved ports = %q", l)
	}
	if !strings.Contains(failed.Change.Error, "restored to 32768 60999") {
		t.Errorf("error %q does not say the range was put back", failed.Change.Error)
	}
	if _, existed, _ := sysctl.ReadConfigFile(file); existed {
		t.Error("the file was written")
	}
}

func ptr(s string) *string { return &s }
