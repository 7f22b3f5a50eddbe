package main

import (
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"testing"

	"portpanel/agentapi"
)

// PostgreSQL's restart in TestFleetIntegration. The test restarts the
// cluster its database is in, so it must be one no other test is using at
// that moment: PORTPANEL_TEST_PG_CTL names it (the directory
// db/dbtest/pgcluster.sh made, or its data directory), and test.sh runs
// the test in a serial phase of its own (fleet-design.md).

const pgCtlEnv = "PORTPANEL_TEST_PG_CTL"

// fleetPGData is the data directory of the cluster the test may restart,
// checked to be the one PORTPANEL_TEST_PG's database lives in. Without
// it the test skips, and fails under CI.
func fleetPGData(t *testing.T) string {
	t.Helper()
	dir := os.Getenv(pgCtlEnv)
	if dir == "" {
		why := pgCtlEnv + " is not set: this test restarts PostgreSQL, so it needs a cluster it may restart (test.sh's serial phase sets it)"
		if ci := os.Getenv("CI"); ci != "" && ci != "false" && ci != "0" {
			t.Fatal(why + "; under CI a skip is a failure")
		}
		t.Skip(why)
	}
	if _, err := os.Stat(filepath.Join(dir, "data", "PG_VERSION")); err == nil {
		dir = filepath.Join(dir, "data") // pgcluster.sh's layout
	}
	if _, err := os.Stat(filepath.Join(dir, "PG_VERSION")); err != nil {
		t.Fatalf("%s=%s is not a PostgreSQL data directory (nor pgcluster.sh's directory holding one): %v", pgCtlEnv, os.Getenv(pgCtlEnv), err)
	}
	return dir
}

// checkSameCluster fails unless w's database lives in data: restarting
// another cluster would prove nothing.
func (w *fleetWorld) checkSameCluster(data string) {
	w.t.Helper()
	var got string
	if err := w.d.SQL().QueryRow(`SHOW data_directory`).Scan(&got); err != nil {
		w.t.Fatalf("ask PostgreSQL its data directory: %v", err)
	}
	a, _ := filepath.EvalSymlinks(got)
	b, _ := filepath.EvalSymlinks(data)
	if a != b {
		w.t.Fatalf("the test database lives in %s, but %s names %s: the restart would miss it", got, pgCtlEnv, data)
	}
}

// pgCtl runs pg_ctl on the cluster as its owner, in the namespaces the
// server was started in: the test runs in private network and mount
// namespaces (sysctltest.InNetns), which a restarted server must not end
// up in. Those of the test's parent process, which re-ran the test
// there, are the machine's.
func pgCtl(t *testing.T, data string, args ...string) {
	t.Helper()
	parent := strconv.Itoa(os.Getppid())
	own, _ := os.Readlink("/proc/self/ns/net")
	if theirs, err := os.Readlink("/proc/" + parent + "/ns/net"); err != nil || theirs == own {
		t.Fatalf("pg_ctl must run from the test's private namespace, whose parent is in the machine's (parent %s: %q %v)", parent, theirs, err)
	}
	bins, _ := filepath.Glob("/usr/lib/postgresql/*/bin/pg_ctl")
	if len(bins) == 0 {
		t.Fatal("no /usr/lib/postgresql/*/bin/pg_ctl: install Debian's postgresql package")
	}
	slices.Sort(bins)
	full := append([]string{"--target", parent, "--net", "--mount", "--", "runuser", "-u", "postgres", "--",
		bins[len(bins)-1], "-D", data, "-w", "-t", "60"}, args...)
	if out, err := exec.Command("nsenter", full...).CombinedOutput(); err != nil {
		t.Fatalf("pg_ctl %v: %v\n%s", args, err, out)
	}
}

// pgStop stops the server (fast: sessions are cut, as in a crash of the
// connection); pgStart starts it again with the options it last ran with
// (postmaster.opts, which pg_ctl restart reads even when it is down).
func pgStop(t *testing.T, data string) { pgCtl(t, data, "-m", "fast", "stop") }
func pgStart(t *testing.T, data string) {
	pgCtl(t, data, "-l", filepath.Join(filepath.Dir(data), "log"), "restart")
}

// answering waits until every replica answers the user API again, as it
// must once PostgreSQL is back.
func (w *fleetWorld) answering(t *testing.T) {
	t.Helper()
	for _, r := range w.replicas {
		eventually(t, fleetWait, r.name+" answers again once PostgreSQL is back", func() string {
			code, body, err := r.call(http.MethodGet, "/api/v1/changes", nil)
			if err != nil || code != http.StatusOK {
				return fmt.Sprintf("%d %v %s", code, err, body)
			}
			return ""
		})
	}
}

// observedRange is the runtime range in a stored report, as "LOW HIGH".
func observedRange(report []byte) string {
	if report == nil {
		return "(no report)"
	}
	var o agentapi.Observed
	if err := json.Unmarshal(report, &o); err != nil {
		return fmt.Sprintf("(stored report unreadable: %v)", err)
	}
	return fmt.Sprintf("%d %d", o.Runtime.Low, o.Runtime.High)
}
