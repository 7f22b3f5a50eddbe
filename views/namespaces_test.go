package views_test

import (
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"

	"portpanel/sysctl"
	"portpanel/sysctl/netns"
	"portpanel/sysctl/usage"
	"portpanel/views"
)

const dockerID = "4f3c1c7bd5a0e2b3c4d5e6f708192a3b4c5d6e7f8091a2b3c4d5e6f708192a3b"

// namespacesPage has portpanel's own (the host's), a Docker container
// with its own range and a busy destination, and a namespace portpanel
// could not enter.
func namespacesPage() views.NamespacesPage {
	host := sysctl.KernelState{Range: sysctl.Range{Low: 20000, High: 60999}, UnprivilegedPortStart: 1024}
	ctr := sysctl.KernelState{Range: sysctl.DefaultRange, UnprivilegedPortStart: 1024, ReservedPorts: "8080"}
	busy := usage.Destination{LocalIP: netip.MustParseAddr("172.17.0.2"), Remote: netip.MustParseAddrPort("10.0.0.5:5432"), Sockets: 21000, Risk: 0.75}
	docker := netns.Namespace{Inode: 4026532300, Owner: netns.Owner{Kind: netns.KindDocker, ID: dockerID},
		ProcessCount: 25, Processes: []netns.Process{{PID: 4242, Comm: "java", Owner: netns.Owner{Kind: netns.KindDocker, ID: dockerID}}},
		Kernel: &ctr, RangeDiffers: true, ReservedDiffer: true,
		Usage: &usage.Snapshot{Range: ctr.Range, Capacity: 28231, TCP: map[string]int{usage.Established: 20000, usage.TimeWait: 1000}, UDP: 3,
			Busiest: &busy}}
	advice := netns.AdviceFor(docker, host.Range)
	return views.NamespacesPage{
		Chrome: chrome("namespaces"), Scanned: true, At: now.Add(-10 * time.Second),
		Self: views.NetnsLabel{ID: "net:[4026531833]", Host: true}, Reference: &host, Risk: risk,
		Limits: []string{"1 process's network namespace could not be read (permission denied)."},
		Rows: []views.NamespaceRow{
			{Namespace: netns.Namespace{Inode: 4026531833, Self: true, Initial: true, Owner: netns.Owner{Kind: netns.KindHost},
				ProcessCount: 1, Processes: []netns.Process{{PID: 1, Comm: "systemd"}}, Kernel: &host,
				Usage: &usage.Snapshot{Range: host.Range, Capacity: 41000, TCP: map[string]int{}}}},
			{Namespace: docker, Advice: &advice},
			{Namespace: netns.Namespace{Inode: 4026532400, Owner: netns.Owner{Kind: netns.KindOther}, ProcessCount: 1,
				Processes: []netns.Process{{PID: 77, Comm: "sleep"}}, Error: "portpanel may not enter it: setns needs CAP_SYS_ADMIN."}},
		},
	}
}

func TestNamespacesPage(t *testing.T) {
	doc, _ := render(t, views.Namespaces(namespacesPage()))
	if got := text(doc.Find(testid("ns-intro"))); !strings.Contains(got, "portpanel's own (net:[4026531833], the host's), whose range portpanel manages: 20000 – 60999.") {
		t.Errorf("intro = %q", got)
	}
	if got := text(doc.Find(testid("ns-summary"))); got != "3 network namespaces · 1 with a range other than portpanel's · 1 not read" {
		t.Errorf("summary = %q", got)
	}
	if got := text(doc.Find(testid("ns-limit"))); !strings.Contains(got, "permission denied") {
		t.Errorf("limits = %q", got)
	}
	rows := doc.Find(testid("ns-row"))
	cells := func(i int) string {
		var out []string
		rows.Eq(i).Find("th, td").Each(func(_ int, c *goquery.Selection) { out = append(out, text(c)) })
		return strings.Join(out, " | ")
	}
	for i, want := range []string{
		"net:[4026531833] portpanel's host | the host | 1 | 20000 – 60999 | none | 0 | no outgoing connection",
		"net:[4026532300] | Docker container 4f3c1c7bd5a0 | 25 | 32768 – 60999 ⚠ differs | 8080 | 21,003 | 75% ⚠ Warning",
		"net:[4026532400] | no container or unit recognised | 1 | not read |  |  | ",
	} {
		if got := cells(i); got != want {
			t.Errorf("row %d = %q, want %q", i, got, want)
		}
	}
	card := doc.Find(`[data-testid="namespace"][data-inode="4026532300"]`)
	if !card.HasClass("card-warn") {
		t.Error("the differing namespace's card is not marked")
	}
	for id, want := range map[string]string{
		"ns-range":          "32768 – 60999 · 28,232 ports ⚠ Differs from portpanel's 20000 – 60999",
		"ns-reserved":       "8080 · portpanel's namespace reserves none",
		"ns-sockets":        "TCP 21,000 (ESTABLISHED 20,000, TIME_WAIT 1,000) · UDP 3",
		"ns-busiest":        "10.0.0.5:5432 from 172.17.0.2 · 21,000 sockets · 75% of 28,231 ports ⚠ Warning",
		"ns-advice-lasting": `docker run --sysctl net.ipv4.ip_local_port_range="20000 60999" …`,
		"ns-advice-now":     `nsenter --net=/proc/4242/ns/net sysctl -w "net.ipv4.ip_local_port_range=20000 60999"`,
		"ns-more":           "and 24 more",
	} {
		if got := text(card.Find(testid(id))); got != want {
			t.Errorf("%s = %q, want %q", id, got, want)
		}
	}
	if got := text(doc.Find(`[data-inode="4026532400"] ` + testid("ns-error"))); !strings.Contains(got, "CAP_SYS_ADMIN") {
		t.Errorf("error = %q", got)
	}
	if doc.Find(`[data-inode="4026531833"] `+testid("ns-self-hint")).Length() != 1 {
		t.Error("portpanel's own card does not say the dashboard's figures are its")
	}
	if href, _ := rows.Eq(1).Find("a").Attr("href"); href != "#ns-4026532300" || card.AttrOr("id", "") != "ns-4026532300" {
		t.Errorf("row links to %q, card id %q", href, card.AttrOr("id", ""))
	}
}

func TestNamespacesPageBeforeTheFirstScan(t *testing.T) {
	doc, _ := render(t, views.Namespaces(views.NamespacesPage{Chrome: chrome("namespaces")}))
	if doc.Find(testid("ns-empty")).Length() != 1 || doc.Find(testid("ns-table")).Length() != 0 {
		t.Error("no empty state")
	}
	if cur, _ := doc.Find(`nav a[href="/namespaces"]`).Attr("aria-current"); cur != "page" {
		t.Error("Namespaces is not the current section")
	}
}

func TestUsageSaysWhoseSockets(t *testing.T) {
	for _, tt := range []struct {
		name string
		ns   views.NetnsLabel
		want string
	}{
		{"the host's", views.NetnsLabel{ID: "net:[4026531833]", Host: true},
			"Sockets in portpanel's network namespace (net:[4026531833], the host's). Containers and pods have their own; see Namespaces."},
		{"a container's", views.NetnsLabel{ID: "net:[4026532300]"},
			"Sockets in portpanel's network namespace (net:[4026532300], not the host's). The host and each container have their own; see Namespaces."},
		{"unknown", views.NetnsLabel{},
			"Sockets in portpanel's network namespace. Containers and pods have their own; see Namespaces."},
	} {
		t.Run(tt.name, func(t *testing.T) {
			p := dashboard()
			p.UsageNetns = tt.ns
			doc, _ := render(t, views.Dashboard(p))
			if got := text(doc.Find(testid("usage-netns"))); got != tt.want {
				t.Errorf("label = %q, want %q", got, tt.want)
			}
		})
	}
}
