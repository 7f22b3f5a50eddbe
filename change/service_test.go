package change_test

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"portpanel/change"
	"portpanel/db"
	"portpanel/db/dbtest"
	"portpanel/sysctl"
	"portpanel/sysctl/sysctltest"
)

// fixture is a service on the real kernel of a private network namespace,
// with a temp config tree and a temp database.
type fixture struct {
	svc  *change.Service
	file string
	k    sysctl.Kernel
}

func newFixture(t *testing.T, content *string) fixture {
	t.Helper()
	root := t.TempDir()
	file := filepath.Join(root, "etc", "sysctl.conf")
	if content != nil {
		mustWrite(t, file, *content)
	}
	k := sysctl.Kernel{ProcSys: sysctltest.ProcSys()}
	svc := &change.Service{Kernel: k, Config: sysctl.Config{Root: root}, Reader: sysctl.ReaderProcps,
		File: file, DB: dbtest.Open(t), Now: time.Now}
	return fixture{svc: svc, file: file, k: k}
}

func mustWrite(t *testing.T, path, content string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

func readFile(t *testing.T, path string) (string, bool) {
	t.Helper()
	b, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return "", false
	}
	if err != nil {
		t.Fatal(err)
	}
	return string(b), true
}

func (f fixture) kernel(t *testing.T) sysctl.Range {
	t.Helper()
	r, err := f.k.ReadRange()
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func (f fixture) setKernel(t *testing.T, r sysctl.Range) {
	t.Helper()
	if err := f.k.WriteRange(r); err != nil {
		t.Fatal(err)
	}
}

var operator = change.Actor{ID: 1, Name: "olga"}

func ptr(s string) *string { return &s }

func TestApplyWritesKernelFileAndRecord(t *testing.T) {
	if !sysctltest.InNetns(t) {
		return
	}
	ctx := context.Background()
	original := "# managed by hand\n\n; keep this\n"
	f := newFixture(t, ptr(original))
	before := f.kernel(t)

	c, err := f.svc.Apply(ctx, change.Request{Low: 40000, High: 50001, Reason: "more ports for the proxy", Actor: operator})
	if err != nil {
		t.Fatal(err)
	}
	if got, want := f.kernel(t), (sysctl.Range{Low: 40000, High: 50001}); got != want {
		t.Fatalf("kernel = %v, want %v", got, want)
	}
	content, _ := readFile(t, f.file)
	if want := original + "net.ipv4.ip_local_port_range = 40000 50001\n"; content != want {
		t.Fatalf("file = %q, want %q", content, want)
	}
	if c.Status != db.StatusApplied || c.BeforeLow != before.Low || c.BeforeHigh != before.High || c.User != "olga" {
		t.Fatalf("recorded change = %+v", c)
	}
	if !strings.Contains(c.Diff, "+net.ipv4.ip_local_port_range = 40000 50001") {
		t.Errorf("diff lacks the added line:\n%s", c.Diff)
	}
	// Newest first: the intent, recorded before the kernel was touched, then the outcome.
	events, err := f.svc.DB.Audit(ctx, 10, 0)
	if err != nil || len(events) != 2 || events[0].Action != "change.applied" || events[1].Action != "change.applying" ||
		events[0].ChangeID == nil || *events[0].ChangeID != c.ID {
		t.Fatalf("audit = %+v, %v", events, err)
	}
	if !strings.Contains(events[0].Detail, "more ports for the proxy") {
		t.Errorf("audit detail lacks the reason: %q", events[0].Detail)
	}
	s, err := f.svc.DB.LatestSample(ctx)
	if err != nil || s.Source != db.SourceChange || s.Low != 40000 {
		t.Errorf("latest sample = %+v, %v", s, err)
	}

	// procps is the reference parser: loading the file we wrote into a
	// kernel at the default value must give exactly the new value.
	f.setKernel(t, sysctl.Range{Low: 32768, High: 60999})
	if out, err := exec.Command("sysctl", "-p", f.file).CombinedOutput(); err != nil {
		t.Fatalf("sysctl -p: %v\n%s", err, out)
	}
	if got := f.kernel(t); got != (sysctl.Range{Low: 40000, High: 50001}) {
		t.Fatalf("after sysctl -p the kernel has %v", got)
	}
}

func TestInvalidRequestsChangeNothing(t *testing.T) {
	if !sysctltest.InNetns(t) {
		return
	}
	for _, tt := range []struct {
		name      string
		req       change.Request
		wantField string
	}{
		{"low above high", change.Request{Low: 50000, High: 40000, Reason: "typo"}, "value"},
		{"low below unprivileged port start", change.Request{Low: 1000, High: 60999, Reason: "x"}, "low"},
		{"high above 65535", change.Request{Low: 40000, High: 70000, Reason: "x"}, "high"},
		{"zero low", change.Request{Low: 0, High: 60999, Reason: "x"}, "low"},
		{"empty reason", change.Request{Low: 40000, High: 50001, Reason: "   "}, "reason"},
		{"reason too long", change.Request{Low: 40000, High: 50001, Reason: strings.Repeat("r", 501)}, "reason"},
		{"reason not UTF-8", change.Request{Low: 40000, High: 50001, Reason: "more \xff\xfe ports"}, "reason"},
		{"reason with NUL", change.Request{Low: 40000, High: 50001, Reason: "more\x00ports"}, "reason"},
		{"nothing to change", change.Request{Low: 32768, High: 60999, Reason: "x"}, "value"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t, ptr("net.ipv4.ip_local_port_range = 32768 60999\n"))
			_, err := f.svc.Apply(context.Background(), tt.req)
			var ce *change.InvalidError
			var se *sysctl.InvalidError
			switch {
			case errors.As(err, &ce):
				if tt.wantField != "" && ce.Field != tt.wantField {
					t.Errorf("field = %q, want %q (%v)", ce.Field, tt.wantField, err)
				}
			case errors.As(err, &se):
				if tt.wantField != "value" && se.Field != tt.wantField {
					t.Errorf("field = %q, want %q (%v)", se.Field, tt.wantField, err)
				}
			default:
				t.Fatalf("err = %v, want a validation error", err)
			}
			if got := f.kernel(t); got != (sysctl.Range{Low: 32768, High: 60999}) {
				t.Errorf("kernel changed to %v", got)
			}
			if content, _ := readFile(t, f.file); content != "net.ipv4.ip_local_port_range = 32768 60999\n" {
				t.Errorf("file changed to %q", content)
			}
			if list, _ := f.svc.DB.Changes(context.Background(), 10, 0); len(list) != 0 {
				t.Errorf("a change was recorded: %+v", list)
			}
		})
	}
}
