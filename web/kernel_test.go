package web_test

import (
	"os"
	"path/filepath"
	"strconv"
	"testing"

	"portpanel/sysctl"
)

func assertKernel(t *testing.T, want sysctl.Range) {
	t.Helper()
	got, err := sysctl.Kernel{ProcSys: "/proc/sys"}.ReadRange()
	if err != nil || got != want {
		t.Errorf("kernel = %v, %v; want %v", got, err, want)
	}
}

func itoa(i int64) string { return strconv.FormatInt(i, 10) }

// staleProcSys is a /proc/sys view whose range is the real kernel's but
// whose ip_unprivileged_port_start says 1024: validation passes and the
// real kernel refuses.
func staleProcSys(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	ipv4 := filepath.Join(dir, "net", "ipv4")
	if err := os.MkdirAll(ipv4, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("/proc/sys/net/ipv4/ip_local_port_range", filepath.Join(ipv4, "ip_local_port_range")); err != nil {
		t.Fatal(err)
	}
	for name, v := range map[string]string{"ip_unprivileged_port_start": "1024\n", "ip_local_reserved_ports": "\n"} {
		if err := os.WriteFile(filepath.Join(ipv4, name), []byte(v), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}
