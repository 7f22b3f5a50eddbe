package main

import (
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"

	"portpanel/agentapi"
)

// PostgreSQL's restart in TestFleetIntegration. The test restarts the
// cluster its database is in, so it must be one no other test is using at
// that moment: PORTPANEL_TEST_PG_CTL names it (the directory
// db/dbtest/pgcluster.sh made it in, which halts and resumes it), and
// test.sh runs the test in a serial phase of its own (fleet-design.md).

const pgCtlEnv = "PORTPANEL_TEST_PG_CTL"

// fleetPGDir is the pgcluster.sh directory of the cluster the test may
// restart. Without it the test skips, and fails under CI.
func fleetPGDir(t *testing.T) string {
	t.Helper()
	dir := os.Getenv(pgCtlEnv)
	if dir == "" {
		why := pgCtlEnv + " is not set: this test restarts PostgreSQL, so it needs a cluster it may restart (test.sh's serial phase sets it)"
		if ci := os.Getenv("CI"); ci != "" && ci != "false" && ci != "0" {
			t.Fatal(why + "; under CI a skip is a failure")
		}
		t.Skip(why)
	}
	if _, err := os.Stat(filepath.Join(dir, "data", "PG_VERSION")); err != nil {
		t.Fatalf("%s=%s is not a directory db/dbtest/pgcluster.sh started a cluster in: %v", pgCtlEnv, dir, err)
	}
	return dir
}

// checkSameCluster fails unless w's database lives in the cluster of
// pgcluster.sh directory dir: restarting another would prove nothing.
func (w *fleetWorld) checkSameCluster(dir string) {
	w.t.Helper()
	var got string
	if err := w.d.SQL().QueryRow(`SHOW data_directory`).Scan(&got); err != nil {
		w.t.Fatalf("ask PostgreSQL its data directory: %v", err)
	}
	a, _ := filepath.EvalSymlinks(got)
	b, _ := filepath.EvalSymlinks(filepath.Join(dir, "data"))
	if a != b {
		w.t.Fatalf("the test database lives in %s, but %s names %s: the restart would miss it", got, pgCtlEnv, dir)
	}
}

// pgCluster runs pgcluster.sh halt or resume on dir, in the namespaces
// the server was started in: the test runs in private network and mount
// namespaces (sysctltest.InNetns), which a resumed server must not end up
// in. Those of the test's parent process, which re-ran the test there,
// are the machine's.
func pgCluster(t *testing.T, cmd, dir string) {
	t.Helper()
	parent := strconv.Itoa(os.Getppid())
	own, _ := os.Readlink("/proc/self/ns/net")
	if theirs, err := os.Readlink("/proc/" + parent + "/ns/net"); err != nil || theirs == own {
		t.Fatalf("pgcluster.sh must run from the test's private namespace, whose parent is in the machine's (parent %s: %q %v)", parent, theirs, err)
	}
	script, err := filepath.Abs(filepath.Join("db", "dbtest", "pgcluster.sh"))
	if err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command("nsenter", "--target", parent, "--net", "--mount", "--", script, cmd, dir).CombinedOutput(); err != nil {
		t.Fatalf("pgcluster.sh %s %s: %v\n%s", cmd, dir, err, out)
	}
}

// pgStop stops the server (fast: sessions are cut); pgStart starts it
// again as pgcluster.sh started it.
func pgStop(t *testing.T, dir string)  { pgCluster(t, "halt", dir) }
func pgStart(t *testing.T, dir string) { pgCluster(t, "resume", dir) }

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
