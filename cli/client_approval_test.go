package cli

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"portpanel/sysctl/sysctltest"
)

// TestClientApproval runs the client against a panel that requires
// approval: a change waits (exit 3) with the command to approve it, the
// author's role cannot approve (exit 1), an approver can, and rejects.
func TestClientApproval(t *testing.T) {
	if !sysctltest.InNetns(t) {
		return
	}
	e := newClientEnv(t, "--require-approval")
	r := e.as("alice", "change", "20000", "60999", "--reason", "INC-4711: widen", "--yes")
	if r.code != exitWaiting || kernelRange(t) != "32768 60999" {
		t.Fatalf("want exit 3 and the kernel untouched (%s); %s", kernelRange(t), r)
	}
	golden(t, "change-proposed", e.scrub(r.stdout))
	if r.stderr != "" {
		t.Errorf("waiting for approval is no error, yet stderr says %q", r.stderr)
	}
	if r := e.as("alice", "approve", "1"); r.code != exitFailed || !strings.Contains(r.stderr, "your role operator cannot approve changes; an approver or admin must") {
		t.Errorf("the author approves: %s", r)
	}
	r = e.as("bob", "approve", "1", "--reason", "checked with the DB team")
	if r.code != exitOK || kernelRange(t) != "20000 60999" {
		t.Fatalf("bob approves: kernel %s; %s", kernelRange(t), r)
	}
	golden(t, "approve", e.scrub(r.stdout))
	if r := e.as("alice", "change", "15000", "60999", "--reason", "wider still", "--yes", "-o", "json"); r.code != exitWaiting || !strings.Contains(r.stdout, `"status":"proposed"`) || !strings.Contains(r.stderr, "portpanel approve 2") {
		t.Errorf("a proposal as JSON: the change on stdout, the advice on stderr; %s", r)
	}
	if r := e.as("bob", "reject", "2", "--reason", "too wide"); r.code != exitOK || !strings.Contains(r.stdout, "Rejected change #2") {
		t.Errorf("bob rejects: %s", r)
	}
	if r := e.as("bob", "changes", "--status", "rejected"); r.code != exitOK || !strings.Contains(r.stdout, "2   rejected") || strings.Contains(r.stdout, "applied") {
		t.Errorf("changes --status rejected: %s", r)
	}
}

// TestClientStatusCritical: status exits 1 when the busiest destination's
// risk is critical (here three connections against thresholds set low).
func TestClientStatusCritical(t *testing.T) {
	if !sysctltest.InNetns(t) {
		return
	}
	e := newClientEnv(t, "--risk-warning", "0.001", "--risk-critical", "0.005")
	r := e.as("vic", "status")
	if r.code != exitFailed || !strings.Contains(r.stdout, "risk 0.01% (critical)") || !strings.Contains(r.stderr, "critical: 127.0.0.1:5432") {
		t.Errorf("want exit 1 with the critical destination; %s", r)
	}
	if r := e.as("vic", "status", "-o", "json"); r.code != exitFailed {
		t.Errorf("as JSON too: %s", r)
	}
}

// TestClientTLS checks the certificate: a private CA by --ca-file, a
// refusal without it (exit 6), and --insecure, which warns.
func TestClientTLS(t *testing.T) {
	if !sysctltest.InNetns(t) {
		return
	}
	certFile, keyFile, _ := selfSigned(t)
	e := newClientEnv(t, "--tls-cert", certFile, "--tls-key", keyFile)
	url := "https://127.0.0.1:" + e.port
	tok := e.tokens["vic"]
	if r := runMain("status", "--server", url, "--token", tok, "--ca-file", certFile); r.code != exitOK || r.stderr != "" {
		t.Errorf("with --ca-file: %s", r)
	}
	if r := runMain("status", "--server", url, "--token", tok); r.code != exitUnreachable || !strings.Contains(r.stderr, "certificate") {
		t.Errorf("without the CA: want exit 6 naming the certificate; %s", r)
	}
	for range 2 {
		r := runMain("status", "--server", url, "--token", tok, "--insecure")
		if r.code != exitOK || !strings.Contains(r.stderr, "warning: --insecure: the server's certificate is not verified") {
			t.Errorf("--insecure works and warns, every time: %s", r)
		}
	}
	junk := filepath.Join(t.TempDir(), "junk.pem")
	os.WriteFile(junk, []byte("not a certificate"), 0o644)
	if r := runMain("status", "--server", url, "--token", tok, "--ca-file", junk); r.code != exitUnreachable || !strings.Contains(r.stderr, "holds no PEM certificate") {
		t.Errorf("a --ca-file without a certificate: %s", r)
	}
}
