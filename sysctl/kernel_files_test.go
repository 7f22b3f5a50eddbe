package sysctl_test

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"portpanel/sysctl"
	"portpanel/sysctl/sysctltest"
)

// Kept-open files must show every change: the kernel's, made through
// another file handle, in a private network namespace; and, under a plain
// directory, a file replaced by rename (not kept open there).
func TestKernelFilesSeeEveryChange(t *testing.T) {
	t.Run("procfs", func(t *testing.T) {
		if !sysctltest.InNetns(t) {
			return
		}
		k := sysctl.Kernel{ProcSys: "/proc/sys"}
		f := k.Files()
		defer f.Close()
		// Settings kept an hour: the range is still read every time.
		slow := k.Files()
		slow.SettingsMaxAge = time.Hour
		defer slow.Close()
		if _, err := slow.Read(); err != nil {
			t.Fatal(err)
		}
		reserved := filepath.Join("/proc/sys", "net", "ipv4", "ip_local_reserved_ports")
		if err := os.WriteFile(reserved, []byte("40100-40200\n"), 0); err != nil {
			t.Fatal(err)
		}
		for _, r := range []sysctl.Range{{Low: 40000, High: 50001}, {Low: 20000, High: 60999}, {Low: 40000, High: 50001}} {
			if err := k.WriteRange(r); err != nil {
				t.Fatal(err)
			}
			st, err := f.Read()
			if err != nil || st.Range != r {
				t.Errorf("Read after writing %v = %v, %v", r, st.Range, err)
			}
			if st, err := slow.Read(); err != nil || st.Range != r || st.ReservedPorts != "" {
				t.Errorf("Read with settings kept = %+v, %v; want range %v and the reserved ports as first read (none)", st, err, r)
			}
			if st.ReservedPorts != "40100-40200" {
				t.Errorf("ReservedPorts = %q, want the value just written", st.ReservedPorts)
			}
			direct, err := k.Read()
			if err != nil || direct.ReservedPorts != st.ReservedPorts || direct.UnprivilegedPortStart != st.UnprivilegedPortStart {
				t.Errorf("kept-open read %+v differs from a fresh read %+v (%v)", st, direct, err)
			}
		}
	})
	t.Run("plain directory", func(t *testing.T) {
		dir := t.TempDir()
		ipv4 := filepath.Join(dir, "net", "ipv4")
		if err := os.MkdirAll(ipv4, 0o755); err != nil {
			t.Fatal(err)
		}
		write := func(name, value string) {
			tmp := filepath.Join(ipv4, name+".tmp")
			if err := os.WriteFile(tmp, []byte(value), 0o644); err != nil {
				t.Fatal(err)
			}
			if err := os.Rename(tmp, filepath.Join(ipv4, name)); err != nil {
				t.Fatal(err)
			}
		}
		write("ip_unprivileged_port_start", "1024\n")
		write("ip_local_reserved_ports", "\n")
		f := sysctl.Kernel{ProcSys: dir}.Files()
		defer f.Close()
		for _, r := range []sysctl.Range{{Low: 32768, High: 60999}, {Low: 40000, High: 50001}} {
			write("ip_local_port_range", fmt.Sprintf("%d\t%d\n", r.Low, r.High))
			st, err := f.Read()
			if err != nil || st.Range != r {
				t.Errorf("Read after replacing the file with %v = %v, %v", r, st.Range, err)
			}
		}
	})
}

// Within RangeMaxAge and SettingsMaxAge a read hands out what the last one
// read, unless Wrote was called since; then everything is read afresh.
func TestKernelFilesKeepValuesUntilWrote(t *testing.T) {
	dir := t.TempDir()
	ipv4 := filepath.Join(dir, "net", "ipv4")
	if err := os.MkdirAll(ipv4, 0o755); err != nil {
		t.Fatal(err)
	}
	set := func(low, high int, reserved string) {
		t.Helper()
		for name, v := range map[string]string{"ip_local_port_range": fmt.Sprintf("%d\t%d\n", low, high),
			"ip_local_reserved_ports": reserved + "\n", "ip_unprivileged_port_start": "1024\n"} {
			if err := os.WriteFile(filepath.Join(ipv4, name), []byte(v), 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
	read := func(f *sysctl.KernelFiles) sysctl.KernelState {
		t.Helper()
		st, err := f.Read()
		if err != nil {
			t.Fatal(err)
		}
		return st
	}
	k := sysctl.Kernel{ProcSys: dir}
	set(32768, 60999, "")
	kept, every, rangeOnly := k.Files(), k.Files(), k.Files()
	kept.RangeMaxAge, kept.SettingsMaxAge = time.Hour, time.Hour
	rangeOnly.SettingsMaxAge = time.Hour
	for _, f := range []*sysctl.KernelFiles{kept, every, rangeOnly} {
		defer f.Close()
		read(f)
	}
	set(40000, 50001, "40100")
	if st := read(kept); st.Range != (sysctl.Range{Low: 32768, High: 60999}) || st.ReservedPorts != "" {
		t.Errorf("kept an hour, read after a change = %+v, want the first read", st)
	}
	if st := read(every); st.Range != (sysctl.Range{Low: 40000, High: 50001}) || st.ReservedPorts != "40100" {
		t.Errorf("nothing kept = %+v, want the new values", st)
	}
	if st := read(rangeOnly); st.Range != (sysctl.Range{Low: 40000, High: 50001}) || st.ReservedPorts != "" {
		t.Errorf("settings kept = %+v, want the new range with the first settings", st)
	}
	kept.Wrote()
	if st := read(kept); st.Range != (sysctl.Range{Low: 40000, High: 50001}) || st.ReservedPorts != "40100" {
		t.Errorf("after Wrote = %+v, want the new values", st)
	}
	set(20000, 60999, "")
	if st := read(kept); st.Range != (sysctl.Range{Low: 40000, High: 50001}) {
		t.Errorf("kept again after the fresh read = %+v, want it", st.Range)
	}
}

// A kept file that can no longer be read is read afresh, by path: the
// value is still the kernel's.
func TestKernelFilesReadAfreshWhenAKeptFileFails(t *testing.T) {
	if !sysctltest.InNetns(t) {
		return
	}
	k := sysctl.Kernel{ProcSys: "/proc/sys"}
	f := k.Files()
	defer f.Close()
	if _, err := f.Read(); err != nil { // opens and keeps the files
		t.Fatal(err)
	}
	f.BreakKeptRange()
	for _, r := range []sysctl.Range{{Low: 40000, High: 50001}, {Low: 32768, High: 60999}} {
		if err := k.WriteRange(r); err != nil {
			t.Fatal(err)
		}
		if st, err := f.Read(); err != nil || st.Range != r {
			t.Errorf("Read with a broken kept file after writing %v = %v, %v", r, st.Range, err)
		}
	}
}
