package sysctl_test

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"

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
		for _, r := range []sysctl.Range{{Low: 32768, High: 60999}, {Low: 40000, High: 50001}} {
			write("ip_local_port_range", fmt.Sprintf("%d\t%d\n", r.Low, r.High))
			st, err := f.Read()
			if err != nil || st.Range != r {
				t.Errorf("Read after replacing the file with %v = %v, %v", r, st.Range, err)
			}
		}
	})
}

// A kept file that can no longer be read is read afresh, by path: the
// value is still the kernel's.
func TestKernelFilesReadAfreshWhenAKeptFileFails(t *testing.T) {
	if !sysctltest.InNetns(t) {
		return
	}
	k := sysctl.Kernel{ProcSys: "/proc/sys"}
	f := k.Files()
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
