package db_test

import (
	"context"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"syscall"
	"testing"

	"portpanel/db"
)

// withUmask runs the test under umask; not parallel, the umask is the
// process's.
func withUmask(t *testing.T, umask int) {
	old := syscall.Umask(umask)
	t.Cleanup(func() { syscall.Umask(old) })
}

func mode(t *testing.T, p string) fs.FileMode {
	t.Helper()
	fi, err := os.Stat(p)
	if err != nil {
		t.Fatal(err)
	}
	return fi.Mode().Perm()
}

// write makes SQLite create the -wal and -shm beside the file.
func write(t *testing.T, d *db.DB) {
	t.Helper()
	if _, err := d.CreateUser(context.Background(), "u"+filepath.Base(t.TempDir()), "admin", "h", nil); err != nil {
		t.Fatal(err)
	}
}

func TestNewDatabaseFilesArePrivateWhateverTheUmask(t *testing.T) {
	for _, umask := range []int{0o022, 0o000} {
		t.Run(fmt.Sprintf("umask %04o", umask), func(t *testing.T) {
			withUmask(t, umask)
			top := filepath.Join(t.TempDir(), "var")
			path := filepath.Join(top, "lib", "portpanel.db")
			d, err := db.Open(context.Background(), path)
			if err != nil {
				t.Fatal(err)
			}
			defer d.Close()
			write(t, d)
			for _, dir := range []string{top, filepath.Dir(path)} {
				if got := mode(t, dir); got != 0o700 {
					t.Errorf("directory %s: mode %04o, want 0700", dir, got)
				}
			}
			for _, p := range []string{path, path + "-wal", path + "-shm"} {
				if got := mode(t, p); got != 0o600 {
					t.Errorf("%s: mode %04o, want 0600", filepath.Base(p), got)
				}
			}
			if got := d.Tightened(); len(got) != 0 {
				t.Errorf("Tightened() = %v on files Open created itself, want none", got)
			}
		})
	}
}

func TestOpenTightensLooseDatabaseFiles(t *testing.T) {
	withUmask(t, 0)
	dir := t.TempDir()
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "portpanel.db")
	// A first connection keeps the -wal and -shm, as a crash would leave
	// them; an older portpanel made all three 0644.
	first, err := db.Open(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	defer first.Close()
	write(t, first)
	loose := map[string]fs.FileMode{path: 0o644, path + "-wal": 0o664, path + "-shm": 0o640}
	for p, m := range loose {
		if err := os.Chmod(p, m); err != nil {
			t.Fatal(err)
		}
	}

	d, err := db.Open(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	var got []db.Tightened
	got = append(got, d.Tightened()...)
	want := []db.Tightened{{path, 0o644, 0o600}, {path + "-wal", 0o664, 0o600}, {path + "-shm", 0o640, 0o600}}
	if !slices.Equal(got, want) {
		t.Errorf("Tightened() = %v, want %v", got, want)
	}
	for p := range loose {
		if m := mode(t, p); m != 0o600 {
			t.Errorf("%s: mode %04o after Open, want 0600", filepath.Base(p), m)
		}
	}
	if m := mode(t, dir); m != 0o755 {
		t.Errorf("existing directory: mode %04o, want it left at 0755", m)
	}
}
