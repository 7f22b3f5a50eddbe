package cli

import (
	"bytes"
	"context"
	"errors"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"portpanel/db/dbtest/pgtest"
	"portpanel/sysctl/sysctltest"
)

// A second serve on a SQLite file that one serves is refused, in words
// that say what to do; once the first has stopped, a new one starts.
func TestSecondServeOnOneSQLiteFileIsRefused(t *testing.T) {
	path := filepath.Join(t.TempDir(), "shared.db")
	t.Run("while one serves", func(t *testing.T) {
		startServe(t, "--db", path)
		dir := t.TempDir()
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		var stderr bytes.Buffer
		err := serve(ctx, []string{"--addr", "127.0.0.1:0", "--db", path, "--proc-sys", sysctltest.FakeProcSys(t), "--config-root", dir,
			"--sysctl-file", filepath.Join(dir, "etc", "sysctl.d", "90-portpanel.conf"), "--boot-reader", "procps"}, &bytes.Buffer{}, &stderr)
		if !errors.Is(err, errReplicaOnSQLite) {
			t.Fatalf("second serve on %s: %v, want the replicas-need-PostgreSQL refusal\n%s", path, err, stderr.String())
		}
		for _, want := range []string{"replicas need PostgreSQL", "postgres://", path, "pid "} {
			if !strings.Contains(err.Error(), want) {
				t.Errorf("the refusal %q does not say %q", err, want)
			}
		}
	})
	startServe(t, "--db", path) // the first one has stopped: its lock went with it
}

// Two serves on one PostgreSQL database are replicas: both start, neither
// is refused.
func TestTwoServesOnOnePostgreSQLDatabase(t *testing.T) {
	dsn := pgtest.Database(t)
	for _, name := range []string{"first", "second"} {
		port, _, stderr := startServe(t, "--db", dsn)
		res, err := http.Get("http://127.0.0.1:" + port + "/healthz")
		if err != nil {
			t.Fatalf("%s replica: %v\n%s", name, err, stderr)
		}
		res.Body.Close()
		if res.StatusCode != http.StatusOK {
			t.Errorf("%s replica's /healthz: %d, want 200", name, res.StatusCode)
		}
	}
}
