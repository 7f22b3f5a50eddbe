package change_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"portpanel/change"
	"portpanel/db"
	"portpanel/sysctl"
	"portpanel/sysctl/sysctltest"
)

const recoverOld = "# ports\nnet.ipv4.ip_local_port_range = 32768 60999\n"

var (
	recoverTarget = sysctl.Range{Low: 40000, High: 50001}
	recoverNew    = "# ports\n" + rangeLine(recoverTarget)
	thirdRange    = sysctl.Range{Low: 35000, High: 55001}
)

// recordInterrupted stores, as a crash would leave it, a change from
// defaultRange and old (nil: no file) to recoverTarget and recoverNew.
func recordInterrupted(t *testing.T, f fixture, status string, old *string, mod func(*db.Change)) db.Change {
	t.Helper()
	c := db.Change{Status: status, Low: recoverTarget.Low, High: recoverTarget.High,
		BeforeLow: defaultRange.Low, BeforeHigh: defaultRange.High, Reason: "crashed", UserID: operator.ID,
		User: operator.Name, File: f.file, FileAfter: []byte(recoverNew), FileAfterHash: sysctl.FileHash([]byte(recoverNew)),
		BaseFileHash: "absent"}
	if old != nil {
		c.FileExisted, c.FileBefore, c.BaseFileHash = true, []byte(*old), sysctl.FileHash([]byte(*old))
	}
	c.Diff = sysctl.UnifiedDiff(f.file, c.FileBefore, c.FileAfter)
	if mod != nil {
		mod(&c)
	}
	stored, _, err := f.svc.DB.RecordChange(context.Background(), c,
		db.AuditEvent{User: operator.Name, Action: "change.applying", Detail: "test"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	return stored
}

func TestRecoverResolvesAnInterruptedApply(t *testing.T) {
	if !sysctltest.InNetns(t) {
		return
	}
	for _, tt := range []struct {
		name        string
		old         *string // the file before the change (nil: absent)
		kernel      sysctl.Range
		file        *string // the file at the crash (nil: absent)
		wantStatus  string
		wantKernel  sysctl.Range
		wantFile    *string
		wantError   []string
		wantAction  string
		wantConfirm bool
		confirm     time.Duration
	}{
		{name: "nothing touched", old: ptr(recoverOld), kernel: defaultRange, file: ptr(recoverOld),
			wantStatus: db.StatusFailed, wantKernel: defaultRange, wantFile: ptr(recoverOld), wantAction: "change.interrupted"},
		{name: "kernel written, file old", old: ptr(recoverOld), kernel: recoverTarget, file: ptr(recoverOld),
			wantStatus: db.StatusFailed, wantKernel: defaultRange, wantFile: ptr(recoverOld),
			wantError: []string{"kernel was restored to 32768 60999"}, wantAction: "change.interrupted"},
		{name: "kernel and file written", old: ptr(recoverOld), kernel: recoverTarget, file: ptr(recoverNew),
			wantStatus: db.StatusApplied, wantKernel: recoverTarget, wantFile: ptr(recoverNew), wantAction: "change.recovered"},
		{name: "kernel and file written, with a confirmation window", old: ptr(recoverOld), kernel: recoverTarget,
			file: ptr(recoverNew), confirm: 2 * time.Minute, wantConfirm: true,
			wantStatus: db.StatusApplied, wantKernel: recoverTarget, wantFile: ptr(recoverNew), wantAction: "change.recovered"},
		{name: "kernel set by someone else", old: ptr(recoverOld), kernel: thirdRange, file: ptr(recoverOld),
			wantStatus: db.StatusFailed, wantKernel: thirdRange, wantFile: ptr(recoverOld),
			wantError: []string{"35000 55001", "left alone"}, wantAction: "change.interrupted"},
		{name: "file written, kernel old", old: ptr(recoverOld), kernel: defaultRange, file: ptr(recoverNew),
			wantStatus: db.StatusFailed, wantKernel: defaultRange, wantFile: ptr(recoverOld),
			wantError: []string{"file was restored"}, wantAction: "change.interrupted"},
		{name: "file created, kernel written", kernel: recoverTarget, file: ptr(recoverNew),
			wantStatus: db.StatusApplied, wantKernel: recoverTarget, wantFile: ptr(recoverNew), wantAction: "change.recovered"},
		{name: "file created, kernel old", kernel: defaultRange, file: ptr(recoverNew),
			wantStatus: db.StatusFailed, wantKernel: defaultRange, wantFile: nil,
			wantError: []string{"file was restored"}, wantAction: "change.interrupted"},
		{name: "file edited by someone else", old: ptr(recoverOld), kernel: recoverTarget, file: ptr("# someone else\n"),
			wantStatus: db.StatusFailed, wantKernel: defaultRange, wantFile: ptr("# someone else\n"),
			wantError: []string{"kernel was restored", "left alone"}, wantAction: "change.interrupted"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			ctx := context.Background()
			clk := newClock()
			f := newFixture(t, tt.file)
			f.svc.Now = clk.Now
			c := recordInterrupted(t, f, db.StatusApplying, tt.old, func(c *db.Change) { c.ConfirmWithin = tt.confirm })
			f.setKernel(t, tt.kernel)

			out, err := f.svc.Recover(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if len(out) != 1 || out[0].ID != c.ID {
				t.Fatalf("Recover = %+v, want change #%d", out, c.ID)
			}
			got := mustChange(t, f.svc.DB, c.ID)
			if got.Status != tt.wantStatus {
				t.Errorf("status = %s, want %s (error %q)", got.Status, tt.wantStatus, got.Error)
			}
			if tt.wantStatus == db.StatusFailed && !strings.HasPrefix(got.Error, "interrupted") {
				t.Errorf("error = %q, want it to start with \"interrupted\"", got.Error)
			}
			for _, w := range tt.wantError {
				if !strings.Contains(got.Error, w) {
					t.Errorf("error %q does not say %q", got.Error, w)
				}
			}
			if tt.wantConfirm != (got.ConfirmBy != nil) ||
				(got.ConfirmBy != nil && !got.ConfirmBy.Equal(clk.Now().Add(tt.confirm))) {
				t.Errorf("confirm by = %v, want the window to start now (%v)", got.ConfirmBy, clk.Now())
			}
			if k := f.kernel(t); k != tt.wantKernel {
				t.Errorf("kernel = %v, want %v", k, tt.wantKernel)
			}
			content, exists := readFile(t, f.file)
			if (tt.wantFile == nil) == exists || (exists && content != *tt.wantFile) {
				t.Errorf("file = %q (exists %v), want %v", content, exists, tt.wantFile)
			}
			ev := lastEvent(t, f.svc.DB, tt.wantAction)
			if ev.User != change.SystemUser || ev.ChangeID == nil || *ev.ChangeID != c.ID {
				t.Errorf("%s = %+v", tt.wantAction, ev)
			}

			// Recovering again finds nothing to do.
			was := f.state(t)
			if out, err := f.svc.Recover(ctx); len(out) != 0 || err != nil {
				t.Errorf("second Recover = %+v, %v", out, err)
			}
			f.assertUnchanged(t, was)
		})
	}
}

func TestRecoverMarksAnApprovedChangeFailed(t *testing.T) {
	if !sysctltest.InNetns(t) {
		return
	}
	f := newFixture(t, ptr(recoverOld))
	c := recordInterrupted(t, f, db.StatusApproved, ptr(recoverOld), nil)
	if _, err := f.svc.Recover(context.Background()); err != nil {
		t.Fatal(err)
	}
	if got := mustChange(t, f.svc.DB, c.ID); got.Status != db.StatusFailed || !strings.HasPrefix(got.Error, "interrupted") {
		t.Errorf("change = %s %q, want failed as interrupted", got.Status, got.Error)
	}
	if got := f.kernel(t); got != defaultRange {
		t.Errorf("kernel = %v", got)
	}
	if content, _ := readFile(t, f.file); content != recoverOld {
		t.Errorf("file = %q", content)
	}
}

func TestRecoverFinishesAnInterruptedRollback(t *testing.T) {
	if !sysctltest.InNetns(t) {
		return
	}
	ctx := context.Background()
	f := newFixture(t, ptr(recoverOld))
	orig, err := f.svc.Apply(ctx, change.Request{Low: thirdRange.Low, High: thirdRange.High, Reason: "r", Actor: operator})
	if err != nil {
		t.Fatal(err)
	}
	// The rollback of orig crashed after kernel and file reached its target.
	afterOrig, _ := readFile(t, f.file)
	rb := recordInterrupted(t, f, db.StatusApplying, &afterOrig, func(c *db.Change) {
		c.Low, c.High, c.BeforeLow, c.BeforeHigh = defaultRange.Low, defaultRange.High, thirdRange.Low, thirdRange.High
		c.FileAfter, c.FileAfterHash, c.RollbackOf = []byte(recoverOld), sysctl.FileHash([]byte(recoverOld)), &orig.ID
	})
	f.setKernel(t, defaultRange)
	mustWrite(t, f.file, recoverOld)

	if _, err := f.svc.Recover(ctx); err != nil {
		t.Fatal(err)
	}
	if got := mustChange(t, f.svc.DB, rb.ID); got.Status != db.StatusApplied {
		t.Errorf("rollback is %s (%q), want applied", got.Status, got.Error)
	}
	if got := mustChange(t, f.svc.DB, orig.ID); got.Status != db.StatusReverted {
		t.Errorf("original is %s, want reverted", got.Status)
	}
}

func TestRecoverCleansTempFilesAndIsANoOpOnACleanDatabase(t *testing.T) {
	if !sysctltest.InNetns(t) {
		return
	}
	ctx := context.Background()
	f := newFixture(t, ptr(recoverOld))
	tmp := filepath.Join(filepath.Dir(f.file), ".sysctl.conf.portpanel-tmp-123")
	mustWrite(t, tmp, "half a file")
	other := filepath.Join(filepath.Dir(f.file), "other.conf")
	mustWrite(t, other, "# not ours\n")

	was := f.state(t)
	out, err := f.svc.Recover(ctx)
	if err != nil || len(out) != 0 {
		t.Fatalf("Recover = %+v, %v; want nothing to recover", out, err)
	}
	f.assertUnchanged(t, was)
	if _, err := os.Stat(tmp); !os.IsNotExist(err) {
		t.Errorf("temp file still there: %v", err)
	}
	if content, _ := readFile(t, other); content != "# not ours\n" {
		t.Errorf("another file was touched: %q", content)
	}
}
