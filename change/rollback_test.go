package change_test

import (
	"context"
	"errors"
	"os"
	"strings"
	"testing"

	"portpanel/change"
	"portpanel/db"
	"portpanel/sysctl"
	"portpanel/sysctl/sysctltest"
)

func TestRollback(t *testing.T) {
	if !sysctltest.InNetns(t) {
		return
	}
	for _, tt := range []struct {
		name     string
		original *string // nil: no file before the change
		handEdit string  // appended to the file between change and rollback
		want     func(original string) (content string, exists bool)
	}{
		{
			name:     "restores the file byte for byte",
			original: ptr("# ports\r\nnet.ipv4.ip_local_port_range=32768 60999\r\nvm.x = 1"),
			want:     func(o string) (string, bool) { return o, true },
		},
		{
			name:     "removes the appended line again",
			original: ptr("# only a comment, no final newline"),
			want:     func(o string) (string, bool) { return o, true },
		},
		{
			name: "removes a file the change created",
			want: func(string) (string, bool) { return "", false },
		},
		{
			name:     "sets only the value back after a hand edit",
			original: ptr("# ports\nnet.ipv4.ip_local_port_range = 32768 60999\n"),
			handEdit: "# edited by hand\n",
			want: func(string) (string, bool) {
				return "# ports\nnet.ipv4.ip_local_port_range = 32768 60999\n# edited by hand\n", true
			},
		},
	} {
		t.Run(tt.name, func(t *testing.T) {
			ctx := context.Background()
			f := newFixture(t, tt.original)
			applied, err := f.svc.Apply(ctx, change.Request{Low: 40000, High: 50001, Reason: "wider", Actor: operator})
			if err != nil {
				t.Fatal(err)
			}
			if tt.handEdit != "" {
				content, _ := readFile(t, f.file)
				mustWrite(t, f.file, content+tt.handEdit)
			}
			rb, err := f.svc.Rollback(ctx, applied.ID, "", operator)
			if err != nil {
				t.Fatal(err)
			}
			if rb.RollbackOf == nil || *rb.RollbackOf != applied.ID || rb.Status != db.StatusApplied {
				t.Errorf("rollback change = %+v", rb)
			}
			if got := f.kernel(t); got != (sysctl.Range{Low: 32768, High: 60999}) {
				t.Errorf("kernel = %v, want the before value", got)
			}
			orig := ""
			if tt.original != nil {
				orig = *tt.original
			}
			wantContent, wantExists := tt.want(orig)
			content, exists := readFile(t, f.file)
			if exists != wantExists || content != wantContent {
				t.Errorf("file = %q (exists %v), want %q (exists %v)", content, exists, wantContent, wantExists)
			}
			if _, err := f.svc.Rollback(ctx, applied.ID, "again", operator); !errors.Is(err, change.ErrConflict) {
				t.Errorf("second rollback: err = %v, want a conflict", err)
			}
		})
	}
}

func TestRollbackRevalidatesTheOldValue(t *testing.T) {
	if !sysctltest.InNetns(t) {
		return
	}
	ctx := context.Background()
	f := newFixture(t, nil)
	f.setKernel(t, sysctl.Range{Low: 2000, High: 60999})
	applied, err := f.svc.Apply(ctx, change.Request{Low: 40000, High: 50001, Reason: "narrow", Actor: operator})
	if err != nil {
		t.Fatal(err)
	}
	// Since the change, privileged ports were raised above the old low end.
	if err := os.WriteFile("/proc/sys/net/ipv4/ip_unprivileged_port_start", []byte("3000"), 0); err != nil {
		t.Fatal(err)
	}
	_, err = f.svc.Rollback(ctx, applied.ID, "", operator)
	var invalid *sysctl.InvalidError
	if !errors.As(err, &invalid) || !strings.Contains(invalid.Message, "3000") {
		t.Fatalf("err = %v, want the old value refused by today's rules", err)
	}
	if got := f.kernel(t); got != (sysctl.Range{Low: 40000, High: 50001}) {
		t.Errorf("kernel = %v, want it unchanged", got)
	}
}

func TestRollbackOfFailedChangeConflicts(t *testing.T) {
	if !sysctltest.InNetns(t) {
		return
	}
	ctx := context.Background()
	f := newFixture(t, ptr("# x\n"))
	f.setKernel(t, sysctl.Range{Low: 50000, High: 60999})
	if err := os.WriteFile("/proc/sys/net/ipv4/ip_unprivileged_port_start", []byte("45000"), 0); err != nil {
		t.Fatal(err)
	}
	f.svc.Kernel = sysctl.Kernel{ProcSys: sysctltest.StaleProcSys(t)}
	_, err := f.svc.Apply(ctx, change.Request{Low: 40000, High: 50001, Reason: "refused", Actor: operator})
	var failed *change.FailedError
	if !errors.As(err, &failed) {
		t.Fatal(err)
	}
	if _, err := f.svc.Rollback(ctx, failed.Change.ID, "", operator); !errors.Is(err, change.ErrConflict) {
		t.Errorf("err = %v, want a conflict", err)
	}
}
