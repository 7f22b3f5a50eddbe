package handlers

import (
	"net/http"
	"time"

	"github.com/labstack/echo/v4"

	"portpanel/sysctl/netns"
	"portpanel/views"
)

// ListNamespaces shows every network namespace of the host from the latest
// scan (never a scan per request: the sampler runs it).
func (h *Handlers) ListNamespaces(c echo.Context) error {
	ch, err := h.chrome(c, "Network namespaces", "namespaces")
	if err != nil {
		return err
	}
	p := views.NamespacesPage{Chrome: ch, Risk: h.viewRisk(), Self: h.ownNetns()}
	if sc, ok := h.latestNamespaces(); ok {
		p.Scanned, p.At, p.Reference, p.Limits = true, sc.At, sc.Reference, sc.Limits
		for _, n := range sc.Namespaces {
			row := views.NamespaceRow{Namespace: n}
			if n.RangeDiffers && sc.Reference != nil {
				a := netns.AdviceFor(n, sc.Reference.Range)
				row.Advice = &a
			}
			p.Rows = append(p.Rows, row)
		}
	}
	return render(c, http.StatusOK, views.Namespaces(p))
}

func (h *Handlers) latestNamespaces() (netns.Scan, bool) {
	if h.Namespaces == nil {
		return netns.Scan{}, false
	}
	return h.Namespaces.Latest()
}

// ownNetns names portpanel's namespace for the pages that show figures
// of it; its ID is "" when it cannot be read. The process's namespace is
// its main thread's, which never moves: it is read until read once (a
// readlink and a stat, 8% of the dashboard's CPU under load).
func (h *Handlers) ownNetns() views.NetnsLabel {
	h.memo.ownNetns.mu.Lock()
	defer h.memo.ownNetns.mu.Unlock()
	if h.memo.ownNetns.read {
		return h.memo.ownNetns.label
	}
	var s netns.Scanner
	if h.Namespaces != nil {
		s = h.Namespaces.Scanner
	}
	ino, initial, err := s.Own()
	if err != nil {
		return views.NetnsLabel{}
	}
	h.memo.ownNetns.label, h.memo.ownNetns.read = views.NetnsLabel{ID: netns.ID(ino), Host: initial}, true
	return h.memo.ownNetns.label
}

// APINamespaces is GET /api/v1/namespaces: the latest scan of every
// network namespace, compared with portpanel's own.
func (h *Handlers) APINamespaces(c echo.Context) error {
	sc, ok := h.latestNamespaces()
	if !ok {
		return c.JSON(http.StatusOK, map[string]any{"at": nil, "namespaces": []any{},
			"message": "No scan yet: portpanel scans the network namespaces at start and then every --sample-interval."})
	}
	out := namespacesJSON{At: sc.At.UTC().Format(time.RFC3339Nano), Self: netns.ID(sc.Self),
		Limits: nonNil(sc.Limits), UnreadableProcesses: sc.Unreadable, Namespaces: []namespaceJSON{}}
	if r := sc.Reference; r != nil {
		out.Reference = &referenceJSON{Netns: netns.ID(sc.Self), Range: rangeJSON{r.Range.Low, r.Range.High}, ReservedPorts: r.ReservedPorts}
	}
	for _, n := range sc.Namespaces {
		out.Namespaces = append(out.Namespaces, h.namespaceJSON(n))
	}
	if out.Reference != nil {
		for i, n := range sc.Namespaces {
			if n.RangeDiffers {
				a := netns.AdviceFor(n, sc.Reference.Range)
				out.Namespaces[i].HowToSet = &a
			}
		}
	}
	return c.JSON(http.StatusOK, out)
}
