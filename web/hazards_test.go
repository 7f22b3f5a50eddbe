package web_test

import (
	"context"
	"net"
	"net/http"
	"net/url"
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/PuerkitoBio/goquery"

	"portpanel/auth"
	"portpanel/db"
	"portpanel/sysctl"
	"portpanel/sysctl/sysctltest"
)

// hazardEnv is a panel in a private network namespace whose range is
// 50000-50999, with services listening on 127.0.0.1:5432 (TCP) and :5353
// (UDP). The test server's own port, taken from that range, is reserved,
// so the requests of the test never make a change hazardous by
// themselves: the services decide.
func hazardEnv(t *testing.T) *env {
	t.Helper()
	writeKernelByHand(t, "50000", "50999")
	e := newEnv(t, sysctltest.ProcSys())
	u, _ := url.Parse(e.srv.URL)
	writeReservedByHand(t, u.Port())
	serve(t, "tcp", "127.0.0.1:5432")
	serve(t, "udp", "127.0.0.1:5353")
	return e
}

func writeReservedByHand(t *testing.T, list string) {
	t.Helper()
	if err := os.WriteFile("/proc/sys/net/ipv4/ip_local_reserved_ports", []byte(list), 0); err != nil {
		t.Fatal(err)
	}
}

// serve listens (tcp) or binds (udp) on addr until the end of the test.
func serve(t *testing.T, network, addr string) {
	t.Helper()
	if network == "udp" {
		c, err := net.ListenPacket(network, addr)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { c.Close() })
		return
	}
	ln, err := net.Listen(network, addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
}

// sample runs the sampler once, as serve's loop does.
func (e *env) sample(t *testing.T) {
	t.Helper()
	if _, err := e.h.Changes.SampleUsage(context.Background()); err != nil {
		t.Fatal(err)
	}
}

type hazardOut struct {
	Code    string `json:"code"`
	Message string `json:"message"`
}

func hazardCodes(hs []hazardOut) []string {
	var out []string
	for _, h := range hs {
		out = append(out, h.Code)
	}
	return out
}

// TestReviewShowsListenersAndGatesHazards: widening to 1024-65000 takes in
// the two services. The review page and the dry run list them with their
// process and what the port usually is, explain the failure and offer the
// reserve line; applying without the acknowledgement changes nothing and
// answers 422 (page and API), with it the change applies and the audit
// event says what was acknowledged.
func TestReviewShowsListenersAndGatesHazards(t *testing.T) {
	if !sysctltest.InNetns(t) {
		return
	}
	e := hazardEnv(t)
	e.sample(t)
	op := e.login(t, auth.RoleOperator)
	api := e.bearer(t, "ci", auth.RoleOperator)
	wide := `{"low":1024,"high":65000,"reason":"the advice online"`

	// The dry run.
	res := op.postJSON("/api/v1/changes", wide+`,"dry_run":true}`, api.Clone())
	dry := decode[struct {
		Hazards   []hazardOut `json:"hazards"`
		Warnings  []string    `json:"warnings"`
		Listeners []struct {
			Port         int    `json:"port"`
			Proto        string `json:"proto"`
			Process      string `json:"process"`
			PID          int    `json:"pid"`
			Usually      string `json:"usually"`
			ListeningNow bool   `json:"listening_now"`
			Reserved     bool   `json:"reserved"`
		} `json:"listeners_in_range"`
		ReserveFix string `json:"reserve_fix"`
	}](t, res)
	if res.StatusCode != http.StatusOK || !slices.Equal(hazardCodes(dry.Hazards), []string{"listener-in-range"}) {
		t.Fatalf("dry run: %d, hazards %+v; want 200 and listener-in-range", res.StatusCode, dry.Hazards)
	}
	var seen []string
	for _, l := range dry.Listeners {
		if l.PID != os.Getpid() || !l.ListeningNow {
			t.Errorf("listener %+v: want this process (PID %d), listening now", l, os.Getpid())
		}
		if !l.Reserved {
			seen = append(seen, l.Proto+" "+l.Usually)
		}
	}
	if want := []string{"udp mDNS", "tcp PostgreSQL"}; !slices.Equal(seen, want) {
		t.Errorf("unreserved listeners %q, want %q", seen, want)
	}
	port := strings.TrimPrefix(e.srv.URL, "http://127.0.0.1:")
	if want := "net.ipv4.ip_local_reserved_ports = 5353,5432," + port; dry.ReserveFix != want {
		t.Errorf("reserve_fix %q, want %q", dry.ReserveFix, want)
	}
	if !slices.ContainsFunc(dry.Warnings, func(w string) bool {
		return strings.HasPrefix(w, "Port 5432/tcp") && strings.Contains(w, "EADDRINUSE")
	}) {
		t.Errorf("no warning for 5432 among %q", dry.Warnings)
	}

	// The API without, then with the acknowledgement.
	res = op.postJSON("/api/v1/changes", wide+`}`, api.Clone())
	refused := decode[struct {
		Error   string      `json:"error"`
		Hazards []hazardOut `json:"hazards"`
	}](t, res)
	if res.StatusCode != http.StatusUnprocessableEntity || !slices.Equal(hazardCodes(refused.Hazards), []string{"listener-in-range"}) ||
		!strings.Contains(refused.Error, "listener-in-range") {
		t.Fatalf("unacknowledged: %d %+v; want 422 naming listener-in-range", res.StatusCode, refused)
	}
	assertNothingChanged(t, e, op, "after the API's 422")

	// The review page, then confirm without ticking the box.
	form := changeForm(op.csrf("/"), "1024", "65000", "the advice online")
	form.Set("base_low", "50000")
	form.Set("base_high", "50999")
	res = op.post("/changes", form)
	page := doc(t, res)
	rows := page.Find(`[data-testid="review-listeners"] [data-testid="listener-row"]`)
	var ports []string
	rows.Each(func(_ int, s *goquery.Selection) { ports = append(ports, s.AttrOr("data-port", "")) })
	if !slices.Equal(ports, []string{"5353", "5432", port}) {
		t.Errorf("review lists listeners on %q, want 5353, 5432 and the panel's own %s", ports, port)
	}
	if why := page.Find(`[data-testid="review-listeners-why"]`).Text(); !strings.Contains(why, "EADDRINUSE") {
		t.Errorf("the review does not explain the failure: %q", why)
	}
	if fix := page.Find(`[data-testid="review-listeners-fix"]`).Text(); fix != dry.ReserveFix {
		t.Errorf("the review's fix %q, want the dry run's %q", fix, dry.ReserveFix)
	}
	box := page.Find(`[data-testid="hazards"] input[type="checkbox"][name="acknowledge"]`)
	if box.Length() != 1 || box.AttrOr("value", "") != "listener-in-range" || box.AttrOr("required", "no") == "no" ||
		box.AttrOr("form", "") != page.Find(`[data-testid="confirm-form"]`).AttrOr("id", "-") {
		t.Fatalf("the confirm form's hazard checkboxes: %d, value %q; want one required listener-in-range", box.Length(), box.AttrOr("value", ""))
	}
	// The one-click reserve reviews the same change with the listening
	// ports reserved too: no hazard is left.
	offer := page.Find(`[data-testid="reserve-form"]`)
	if got := page.Find(`[data-testid="reserve-offer-ports"]`).Text(); got != strings.TrimPrefix(dry.ReserveFix, "net.ipv4.ip_local_reserved_ports = ") {
		t.Errorf("the reserve offer sets %q, want the fix's list", got)
	}
	reserving := url.Values{}
	offer.Find(`input[type="hidden"]`).Each(func(_ int, in *goquery.Selection) {
		reserving.Add(in.AttrOr("name", ""), in.AttrOr("value", ""))
	})
	again := doc(t, op.post("/changes", reserving))
	if n := again.Find(`[data-testid="hazards"]`).Length(); n != 0 {
		t.Errorf("after the one-click reserve the review still lists hazards: %q", again.Find(`[data-testid="hazards"]`).Text())
	}
	if n := again.Find(`[data-testid="review-listeners"] .badge-warn`).Length(); n != 0 {
		t.Errorf("after the one-click reserve %d listeners are still unreserved", n)
	}

	confirm := with(form, "confirm", "yes", "base_file", hiddenInput(t, bodyOf(page), "base_file"))
	res = op.post("/changes", confirm)
	page = doc(t, res)
	if res.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(page.Find(`[data-testid="hazard-error"]`).Text(), "listener-in-range") {
		t.Fatalf("confirm without the box: %d, want 422 with the review page saying so", res.StatusCode)
	}
	assertNothingChanged(t, e, op, "after the page's 422")

	confirm.Add("acknowledge", "listener-in-range")
	res = op.post("/changes", confirm)
	if res.StatusCode != http.StatusSeeOther {
		t.Fatalf("confirm with the box: %d, want 303\n%s", res.StatusCode, body(res))
	}
	assertKernel(t, sysctl.Range{Low: 1024, High: 65000})
	list := apiChanges(t, op, nil)
	if len(list) != 1 || list[0].Status != db.StatusApplied {
		t.Fatalf("changes %+v, want one applied", list)
	}
	events, err := e.h.DB.Audit(context.Background(), 1, 0)
	if err != nil || events[0].Action != "change.applied" || !strings.Contains(events[0].Detail, "hazards acknowledged: listener-in-range") {
		t.Errorf("the audit event %+v, %v; want change.applied naming the acknowledgement", events, err)
	}
}

// assertNothingChanged: kernel, file and change list as hazardEnv left them.
func assertNothingChanged(t *testing.T, e *env, c *client, when string) {
	t.Helper()
	assertKernel(t, sysctl.Range{Low: 50000, High: 50999})
	if f := fileContent(t, e.file); f != "<absent>" {
		t.Errorf("%s the file is\n%s", when, f)
	}
	if list := apiChanges(t, c, nil); len(list) != 0 {
		t.Errorf("%s %d changes recorded, want none", when, len(list))
	}
}

func bodyOf(d *goquery.Document) string {
	h, _ := d.Html()
	return h
}

// TestDashboardShowsListenersInTheRange: the same check for the range in
// force; a reserved port is shown as safe and left out of the fix.
func TestDashboardShowsListenersInTheRange(t *testing.T) {
	if !sysctltest.InNetns(t) {
		return
	}
	e := hazardEnv(t)
	serve(t, "tcp", "127.0.0.1:50500") // inside the range
	e.sample(t)
	v := e.login(t, auth.RoleViewer)
	page := doc(t, v.get("/"))
	card := page.Find(`[data-testid="listeners"]`)
	var ports []string
	card.Find(`[data-testid="listener-row"]`).Each(func(_ int, s *goquery.Selection) {
		ports = append(ports, s.AttrOr("data-port", "")+" "+strings.Join(strings.Fields(s.Find("td").Last().Text()), " "))
	})
	port := strings.TrimPrefix(e.srv.URL, "http://127.0.0.1:")
	want := []string{"50500 not reserved", port + " ✓ reserved"}
	if port < "50500" {
		want[0], want[1] = want[1], want[0]
	}
	if !slices.Equal(ports, want) {
		t.Errorf("dashboard lists %q, want %q", ports, want)
	}
	if fix := card.Find(`[data-testid="listeners-fix"]`).Text(); fix != "net.ipv4.ip_local_reserved_ports = "+sortedPorts(port, "50500") {
		t.Errorf("dashboard fix %q", fix)
	}
}

func sortedPorts(a, b string) string {
	if a > b {
		a, b = b, a
	}
	return a + "," + b
}

// TestApprovalAsksForNewHazards: a proposal that was harmless gets a
// service inside its range before it is approved; the change page shows
// the approver the new hazard with a checkbox, approving without it keeps
// the proposal (page and API), with it the change applies.
func TestApprovalAsksForNewHazards(t *testing.T) {
	if !sysctltest.InNetns(t) {
		return
	}
	e := hazardEnv(t)
	e.h.Changes.RequireApproval = true
	e.sample(t)
	op := e.bearer(t, "olga", auth.RoleOperator)
	anon := e.client(t)
	res := anon.postJSON("/api/v1/changes", `{"low":50000,"high":59999,"reason":"more room"}`, op.Clone())
	p := decode[changeOut](t, res)
	if res.StatusCode != http.StatusAccepted {
		t.Fatalf("proposal: %d %+v", res.StatusCode, p)
	}
	serve(t, "tcp", "127.0.0.1:55555")
	e.sample(t)

	ap := e.loginAs(t, "anna", auth.RoleApprover)
	path := "/changes/" + itoa(p.ID)
	page := doc(t, ap.get(path))
	box := page.Find(`[data-testid="change-hazards"] input[name="acknowledge"]`)
	if box.Length() != 1 || box.AttrOr("value", "") != "listener-in-range" || box.AttrOr("form", "") != "approve-form-"+itoa(p.ID) {
		t.Fatalf("new hazards on the proposal: %d boxes (form %q), want listener-in-range for the approve form", box.Length(), box.AttrOr("form", ""))
	}
	if !strings.Contains(page.Find(`[data-testid="change-hazards"]`).Text(), "55555/tcp") {
		t.Errorf("the hazard does not name the new listener")
	}
	csrf := ap.csrf(path)
	res = ap.post(path+"/approve", url.Values{"csrf": {csrf}})
	if res.StatusCode != http.StatusSeeOther {
		t.Fatalf("approve without the box: %d, want 303 back to the change", res.StatusCode)
	}
	if got := decode[changeOut](t, anon.do(http.MethodGet, "/api/v1"+path, op.Clone(), nil)); got.Status != db.StatusProposed {
		t.Fatalf("after approving without the box the change is %s, want proposed", got.Status)
	}
	assertKernel(t, sysctl.Range{Low: 50000, High: 50999})

	apiAp := e.bearer(t, "bert", auth.RoleApprover)
	res = anon.postJSON("/api/v1"+path+"/approve", `{"reason":"seen"}`, apiAp.Clone())
	if res.StatusCode != http.StatusUnprocessableEntity {
		t.Fatalf("API approval without acknowledge: %d, want 422", res.StatusCode)
	}
	res = anon.postJSON("/api/v1"+path+"/approve", `{"reason":"seen","acknowledge":["listener-in-range"]}`, apiAp.Clone())
	done := decode[struct {
		Status       string   `json:"status"`
		Acknowledged []string `json:"acknowledged"`
	}](t, res)
	if res.StatusCode != http.StatusOK || done.Status != db.StatusApplied || !slices.Equal(done.Acknowledged, []string{"listener-in-range"}) {
		t.Fatalf("API approval with acknowledge: %d %+v", res.StatusCode, done)
	}
	assertKernel(t, sysctl.Range{Low: 50000, High: 59999})
}
