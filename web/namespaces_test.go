package web_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"testing"

	"github.com/PuerkitoBio/goquery"

	"portpanel/auth"
	"portpanel/sysctl"
	"portpanel/sysctl/netns"
	"portpanel/sysctl/netns/netnstest"
	"portpanel/sysctl/sysctltest"
)

// TestNamespacesReportChildren starts real child network namespaces, one
// with a range of its own (set inside it) and 3 loopback connections, one
// with the test's own range, scans, and checks the page, the API, the
// dashboard's label and /metrics.
func TestNamespacesReportChildren(t *testing.T) {
	own, err := sysctl.Kernel{ProcSys: "/proc/sys"}.Read()
	if err != nil {
		t.Fatal(err)
	}
	differs := netnstest.Start(t, netnstest.Spec{Range: "40000 50001", Reserved: "40500", Conns: 3})
	same := netnstest.Start(t, netnstest.Spec{Range: own.Range.String()})
	e := newEnv(t, sysctltest.ProcSys())
	e.h.Namespaces = &netns.Monitor{}
	sc, err := e.h.Namespaces.Refresh(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	self := netns.ID(sc.Self)
	viewer := e.login(t, auth.RoleViewer)
	dest := fmt.Sprintf("127.0.0.1:%d", netnstest.ListenPort)

	t.Run("page", func(t *testing.T) {
		res := viewer.get("/namespaces")
		if res.StatusCode != http.StatusOK {
			t.Fatalf("GET /namespaces: %d", res.StatusCode)
		}
		d := doc(t, res)
		if got := flat(d.Find(`[data-testid="ns-intro"]`)); !strings.Contains(got, "portpanel's own ("+self+", the host's)") ||
			!strings.Contains(got, own.Range.String()[:5]) {
			t.Errorf("intro = %q", got)
		}
		card := d.Find(`[data-testid="namespace"][data-inode="` + strconv.FormatUint(differs.Inode, 10) + `"]`)
		for id, want := range map[string]string{
			"ns-range":    "40000 – 50001",
			"ns-reserved": "40500",
			"ns-sockets":  "ESTABLISHED 6",
			"ns-busiest":  dest + " from 127.0.0.1 · 3 sockets",
		} {
			if got := flat(card.Find(`[data-testid="` + id + `"]`)); !strings.Contains(got, want) {
				t.Errorf("%s = %q, want it to hold %q", id, got, want)
			}
		}
		if got := flat(card.Find(`[data-testid="ns-range"]`)); !strings.Contains(got, "Differs from portpanel's") {
			t.Errorf("range %q is not marked as differing", got)
		}
		if got := flat(card.Find(`[data-testid="ns-advice-now"]`)); got != fmt.Sprintf(`nsenter --net=/proc/%d/ns/net sysctl -w "net.ipv4.ip_local_port_range=%s"`, differs.PID, own.Range) {
			t.Errorf("advice = %q", got)
		}
		if card.Find(`[data-testid="ns-process"]`).Length() != 1 {
			t.Errorf("processes = %q", flat(card.Find(`[data-testid="ns-processes"]`)))
		}
		rowOf := func(inode uint64) *goquery.Selection {
			return d.Find(`[data-testid="ns-row"][data-inode="` + strconv.FormatUint(inode, 10) + `"]`)
		}
		if rowOf(differs.Inode).Find(`[data-testid="ns-differs"]`).Length() != 1 {
			t.Error("the differing row has no mark")
		}
		sameCard := d.Find(`[data-testid="namespace"][data-inode="` + strconv.FormatUint(same.Inode, 10) + `"]`)
		if rowOf(same.Inode).Find(`[data-testid="ns-differs"]`).Length() != 0 || sameCard.Find(`[data-testid="ns-advice"]`).Length() != 0 {
			t.Error("the row with portpanel's range is marked")
		}
		if s := rowOf(sc.Self); s.Find(`[data-testid="ns-self"]`).Length() != 1 || s.Index() != 0 {
			t.Errorf("portpanel's own row: %q at %d", flat(s), s.Index())
		}
	})
	t.Run("API", func(t *testing.T) {
		res := e.client(t).do(http.MethodGet, "/api/v1/namespaces", e.bearer(t, "ci", auth.RoleViewer), nil)
		if res.StatusCode != http.StatusOK {
			t.Fatalf("GET /api/v1/namespaces: %d\n%s", res.StatusCode, body(res))
		}
		var got struct {
			Self       string
			Reference  struct{ Range struct{ Low, High int } }
			Namespaces []struct {
				Netns, Error  string
				Inode         uint64
				Self          bool
				ProcessCount  int `json:"process_count"`
				Processes     []struct{ PID int }
				Range         *struct{ Low, High int }
				ReservedPorts *string `json:"reserved_ports"`
				RangeDiffers  bool    `json:"range_differs"`
				Usage         *struct {
					Capacity int
					TCP      map[string]int
					Busiest  *struct {
						Destination string
						Sockets     int
						Risk        float64
					}
				}
				HowToSet *struct{ Now, Where string } `json:"how_to_set"`
			}
		}
		if err := json.NewDecoder(res.Body).Decode(&got); err != nil {
			t.Fatal(err)
		}
		if got.Self != self || got.Reference.Range.Low != own.Range.Low || len(got.Namespaces) < 3 || !got.Namespaces[0].Self {
			t.Fatalf("self %q reference %+v, %d namespaces", got.Self, got.Reference, len(got.Namespaces))
		}
		for _, n := range got.Namespaces {
			switch n.Inode {
			case differs.Inode:
				if n.Range == nil || n.Range.Low != 40000 || n.Range.High != 50001 || *n.ReservedPorts != "40500" || !n.RangeDiffers ||
					n.ProcessCount != 1 || n.Processes[0].PID != differs.PID || n.HowToSet == nil || n.Netns != netns.ID(differs.Inode) {
					t.Errorf("child with its own range: %+v", n)
				}
				if u := n.Usage; u == nil || u.Capacity != 10001 || u.TCP["ESTABLISHED"] != 6 || u.Busiest == nil ||
					u.Busiest.Destination != dest || u.Busiest.Sockets != 3 || u.Busiest.Risk != 3.0/10001 {
					t.Errorf("child's usage: %+v", n.Usage)
				}
			case same.Inode:
				if n.Range == nil || n.RangeDiffers || n.HowToSet != nil {
					t.Errorf("child with portpanel's range: %+v", n)
				}
			}
		}
	})
	t.Run("dashboard says whose sockets it shows", func(t *testing.T) {
		got := flat(doc(t, viewer.get("/")).Find(`[data-testid="usage-netns"]`))
		if want := "Sockets in portpanel's network namespace (" + self + ", the host's)."; !strings.HasPrefix(got, want) {
			t.Errorf("usage label = %q, want it to start with %q", got, want)
		}
	})
	t.Run("metrics", func(t *testing.T) {
		fams := scrape(t, viewer, nil)
		labels := []string{"netns", strconv.FormatUint(differs.Inode, 10), "kind", "other"}
		for name, want := range map[string]float64{
			"portpanel_netns_port_range_low": 40000, "portpanel_netns_port_range_high": 50001,
			"portpanel_netns_range_differs": 1, "portpanel_netns_destination_risk_max": 3.0 / 10001,
		} {
			if v, ok := sample(fams, name, labels...); !ok || v != want {
				t.Errorf("%s%v = %v (found %v), want %v", name, labels, v, ok, want)
			}
		}
		if v, ok := sample(fams, "portpanel_netns_range_differs", "netns", strconv.FormatUint(same.Inode, 10), "kind", "other"); !ok || v != 0 {
			t.Errorf("differs for the same range = %v (found %v)", v, ok)
		}
		if v, _ := sample(fams, "portpanel_netns_namespaces"); int(v) != len(sc.Namespaces) {
			t.Errorf("namespaces = %v, want %d", v, len(sc.Namespaces))
		}
		// promtool's lint of names, units and help, as for the other families.
		promtool(t, strings.NewReader(body(viewer.get("/metrics"))), "check", "metrics")
	})
}

func TestNamespacesBeforeTheFirstScan(t *testing.T) {
	e := newEnv(t, sysctltest.FakeProcSys(t))
	viewer := e.login(t, auth.RoleViewer)
	if d := doc(t, viewer.get("/namespaces")); d.Find(`[data-testid="ns-empty"]`).Length() != 1 {
		t.Errorf("no empty state:\n%s", flat(d.Find("main")))
	}
	res := viewer.do(http.MethodGet, "/api/v1/namespaces", nil, nil)
	if b := body(res); res.StatusCode != http.StatusOK || !strings.Contains(b, `"namespaces":[]`) || !strings.Contains(b, `"at":null`) {
		t.Errorf("API before a scan: %d %s", res.StatusCode, b)
	}
}

// flat is s's text with whitespace collapsed.
func flat(s *goquery.Selection) string { return strings.Join(strings.Fields(s.Text()), " ") }
