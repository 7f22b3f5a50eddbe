package web_test

import (
	"net/http"
	"os"
	"strings"
	"testing"

	"portpanel/auth"
	"portpanel/sysctl"
	"portpanel/sysctl/sysctltest"
)

const reservedProc = "/proc/sys/net/ipv4/ip_local_reserved_ports"

func kernelReserved(t *testing.T) string {
	t.Helper()
	b, err := os.ReadFile(reservedProc)
	if err != nil {
		t.Fatal(err)
	}
	return strings.TrimSpace(string(b))
}

// The change form sets the reserved ports when its box is ticked: the
// review shows both keys and the one diff, and the apply sets both.
func TestFormSetsReservedPorts(t *testing.T) {
	if !sysctltest.InNetns(t) {
		return
	}
	e := newEnv(t, sysctltest.ProcSys())
	op := e.login(t, auth.RoleOperator)
	dash := body(op.get("/"))
	if hiddenInput(t, dash, "base_reserved") != "" || !strings.Contains(dash, `name="set_reserved"`) {
		t.Fatalf("the dashboard's form lacks the reserved ports:\n%s", dash)
	}
	form := with(changeForm(op.csrf("/"), "1024", "65001", "widen, keep the database"), "base_reserved", "")

	// Without the box ticked the list is not part of the change.
	review := body(op.post("/changes", with(form, "reserved_ports", "5432")))
	if !strings.Contains(review, `data-testid="review-reserved-kept"`) || strings.Contains(review, "ip_local_reserved_ports =") {
		t.Errorf("an unticked list changed the review:\n%s", review)
	}

	form = with(form, "set_reserved", "yes", "reserved_ports", " 8443,5432 ")
	res := op.post("/changes", form)
	review = body(res)
	if res.StatusCode != http.StatusOK || !mentions(review, "+net.ipv4.ip_local_reserved_ports = 5432,8443") ||
		!mentions(review, "+"+rangeLine("1024", "65001")) || !strings.Contains(review, `data-testid="review-reserved-after">5432,8443<`) {
		t.Fatalf("review: %d, want both keys and their diff\n%s", res.StatusCode, review)
	}
	if kernelReserved(t) != "" {
		t.Fatal("the review changed the kernel")
	}
	res = op.post("/changes", with(form, "confirm", "yes", "base_file", hiddenInput(t, review, "base_file")))
	if res.StatusCode != http.StatusSeeOther {
		t.Fatalf("confirm: %d\n%s", res.StatusCode, body(res))
	}
	assertKernel(t, sysctl.Range{Low: 1024, High: 65001})
	if got := kernelReserved(t); got != "5432,8443" {
		t.Errorf("kernel reserved ports %q", got)
	}
	page := body(op.get(res.Header.Get("Location")))
	if !strings.Contains(page, `data-testid="reserved-after">5432,8443<`) {
		t.Errorf("the change page does not show the reserved ports:\n%s", page)
	}
	dash = body(op.get("/"))
	if !strings.Contains(dash, `data-testid="boot-reserved"`) || !mentions(dash, "5432,8443") || strings.Contains(dash, `data-testid="reserved-drift"`) {
		t.Errorf("the dashboard's boot value lacks the reserved ports:\n%s", dash)
	}
}

func TestFormReservedPortsRefusals(t *testing.T) {
	if !sysctltest.InNetns(t) {
		return
	}
	e := newEnv(t, sysctltest.ProcSys())
	op := e.login(t, auth.RoleOperator)
	form := with(changeForm(op.csrf("/"), "1024", "65001", "widen"), "base_reserved", "", "set_reserved", "yes")

	res := op.post("/changes", with(form, "reserved_ports", "8080, 9000"))
	page := body(res)
	if res.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(page, `id="reserved_ports-error"`) {
		t.Errorf("a list with a space: %d, want 422 with the error under the field\n%s", res.StatusCode, page)
	}

	// The reserved ports changed by hand between review and confirm.
	review := body(op.post("/changes", with(form, "reserved_ports", "5432")))
	if err := os.WriteFile(reservedProc, []byte("7000\n"), 0); err != nil {
		t.Fatal(err)
	}
	res = op.post("/changes", with(form, "reserved_ports", "5432", "confirm", "yes", "base_file", hiddenInput(t, review, "base_file")))
	page = body(res)
	if res.StatusCode != http.StatusConflict || !mentions(page, "reserved ports are now 7000") {
		t.Errorf("confirm after the list changed: %d, want 409\n%s", res.StatusCode, page)
	}
	assertKernel(t, kernelDefault)
	dash := body(op.get("/"))
	if !strings.Contains(dash, `data-testid="reserved-drift"`) {
		t.Errorf("the dashboard does not mark the reserved ports changed by hand:\n%s", dash)
	}
}
