package sysctltest

import (
	"errors"
	"os"
	"path/filepath"
	"syscall"
	"testing"
)

const rangeFile = "/proc/sys/net/ipv4/ip_local_port_range"

func TestRunPattern(t *testing.T) {
	cases := map[string]string{
		"TestA":                 "^TestA$",
		"TestA/sub_case":        "^TestA$/^sub_case$",
		"TestA/x.y(z)/#01":      `^TestA$/^x\.y\(z\)$/^#01$`,
		"TestKernel/low_[1-2]+": `^TestKernel$/^low_\[1-2\]\+$`,
	}
	for name, want := range cases {
		if got := runPattern(name); got != want {
			t.Errorf("runPattern(%q) = %q, want %q", name, got, want)
		}
	}
}

// The whole point of the package: a write inside must not reach the host.
func TestWritesStayInNamespace(t *testing.T) {
	before, err := os.ReadFile(rangeFile)
	if err != nil {
		t.Fatal(err)
	}
	if !InNetns(t) {
		after, err := os.ReadFile(rangeFile)
		if err != nil || string(after) != string(before) {
			t.Fatalf("host value changed from %q to %q (%v)", before, after, err)
		}
		return
	}
	if string(before) != "32768\t60999\n" {
		t.Fatalf("a new network namespace should start at the default, got %q", before)
	}
	if err := os.WriteFile(rangeFile, []byte("40000 50001\n"), 0o644); err != nil {
		t.Fatal(err)
	}
}

func TestReadOnlyDir(t *testing.T) {
	if !InNetns(t) {
		return
	}
	dir := t.TempDir()
	f := filepath.Join(dir, "x.conf")
	if err := os.WriteFile(f, []byte("old\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	ReadOnlyDir(t, dir)
	if err := os.WriteFile(f, []byte("new\n"), 0o644); !errors.Is(err, syscall.EROFS) {
		t.Fatalf("write into a read-only dir = %v, want EROFS", err)
	}
	if b, _ := os.ReadFile(f); string(b) != "old\n" {
		t.Fatalf("file changed to %q", b)
	}
}

// A skip inside the namespace must reach the parent as a skip, so the
// parent of this test is itself skipped (check with -v: "--- SKIP").
func TestSkipInsideIsASkip(t *testing.T) {
	if !InNetns(t) {
		t.Error("InNetns returned false for a test skipped inside")
		return
	}
	t.Skip("skipping inside the namespace on purpose")
}
