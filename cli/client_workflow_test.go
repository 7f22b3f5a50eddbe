package cli

import (
	"encoding/json"
	"strings"
	"testing"

	"portpanel/sysctl/sysctltest"
)

// TestClientWorkflow runs the client's commands in the order of an
// incident against one real panel: each human output against its golden
// file, each --output json against the API's own answer, each exit status
// from a real answer of the server.
func TestClientWorkflow(t *testing.T) {
	if !sysctltest.InNetns(t) {
		return
	}
	e := newClientEnv(t)
	step := func(name, golden_ string, r result, code int) {
		t.Helper()
		t.Run(name, func(t *testing.T) {
			if r.code != code {
				t.Fatalf("want exit %d; %s", code, r)
			}
			if golden_ != "" {
				golden(t, golden_, e.scrub(r.stdout))
			}
		})
	}

	step("status", "status", e.as("vic", "status"), 0)
	t.Run("status as JSON is the API's two answers", func(t *testing.T) {
		r := e.as("vic", "status", "-o", "json")
		var got map[string]json.RawMessage
		if err := json.Unmarshal([]byte(r.stdout), &got); err != nil || r.code != 0 || len(got) != 2 {
			t.Fatalf("%v; %s", err, r)
		}
		sameJSON(t, "range", got["range"], e.api("vic", "GET", "/api/v1/range", ""))
		sameJSON(t, "usage", got["usage"], e.api("vic", "GET", "/api/v1/usage", ""))
	})
	step("usage", "usage", e.as("vic", "usage"), 0)
	t.Run("usage as JSON is the API's answer", func(t *testing.T) {
		r := e.as("vic", "usage", "--output", "json")
		if r.code != 0 || strings.TrimSpace(r.stdout) != strings.TrimSpace(string(e.api("vic", "GET", "/api/v1/usage", ""))) {
			t.Errorf("%s", r)
		}
	})

	const reason = "INC-4711: bursts to the DB proxy exhaust the range"
	step("a dry run previews and changes nothing", "change-dry-run",
		e.as("alice", "change", "20000", "60999", "--reason", reason, "--dry-run"), 0)
	t.Run("a dry run as JSON is the API's dry run", func(t *testing.T) {
		r := e.as("alice", "change", "20000", "60999", "--reason", reason, "--dry-run", "-o", "json")
		body := `{"low":20000,"high":60999,"reason":"` + reason + `","dry_run":true}`
		sameJSON(t, "dry run", []byte(r.stdout), e.api("alice", "POST", "/api/v1/changes", body))
		if got := kernelRange(t); got != "32768 60999" {
			t.Errorf("kernel %s after dry runs, want it untouched", got)
		}
	})
	t.Run("without a terminal and without --yes nothing is applied", func(t *testing.T) {
		r := e.as("alice", "change", "20000", "60999", "--reason", reason)
		if r.code != exitUsage || !strings.Contains(r.stderr, "add --yes") || kernelRange(t) != "32768 60999" {
			t.Errorf("want exit 2 asking for --yes, kernel untouched (%s); %s", kernelRange(t), r)
		}
	})
	step("change with --confirm-within", "change-applied",
		e.as("alice", "change", "20000", "60999", "--reason", reason, "--confirm-within", "5m", "--yes"), 0)
	if got := kernelRange(t); got != "20000 60999" {
		t.Fatalf("kernel %s after the change, want 20000 60999", got)
	}
	t.Run("another change while one awaits confirmation is stale", func(t *testing.T) {
		r := e.as("alice", "change", "25000", "60999", "--reason", "again", "--yes")
		if r.code != exitStale || !strings.Contains(r.stderr, "409: Change #1 awaits confirmation") {
			t.Errorf("want exit 4 naming change #1; %s", r)
		}
	})
	t.Run("completion offers the change awaiting confirmation", func(t *testing.T) {
		r := runMain("__complete", "confirm", "--server", e.url, "--token", e.tokens["alice"], "")
		if !strings.Contains(r.stdout, "1\tapplied 32768–60999 → 20000–60999 by alice: INC-4711") {
			t.Errorf("%s", r)
		}
	})
	step("confirm", "confirm", e.as("alice", "confirm", "1"), 0)
	step("changes", "changes", e.as("vic", "changes"), 0)
	t.Run("changes as JSON is the API's list", func(t *testing.T) {
		sameJSON(t, "changes", []byte(e.as("vic", "changes", "-o", "json").stdout), e.api("vic", "GET", "/api/v1/changes", ""))
	})
	step("show", "show", e.as("vic", "show", "1"), 0)
	t.Run("show as JSON is the API's change", func(t *testing.T) {
		r := e.as("vic", "show", "1", "-o", "json")
		if strings.TrimSpace(r.stdout) != strings.TrimSpace(string(e.api("vic", "GET", "/api/v1/changes/1", ""))) {
			t.Errorf("%s", r)
		}
	})
	step("rollback", "rollback", e.as("alice", "rollback", "1", "--reason", "INC-4711: fixed in the proxy", "--yes"), 0)
	if got := kernelRange(t); got != "32768 60999" {
		t.Fatalf("kernel %s after the rollback, want 32768 60999", got)
	}
	t.Run("a second rollback is stale", func(t *testing.T) {
		r := e.as("alice", "rollback", "1", "--reason", "again", "--yes")
		if r.code != exitStale || !strings.HasPrefix(r.stderr, "portpanel: 409: ") {
			t.Errorf("want exit 4; %s", r)
		}
	})
	step("audit", "audit", e.as("vic", "audit", "--since", "1h", "--action", "change"), 0)
	t.Run("audit as JSON is the API's events", func(t *testing.T) {
		sameJSON(t, "audit", []byte(e.as("vic", "audit", "-o", "json", "--limit", "100").stdout), e.api("vic", "GET", "/api/v1/audit", ""))
	})
	step("history", "history", e.as("vic", "history"), 0)
	t.Run("history as JSON is the API's samples and changes", func(t *testing.T) {
		var got map[string]json.RawMessage
		if err := json.Unmarshal([]byte(e.as("vic", "history", "-o", "json").stdout), &got); err != nil {
			t.Fatal(err)
		}
		var samples, changes map[string]json.RawMessage
		json.Unmarshal(e.api("vic", "GET", "/api/v1/history", ""), &samples)
		json.Unmarshal(e.api("vic", "GET", "/api/v1/changes", ""), &changes)
		sameJSON(t, "samples", got["samples"], samples["samples"])
		sameJSON(t, "changes", got["changes"], changes["changes"])
	})
}
