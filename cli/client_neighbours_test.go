package cli

import (
	"net"
	"os"
	"regexp"
	"strings"
	"testing"
	"time"

	"portpanel/sysctl/sysctltest"
)

// The client's --ack and --reserved-ports against the hazard gate and the
// reserved ports of issue 13 (acknowledge and reserved_ports on POST
// /api/v1/changes, acknowledge on approve).

// TestClientHazardNeedsAck: a hazardous change is refused with the
// hazards' codes (exit 5) and nothing changes; acknowledged, it applies.
func TestClientHazardNeedsAck(t *testing.T) {
	if !sysctltest.InNetns(t) {
		return
	}
	e := newClientEnv(t)
	// 500 ports: fewer than 1,000, yet enough for the test's own
	// connections to the panel.
	r := e.as("alice", "change", "15000", "15499", "--reason", "lab", "--yes")
	if r.code != exitHazard || !strings.Contains(r.stderr, "--ack small-range") || kernelRange(t) != "32768 60999" {
		t.Fatalf("want exit 5 naming small-range and the kernel untouched (%s); %s", kernelRange(t), r)
	}
	var acks []string
	for _, m := range regexp.MustCompile(`--ack (\S+)`).FindAllStringSubmatch(r.stderr, -1) {
		acks = append(acks, "--ack", m[1])
	}
	if r := e.as("alice", append([]string{"change", "15000", "15499", "--reason", "lab", "--dry-run"}, acks...)...); r.code != exitOK {
		t.Errorf("a dry run with every hazard acknowledged: %s", r)
	}
	r = e.as("alice", append([]string{"change", "15000", "15499", "--reason", "lab", "--yes"}, acks...)...)
	if r.code != exitOK || kernelRange(t) != "15000 15499" {
		t.Errorf("acknowledged: want exit 0 and the change applied (%s); %s", kernelRange(t), r)
	}
}

// TestClientHazardOnApproval: a hazard that appears after a proposal (a
// service starts listening inside the range it would cover) makes the
// server refuse the approval with 422 naming it (exit 5) until the
// approver acknowledges it.
func TestClientHazardOnApproval(t *testing.T) {
	if !sysctltest.InNetns(t) {
		return
	}
	e := newClientEnv(t, "--require-approval", "--sample-interval", "1s")
	if r := e.as("alice", "change", "20000", "60999", "--reason", "widen", "--yes"); r.code != exitWaiting {
		t.Fatalf("%s", r)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:25000")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	// Until the sampler has seen the listener, the dry run of the same
	// change names it.
	for deadline := time.Now().Add(15 * time.Second); ; time.Sleep(200 * time.Millisecond) {
		r := e.as("alice", "change", "20000", "60999", "--reason", "widen", "--dry-run", "-o", "json")
		if strings.Contains(r.stdout, `"port":25000`) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the sampler never saw the listener on 25000: %s", r)
		}
	}
	r := e.as("bob", "approve", "1")
	if r.code != exitHazard || !strings.Contains(r.stderr, "422: ") || !strings.Contains(r.stderr, "--ack listener-in-range") || kernelRange(t) != "32768 60999" {
		t.Fatalf("want exit 5 from the server's 422 naming listener-in-range, the kernel untouched (%s); %s", kernelRange(t), r)
	}
	if r := e.as("bob", "approve", "1", "--ack", "listener-in-range"); r.code != exitOK || kernelRange(t) != "20000 60999" {
		t.Errorf("acknowledged: kernel %s; %s", kernelRange(t), r)
	}
}

// TestClientReservedPorts: --reserved-ports sets the reserved ports in the
// same change, the preview, status and show say so, and a rollback puts
// the list back.
func TestClientReservedPorts(t *testing.T) {
	if !sysctltest.InNetns(t) {
		return
	}
	e := newClientEnv(t)
	args := []string{"change", "20000", "60999", "--reserved-ports", "45000,46000-46009", "--reason", "keep the admin ports"}
	if r := e.as("alice", append(args, "--dry-run")...); r.code != exitOK || !shows(r.stdout, "Reserved", "none → 45000,46000-46009") {
		t.Errorf("the preview does not show the reserved ports:\n%s", r)
	}
	if r := e.as("alice", append(args, "--yes")...); r.code != exitOK {
		t.Fatalf("%s", r)
	}
	if got := reservedPorts(t); got != "45000,46000-46009" || kernelRange(t) != "20000 60999" {
		t.Errorf("kernel: range %s, reserved %q; want 20000 60999 and 45000,46000-46009", kernelRange(t), got)
	}
	if r := e.as("vic", "status"); !shows(r.stdout, "Reserved", "45000,46000-46009") {
		t.Errorf("status does not show the reserved ports:\n%s", r)
	}
	if r := e.as("vic", "show", "1"); !shows(r.stdout, "Reserved", "none → 45000,46000-46009") {
		t.Errorf("show does not show the reserved ports:\n%s", r)
	}
	r := e.as("alice", "rollback", "1", "--reason", "not needed", "--yes")
	if r.code != exitOK || !shows(r.stdout, "Reserved", "45000,46000-46009 → none") || reservedPorts(t) != "" {
		t.Errorf("rollback: reserved %q after it; %s", reservedPorts(t), r)
	}
	// By hand, as sysctl -w would: the host no longer boots with it.
	if err := os.WriteFile("/proc/sys/net/ipv4/ip_local_reserved_ports", []byte("47000\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if r := e.as("vic", "status"); !shows(r.stdout, "Reserved", "47000  drift: the host boots with none (no file sets them)") {
		t.Errorf("status does not show the reserved ports' drift:\n%s", r)
	}
}

func reservedPorts(t *testing.T) string {
	t.Helper()
	b, err := os.ReadFile("/proc/sys/net/ipv4/ip_local_reserved_ports")
	if err != nil {
		t.Fatal(err)
	}
	return strings.TrimSpace(string(b))
}

// shows reports whether out has a line with label, then value.
func shows(out, label, value string) bool {
	return regexp.MustCompile(`(?m)^` + regexp.QuoteMeta(label) + ` +` + regexp.QuoteMeta(value) + `$`).MatchString(out)
}
