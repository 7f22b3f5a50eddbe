package cli

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"portpanel/db"
)

// A database file left readable by others is made private at start, and
// the log says so once.
func TestServeTightensALooseDatabaseAndSaysSo(t *testing.T) {
	path := filepath.Join(t.TempDir(), "loose.db")
	d, err := db.Open(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	d.Close()
	if err := os.Chmod(path, 0o644); err != nil {
		t.Fatal(err)
	}
	_, _, stderr := startServe(t, "--db", path)
	if n := strings.Count(stderr.String(), "made the database files private"); n != 1 {
		t.Errorf("%d log lines about the loose database, want 1:\n%s", n, stderr)
	}
	if !strings.Contains(stderr.String(), path+" 0644->0600") {
		t.Errorf("the log line does not name the file and its modes:\n%s", stderr)
	}
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if m := fi.Mode().Perm(); m != 0o600 {
		t.Errorf("database mode %04o after start, want 0600", m)
	}
}
