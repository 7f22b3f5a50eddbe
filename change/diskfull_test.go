package change_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"portpanel/change"
	"portpanel/db"
	"portpanel/sysctl/sysctltest"
)

// tinyTmpfs mounts a 16 KiB tmpfs on dir for the rest of the test. Only
// inside InNetns, whose private mount namespace keeps it from the host.
func tinyTmpfs(t *testing.T, dir string) {
	t.Helper()
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := syscall.Mount("tmpfs", dir, "tmpfs", 0, "size=16k"); err != nil {
		t.Fatalf("mount tmpfs on %s: %v", dir, err)
	}
	t.Cleanup(func() {
		if err := syscall.Unmount(dir, syscall.MNT_DETACH); err != nil {
			t.Errorf("unmount %s: %v", dir, err)
		}
	})
}

// fill uses up the free space of the file system holding dir, and checks
// that not even one byte more can be written.
func fill(t *testing.T, dir string) {
	t.Helper()
	filler, err := os.Create(filepath.Join(dir, "filler"))
	if err != nil {
		t.Fatal(err)
	}
	defer filler.Close()
	page := make([]byte, 4096)
	for {
		if _, err = filler.Write(page); err != nil {
			break
		}
	}
	if !errors.Is(err, syscall.ENOSPC) {
		t.Fatalf("filling %s: %v, want ENOSPC", dir, err)
	}
	probe := filepath.Join(dir, "probe")
	err = os.WriteFile(probe, []byte("x"), 0o644)
	os.Remove(probe)
	if !errors.Is(err, syscall.ENOSPC) {
		t.Fatalf("%s still takes a byte: %v", dir, err)
	}
}

// tempFiles lists the file writer's temp files left in dir.
func tempFiles(t *testing.T, dir string) []string {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, e := range entries {
		if strings.Contains(e.Name(), "portpanel-tmp") {
			out = append(out, e.Name())
		}
	}
	return out
}

var unwritable = []struct {
	name    string
	prepare func(t *testing.T, dir string) // after the original file is in place
	errno   syscall.Errno
	message string
}{
	{"disk full", fill, syscall.ENOSPC, "no space left on device"},
	{"read-only", func(t *testing.T, dir string) { sysctltest.ReadOnlyDir(t, dir) }, syscall.EROFS, "read-only file system"},
}

func TestUnwritableConfigDirLeavesEverythingAsBefore(t *testing.T) {
	if !sysctltest.InNetns(t) {
		return
	}
	for _, fs := range unwritable {
		for _, file := range []struct {
			name     string
			original *string
		}{
			{"file with the key", ptr("# ports\nnet.ipv4.ip_local_port_range = 32768 60999\n")},
			{"file without the key", ptr("# x")},
			{"no file", nil},
		} {
			original := file.original
			t.Run(fs.name+"/"+file.name, func(t *testing.T) {
				ctx := context.Background()
				f := newFixture(t, nil)
				f.setKernel(t, defaultRange)
				dir := filepath.Dir(f.file)
				tinyTmpfs(t, dir)
				if original != nil {
					mustWrite(t, f.file, *original)
				}
				fs.prepare(t, dir)

				// A longer line than the original's: the file grows.
				_, err := f.svc.Apply(ctx, change.Request{Low: 40000, High: 50001, Reason: "grow the file", Actor: operator})
				var failed *change.FailedError
				if !errors.As(err, &failed) || failed.KernelRefused {
					t.Fatalf("err = %v, want a failure to write the file", err)
				}
				if !errors.Is(err, fs.errno) {
					t.Errorf("err = %v, want it to wrap %v", err, fs.errno)
				}
				if got := f.kernel(t); got != defaultRange {
					t.Errorf("kernel = %v, want it restored to %v", got, defaultRange)
				}
				content, exists := readFile(t, f.file)
				if (original == nil) == exists || (original != nil && content != *original) {
					t.Errorf("file = %q (exists %v), want it as before: %v", content, exists, original)
				}
				if tmp := tempFiles(t, dir); len(tmp) != 0 {
					t.Errorf("temp files left: %v", tmp)
				}
				assertFailedRecorded(t, f.svc.DB, failed.Change.ID, fs.message)
				if !strings.Contains(failed.Change.Error, "restored to 32768 60999") {
					t.Errorf("error %q does not say the kernel was restored", failed.Change.Error)
				}
			})
		}
	}
}

func TestRevertThatCannotWriteTheFileKeepsTheChange(t *testing.T) {
	if !sysctltest.InNetns(t) {
		return
	}
	for _, fs := range unwritable {
		t.Run(fs.name, func(t *testing.T) {
			ctx := context.Background()
			clk := newClock()
			f := newFixture(t, nil)
			f.setKernel(t, defaultRange)
			dir := filepath.Dir(f.file)
			tinyTmpfs(t, dir)
			mustWrite(t, f.file, "# ports\n")
			orig := applyAwaiting(t, f, clk)
			applied, _ := readFile(t, f.file)
			fs.prepare(t, dir)

			clk.Advance(time.Hour)
			n, err := f.svc.RevertDue(ctx)
			if n != 0 || !errors.Is(err, fs.errno) {
				t.Fatalf("RevertDue = %d, %v; want 0 and an error wrapping %v", n, err, fs.errno)
			}
			// The change stays in force, consistently, and nobody is left
			// thinking it will still revert.
			got := mustChange(t, f.svc.DB, orig.ID)
			if got.Status != db.StatusApplied || got.ConfirmBy != nil {
				t.Errorf("original = %s, confirm by %v; want applied without a deadline", got.Status, got.ConfirmBy)
			}
			if k := f.kernel(t); k != confirmTarget {
				t.Errorf("kernel = %v, want %v (the change kept)", k, confirmTarget)
			}
			if content, _ := readFile(t, f.file); content != applied {
				t.Errorf("file = %q, want %q", content, applied)
			}
			if tmp := tempFiles(t, dir); len(tmp) != 0 {
				t.Errorf("temp files left: %v", tmp)
			}
			rbs, err := f.svc.DB.RollbacksOf(ctx, orig.ID)
			if err != nil || len(rbs) != 1 || rbs[0].Status != db.StatusFailed || !strings.Contains(rbs[0].Error, fs.message) {
				t.Errorf("revert attempts = %+v, %v; want one failed with %q", rbs, err, fs.message)
			}
			ev := lastEvent(t, f.svc.DB, "change.revert_failed")
			if ev.ChangeID == nil || *ev.ChangeID != orig.ID || !strings.Contains(ev.Detail, "by hand") {
				t.Errorf("change.revert_failed = %+v", ev)
			}
			if ids := awaiting(t, f.svc.DB); len(ids) != 0 {
				t.Errorf("still awaiting confirmation: %v", ids)
			}
			if n, err := f.svc.RevertDue(ctx); n != 0 || err != nil {
				t.Errorf("RevertDue again = %d, %v; want no retry", n, err)
			}
		})
	}
}
