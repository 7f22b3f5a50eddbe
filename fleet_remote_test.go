package main

import (
	"bytes"
	"context"
	"errors"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"portpanel/sysctl/sysctltest"
)

// TestRemoteChangeFromTheTerminal changes an enrolled host from the
// terminal client with --host, end to end and with no stand-ins: one
// portpanel serve on SQLite requiring approval, one portpanel agent in a
// network namespace of its own reaching it over a Unix socket, and
// portpanel's client commands. Each step is checked at the namespace's
// real /proc/sys and the host's managed file: a proposal changes nothing,
// its approval applies it, a rollback restores the file byte for byte,
// and a commit-confirmed change is confirmed through the host's agent.
func TestRemoteChangeFromTheTerminal(t *testing.T) {
	if !sysctltest.InNetns(t) {
		return
	}
	if out, err := exec.Command("ip", "link", "set", "lo", "up").CombinedOutput(); err != nil {
		t.Fatalf("ip link set lo up: %v\n%s", err, out)
	}
	bin := buildFaultBinary(t)
	w := newFleetWorldOn(t, bin, filepath.Join(t.TempDir(), "control.db"))
	w.serveArgs = []string{"--require-approval"}
	olga := userToken(t, bin, w.dsn, "olga", "operator")
	bob := userToken(t, bin, w.dsn, "bob", "approver")
	r := w.startReplica(t, 0)
	h := w.newHost(t, "h1")
	token := strings.SplitN(runCLI(t, bin, "", "enroll", "create", "--group", "remote", "--db", w.dsn), "\n", 2)[0]
	w.startAgent(t, h, token, "")
	eventually(t, fleetWait, "h1 reports", func() string {
		if row, err := w.d.HostByName(context.Background(), "h1"); err != nil || row.ReportedAt == nil {
			return "no report yet"
		}
		return ""
	})
	before := h.file(t)
	client := func(tok string, args ...string) (string, int) {
		t.Helper()
		return runClient(t, bin, r.base, tok, args...)
	}

	// Olga's change is a proposal: the preview is the agent's, nothing moves.
	out, code := client(olga, "change", "20000", "40000", "--reason", "INC-1: widen h1", "--host", "h1", "--ack", "small-range",
		"--ack", "connections-outside", "--ack", "below-busiest", "--ack", "listener-in-range", "--yes")
	if code != 3 || !strings.Contains(out, "+net.ipv4.ip_local_port_range = 20000 40000") || !strings.Contains(out, "approve 1 --host h1") {
		t.Fatalf("olga's change: exit %d, want 3 with the agent's diff and the approve command\n%s", code, out)
	}
	if got := h.kernel(t); got != fleetDefault || h.file(t) != before {
		t.Fatalf("a proposal changed h1: kernel %q", got)
	}
	if out, code := client(olga, "approve", "1", "--host", "h1"); code == 0 {
		t.Errorf("olga approves her own change: exit 0\n%s", out)
	}
	if out, code := client(bob, "approve", "1", "--host", "h2"); code == 0 || !strings.Contains(out, "h1's, not host h2's") {
		t.Errorf("approving h1's change as h2's: exit %d\n%s", code, out)
	}
	out, code = client(bob, "approve", "1", "--host", "h1")
	if code != 0 || h.kernel(t) != "20000 40000" || h.fileRange(t) != "20000 40000" {
		t.Fatalf("bob approves: exit %d, h1's kernel %q file %q, want 20000 40000\n%s", code, h.kernel(t), h.fileRange(t), out)
	}
	if out, code := client(olga, "status", "--host", "h1"); code != 0 || !strings.Contains(out, "h1  (group remote)") {
		t.Errorf("status --host h1: exit %d\n%s", code, out)
	}
	if out, _ := client(bob, "show", "1", "--host", "h1"); !strings.Contains(out, "applied on host h1") {
		t.Errorf("show --host h1 does not say the change is applied on h1:\n%s", out)
	}

	// Bob, an approver, rolls it back at once: the file byte for byte.
	out, code = client(bob, "rollback", "1", "--host", "h1", "--reason", "INC-1: back", "--yes")
	if code != 0 || h.kernel(t) != fleetDefault || h.file(t) != before {
		t.Fatalf("rollback: exit %d, h1's kernel %q, file restored %v\n%s", code, h.kernel(t), h.file(t) == before, out)
	}

	// Commit confirmed: held by the agent, confirmed through it.
	if _, code := client(bob, "change", "21000", "41000", "--reason", "INC-2: try", "--host", "h1", "--confirm-within", "2m",
		"--ack", "small-range", "--ack", "connections-outside", "--ack", "below-busiest", "--ack", "listener-in-range", "--yes"); code != 3 {
		t.Fatalf("bob's change: exit %d, want a proposal", code)
	}
	out, code = client(olga, "changes", "--host", "h1", "--limit", "1")
	id := newestID(t, out, code)
	if out, code := client(olga, "approve", strconv.Itoa(id), "--host", "h1"); code == 0 {
		t.Errorf("an operator approves: exit 0\n%s", out)
	}
	w.secretApprove(t, r, id)
	if got := h.kernel(t); got != "21000 41000" {
		t.Fatalf("after approval h1's kernel reads %q", got)
	}
	out, code = client(olga, "confirm", strconv.Itoa(id), "--host", "h1")
	if code != 0 || !strings.Contains(out, "confirmed") {
		t.Errorf("confirm through the agent: exit %d\n%s", code, out)
	}
}

// userToken adds user name with role to dsn and returns an API token of it.
func userToken(t *testing.T, bin, dsn, name, role string) string {
	t.Helper()
	runCLI(t, bin, crashPassword+"\n", "user", "add", name, "--role", role, "--password-stdin", "--db", dsn)
	return strings.TrimSpace(runCLI(t, bin, "", "token", "create", "--user", name, "--db", dsn))
}

// runClient runs a terminal client command against base as the token's
// user and returns its output (stdout and stderr) and exit code.
func runClient(t *testing.T, bin, base, token string, args ...string) (string, int) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*fleetWait)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, append(args, "--server", base)...)
	cmd.Env = crashEnviron("PORTPANEL_TOKEN=" + token)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Run()
	var exit *exec.ExitError
	switch {
	case errors.As(err, &exit):
		return out.String(), exit.ExitCode()
	case err != nil:
		t.Fatalf("portpanel %s: %v\n%s", strings.Join(args, " "), err, &out)
	}
	return out.String(), 0
}

var firstID = regexp.MustCompile(`(?m)^\s*(\d+)\s`)

// newestID is the first change ID a changes listing shows.
func newestID(t *testing.T, out string, code int) int {
	t.Helper()
	m := firstID.FindStringSubmatch(out)
	if code != 0 || m == nil {
		t.Fatalf("changes: exit %d, no ID in\n%s", code, out)
	}
	id, _ := strconv.Atoi(m[1])
	return id
}

// secretApprove approves change id with the admin's token (alice).
func (w *fleetWorld) secretApprove(t *testing.T, r *fleetReplica, id int) {
	t.Helper()
	r.must(t, "POST", "/api/v1/changes/"+strconv.Itoa(id)+"/approve", map[string]any{}, nil, 200)
}
