package pgtest

import (
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

// Cluster is a throwaway PostgreSQL server of one test's own, for tests
// that stop and start it (the shared test cluster must stay up for the
// others). pgcluster.sh, beside this package, runs it: initdb as the
// unprivileged postgres user in a temp dir, a Unix socket there only.
type Cluster struct {
	URL string // postgres:///postgres?host=DIR&user=postgres
	t   testing.TB
	dir string
}

// NewCluster starts a cluster, stopped and removed when t ends. It needs
// root (runuser) and Debian's postgresql package; without them t is
// skipped with the reason, or failed under CI, as Skip does.
func NewCluster(t testing.TB) *Cluster {
	t.Helper()
	why := ""
	switch {
	case os.Geteuid() != 0:
		why = "needs root, to run PostgreSQL as the postgres user"
	default:
		if m, _ := filepath.Glob("/usr/lib/postgresql/*/bin/initdb"); len(m) == 0 {
			why = "no initdb under /usr/lib/postgresql/*/bin (Debian's postgresql package)"
		}
	}
	if why != "" {
		if ci := os.Getenv("CI"); ci != "" && ci != "false" && ci != "0" {
			t.Fatal("throwaway PostgreSQL cluster: " + why + "; under CI a skip is a failure")
		}
		t.Skip("throwaway PostgreSQL cluster: " + why)
	}
	// Not t.TempDir(): the postgres user must reach the directory, and the
	// socket path must stay short (108 bytes).
	parent, err := os.MkdirTemp("", "pp-pg")
	if err != nil {
		t.Fatal(err)
	}
	os.Chmod(parent, 0o755)
	c := &Cluster{t: t, dir: filepath.Join(parent, "c")}
	t.Cleanup(func() {
		c.run("stop")
		os.RemoveAll(parent)
	})
	c.URL = strings.TrimSpace(c.run("start"))
	return c
}

// Halt stops the server, keeping its data; Resume starts it again.
func (c *Cluster) Halt()   { c.t.Helper(); c.run("halt") }
func (c *Cluster) Resume() { c.t.Helper(); c.run("resume") }

func (c *Cluster) run(cmd string) string {
	c.t.Helper()
	out, err := exec.Command(script(), cmd, c.dir).Output()
	if err != nil {
		var stderr []byte
		if ee, ok := err.(*exec.ExitError); ok {
			stderr = ee.Stderr
		}
		c.t.Fatalf("pgcluster.sh %s: %v\n%s", cmd, err, stderr)
	}
	return string(out)
}

// script is pgcluster.sh's path, found from this file's, so a test of any
// package can run it.
func script() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(file), "..", "pgcluster.sh")
}
