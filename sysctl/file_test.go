package sysctl

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"portpanel/sysctl/sysctltest"
)

func TestReadConfigFile(t *testing.T) {
	dir := t.TempDir()
	write := func(name, content string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	if b, existed, err := ReadConfigFile(filepath.Join(dir, "missing.conf")); b != nil || existed || err != nil {
		t.Errorf("missing file: %q, %v, %v", b, existed, err)
	}
	if b, existed, err := ReadConfigFile(write("ok.conf", "a = 1\n")); string(b) != "a = 1\n" || !existed || err != nil {
		t.Errorf("ok file: %q, %v, %v", b, existed, err)
	}
	refused := map[string]string{
		"NUL byte":     write("nul.conf", "a = 1\x00\n"),
		"over 1 MiB":   write("big.conf", strings.Repeat("#\n", MaxConfigSize/2+1)),
		"a directory":  filepath.Join(dir),
		"a dev device": "/dev/null",
	}
	for name, p := range refused {
		_, _, err := ReadConfigFile(p)
		var ue *UneditableError
		if !errors.As(err, &ue) || !strings.Contains(err.Error(), p) {
			t.Errorf("%s: err = %v, want *UneditableError naming the path", name, err)
		}
	}
}

func TestPlanFile(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "60-portpanel.conf")
	r := Range{Low: 40000, High: 50001}

	e, err := PlanFile(p, Target{Range: r})
	if err != nil || e.Existed || e.Before != nil || string(e.After) != Key+" = 40000 50001\n" {
		t.Fatalf("new file plan: %+v, %v", e, err)
	}
	if _, err := os.Stat(p); !errors.Is(err, os.ErrNotExist) {
		t.Fatal("PlanFile wrote something")
	}
	os.WriteFile(p, []byte("a = 1\n"+Key+" = 1 2\nb = 2\n"), 0o644)
	e, err = PlanFile(p, Target{Range: r})
	if err != nil || !e.Existed || len(e.Notes) != 1 {
		t.Fatalf("existing file plan: %+v, %v", e, err)
	}
	want := "--- " + p + "\n+++ " + p + "\n@@ -1,3 +1,3 @@\n a = 1\n-" + Key + " = 1 2\n+" + Key + " = 40000 50001\n b = 2\n"
	if e.Diff != want {
		t.Fatalf("diff:\n%s\nwant:\n%s", e.Diff, want)
	}
	os.WriteFile(p, []byte("x\x00"), 0o644)
	if _, err := PlanFile(p, Target{Range: r}); err == nil {
		t.Fatal("PlanFile accepted a binary file")
	}
}

func TestUnifiedDiff(t *testing.T) {
	cases := []struct {
		name, before, after, want string
	}{
		{"equal", "a\n", "a\n", ""},
		{"new file", "", "k = 1\n", "--- f\n+++ f\n@@ -0,0 +1 @@\n+k = 1\n"},
		{"missing newline is shown", "a", "a\nb\n", "--- f\n+++ f\n@@ -1 +1,2 @@\n-a\n\\ No newline at end of file\n+a\n+b\n"},
		{"three lines of context", "1\n2\n3\n4\n5\n6\n7\n8\n", "1\n2\n3\n4\nX\n6\n7\n8\n",
			"--- f\n+++ f\n@@ -2,7 +2,7 @@\n 2\n 3\n 4\n-5\n+X\n 6\n 7\n 8\n"},
	}
	for _, tc := range cases {
		if got := UnifiedDiff("f", []byte(tc.before), []byte(tc.after)); got != tc.want {
			t.Errorf("%s:\n%q\nwant\n%q", tc.name, got, tc.want)
		}
	}
}

func TestFileHash(t *testing.T) {
	if h := FileHash(nil); h != "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855" {
		t.Errorf("FileHash(nil) = %s", h)
	}
	if FileHash([]byte("a")) == FileHash([]byte("b")) {
		t.Error("different content, same hash")
	}
}

func TestWriteFileAtomic(t *testing.T) {
	t.Run("new file in a missing directory is 0644", func(t *testing.T) {
		p := filepath.Join(t.TempDir(), "etc/sysctl.d/60-portpanel.conf")
		if err := WriteFileAtomic(p, []byte("x\n")); err != nil {
			t.Fatal(err)
		}
		checkFile(t, p, "x\n", 0o644)
		checkNoTemp(t, filepath.Dir(p))
	})
	t.Run("existing file keeps its mode and owner", func(t *testing.T) {
		p := filepath.Join(t.TempDir(), "sysctl.conf")
		os.WriteFile(p, []byte("old\n"), 0o600)
		os.Chmod(p, 0o640)
		if os.Geteuid() == 0 {
			os.Chown(p, 1234, 5678)
		}
		if err := WriteFileAtomic(p, []byte("new\n")); err != nil {
			t.Fatal(err)
		}
		checkFile(t, p, "new\n", 0o640)
		if os.Geteuid() == 0 {
			var st syscall.Stat_t
			syscall.Stat(p, &st)
			if st.Uid != 1234 || st.Gid != 5678 {
				t.Errorf("owner %d:%d, want 1234:5678", st.Uid, st.Gid)
			}
		}
	})
	t.Run("writes through a symlink chain and keeps the links", func(t *testing.T) {
		root := t.TempDir()
		os.MkdirAll(filepath.Join(root, "etc/sysctl.d"), 0o755)
		os.WriteFile(filepath.Join(root, "etc/real.conf"), []byte("old\n"), 0o644)
		os.Symlink("real.conf", filepath.Join(root, "etc/sysctl.conf"))
		link := filepath.Join(root, "etc/sysctl.d/99-sysctl.conf")
		os.Symlink("../sysctl.conf", link)
		if err := WriteFileAtomic(link, []byte("new\n")); err != nil {
			t.Fatal(err)
		}
		checkFile(t, filepath.Join(root, "etc/real.conf"), "new\n", 0o644)
		for _, l := range []string{link, filepath.Join(root, "etc/sysctl.conf")} {
			if fi, err := os.Lstat(l); err != nil || fi.Mode()&os.ModeSymlink == 0 {
				t.Errorf("%s is no longer a symlink", l)
			}
		}
		checkNoTemp(t, filepath.Join(root, "etc"))
	})
	t.Run("dangling link: the target is created", func(t *testing.T) {
		root := t.TempDir()
		os.MkdirAll(filepath.Join(root, "etc/sysctl.d"), 0o755)
		link := filepath.Join(root, "etc/sysctl.d/99-sysctl.conf")
		os.Symlink("../sysctl.conf", link)
		if err := WriteFileAtomic(link, []byte("new\n")); err != nil {
			t.Fatal(err)
		}
		checkFile(t, filepath.Join(root, "etc/sysctl.conf"), "new\n", 0o644)
	})
	t.Run("refuses to write through a link to /dev/null", func(t *testing.T) {
		link := filepath.Join(t.TempDir(), "50-masked.conf")
		os.Symlink("/dev/null", link)
		err := WriteFileAtomic(link, []byte("x\n"))
		var ue *UneditableError
		if !errors.As(err, &ue) || !strings.HasPrefix(err.Error(), "write "+link+": ") {
			t.Fatalf("err = %v", err)
		}
		if fi, err := os.Stat("/dev/null"); err != nil || fi.Mode()&os.ModeCharDevice == 0 {
			t.Fatal("/dev/null is no longer a device")
		}
	})
	t.Run("error names the file and the step, temp file removed", func(t *testing.T) {
		dir := t.TempDir()
		p := filepath.Join(dir, "x.conf")
		os.Mkdir(p, 0o755) // rename of a file over a directory fails
		err := WriteFileAtomic(filepath.Join(dir, "x.conf"), []byte("x\n"))
		if err == nil || !strings.HasPrefix(err.Error(), "write "+p+": ") {
			t.Fatalf("err = %v", err)
		}
		checkNoTemp(t, dir)
	})
}

func TestWriteFileAtomicReadOnly(t *testing.T) {
	if !sysctltest.InNetns(t) {
		return
	}
	dir := t.TempDir()
	p := filepath.Join(dir, "sysctl.conf")
	os.WriteFile(p, []byte("old\n"), 0o644)
	sysctltest.ReadOnlyDir(t, dir)
	err := WriteFileAtomic(p, []byte("new\n"))
	if !errors.Is(err, syscall.EROFS) {
		t.Fatalf("err = %v, want EROFS", err)
	}
	if want := "write " + p + ": create temporary file: read-only file system"; err.Error() != want {
		t.Errorf("message %q, want %q", err, want)
	}
	checkFile(t, p, "old\n", 0o644)
	checkNoTemp(t, dir)
	if err := RemoveFile(p); !errors.Is(err, syscall.EROFS) {
		t.Errorf("RemoveFile on a read-only dir = %v, want EROFS", err)
	}
}

func TestRemoveFile(t *testing.T) {
	root := t.TempDir()
	target := filepath.Join(root, "sysctl.conf")
	link := filepath.Join(root, "99-sysctl.conf")
	os.WriteFile(target, []byte("x\n"), 0o644)
	os.Symlink("sysctl.conf", link)
	if err := RemoveFile(link); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(target); !errors.Is(err, os.ErrNotExist) {
		t.Error("target still exists")
	}
	if _, err := os.Lstat(link); err != nil {
		t.Error("the link was removed")
	}
	if err := RemoveFile(link); err != nil {
		t.Errorf("removing an already removed file: %v", err)
	}
	if err := RemoveFile(filepath.Join(root, "no/such/dir/x.conf")); err != nil {
		t.Errorf("removing in a missing directory: %v", err)
	}
}

func checkFile(t *testing.T, p, content string, mode os.FileMode) {
	t.Helper()
	b, err := os.ReadFile(p)
	if err != nil || string(b) != content {
		t.Fatalf("%s = %q, %v; want %q", p, b, err, content)
	}
	if fi, _ := os.Stat(p); fi.Mode().Perm() != mode {
		t.Errorf("%s mode %v, want %v", p, fi.Mode().Perm(), mode)
	}
}

func checkNoTemp(t *testing.T, dir string) {
	t.Helper()
	entries, _ := os.ReadDir(dir)
	for _, e := range entries {
		if strings.Contains(e.Name(), "portpanel-tmp") {
			t.Errorf("temp file %s left behind", e.Name())
		}
	}
}

// Root reads any file, so chmod 000 proves nothing. A write-only sysctl
// file cannot be read even by root (sysctl checks its own mode bits), so
// it is bind-mounted over a config file inside the private namespaces.
func TestUnreadableFile(t *testing.T) {
	if !sysctltest.InNetns(t) {
		return
	}
	c := tree(t, map[string]string{etcD + "50-x.conf": "placeholder\n", etcD + "60-y.conf": Key + " = 2000 3001\n"})
	p := c.path(etcD + "50-x.conf")
	if err := syscall.Mount("/proc/sys/net/ipv4/route/flush", p, "", syscall.MS_BIND, ""); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { syscall.Unmount(p, syscall.MNT_DETACH) })
	for _, rd := range []Reader{ReaderSystemd, ReaderProcps} {
		b, err := c.Boot(rd)
		if err != nil {
			t.Fatal(err)
		}
		// Permission denied: the reader at boot has rights portpanel may
		// lack, so the value is uncertain rather than certain without it.
		checkBoot(t, c, rd, b, want{value: "2000 3001@/etc/sysctl.d/60-y.conf:1"})
		if len(b.Uncertain) != 1 || !strings.HasPrefix(b.Uncertain[0], "portpanel cannot read /etc/sysctl.d/50-x.conf: permission denied") {
			t.Errorf("%s: uncertain %q", rd, b.Uncertain)
		}
	}
	_, _, err := ReadConfigFile(p)
	if !errors.Is(err, fs.ErrPermission) || err.Error() != "read "+p+": permission denied" {
		t.Errorf("ReadConfigFile = %v", err)
	}
	if _, err := PlanFile(p, Target{Range: Range{Low: 40000, High: 50001}}); !errors.Is(err, fs.ErrPermission) {
		t.Errorf("PlanFile = %v", err)
	}
}
