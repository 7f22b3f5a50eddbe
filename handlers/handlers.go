// Package handlers turns HTTP requests into calls of the change workflow and
// the database, and their results into pages or JSON. Handlers stay thin:
// business rules live in package change.
package handlers

import (
	"fmt"
	"log/slog"
	"net/netip"
	"strconv"
	"sync"
	"time"

	"github.com/a-h/templ"
	"github.com/labstack/echo/v4"

	"portpanel/auditlog"
	"portpanel/change"
	"portpanel/db"
	"portpanel/fleet"
	"portpanel/handlers/throttle"
	"portpanel/sysctl/netns"
	"portpanel/views"
	"portpanel/webhook"
)

// Handlers holds what every handler needs. main builds it.
type Handlers struct {
	DB       *db.DB
	Changes  *change.Service
	Sessions *Sessions
	Setup    *SetupToken
	Throttle *throttle.Limiter // counts failed sign-ins; see package throttle
	Log      *slog.Logger
	// RequestLog gets the line logged per request; nil: Log. serve gives
	// it a buffered writer (see batchWriter in package cli).
	RequestLog *slog.Logger
	// Host is the host name shown in the top bar; Netns is set when
	// portpanel runs in a network namespace other than the host's.
	Host  string
	Netns string
	// Namespaces keeps the latest scan of the host's network namespaces
	// (the sampler refreshes it); nil: the namespaces page says none yet.
	Namespaces *netns.Monitor
	Now        func() time.Time
	// MetricsToken, when set, is a bearer token that may read /metrics
	// and nothing else (--metrics-token), for a Prometheus server that
	// should hold no user's API token.
	MetricsToken string
	// Risk holds the exhaustion-risk thresholds (--risk-warning, --risk-critical).
	Risk RiskThresholds
	// TrustedProxies are the reverse proxies (--trusted-proxy) whose
	// X-Forwarded-For and X-Forwarded-Proto count, and, with AuthHeader
	// (--auth-header), whose header naming the signed-in user counts.
	// Only the TCP peer's address is checked against them.
	TrustedProxies []netip.Prefix
	AuthHeader     string
	// Webhooks sends the outbox (cli runs it); the pages and the API
	// check endpoint URLs with its Policy and /metrics reads its Stats.
	// nil: URLs are checked strictly and no delivery counts are shown.
	Webhooks *webhook.Sender
	// Fleet is fleet mode's control plane (hosts, enrollment, desired
	// state); the agent API itself is AgentAPI, on its own listener.
	Fleet *fleet.Service
	// AgentURL is the agent listener as an agent's --server names it, for
	// the command the new enrollment token's page shows; "" when serve
	// has no agent listener or agents could not dial it as given.
	AgentURL string
	// Syslog sends the audit log to --syslog; nil when it is not set.
	// /metrics reports what it sent and dropped.
	Syslog *auditlog.Forwarder

	memo pageMemos
}

// pageMemos cache what pages read on every view until the database changes
// (db.Memo); the zero value is ready.
type pageMemos struct {
	dashboard db.Memo[struct{}, dashboardData]
	chrome    db.Memo[bool, chromeData]
	metrics   metricsMemos
	ownNetns  struct {
		mu    sync.Mutex
		read  bool
		label views.NetnsLabel
	}
	// Rendered parts of pages and API answers (versionCache), and the
	// gate their renders pass.
	historyCharts  versionCache[string, views.Prerendered]
	historySamples versionCache[historySamplesKey, views.Prerendered]
	dashboardPage  versionCache[dashboardKey, views.Prerendered]
	changesPage    versionCache[changesKey, views.Prerendered]
	auditPage      versionCache[auditKey, views.Prerendered]
	apiJSON        versionCache[string, []byte] // by route and query
	hosts          hostScan                     // every host, for the Hosts list, its API and /metrics
	renders        gate
}

// RiskThresholds are the shares of capacity at which a destination's
// exhaustion risk is shown as a warning or as critical.
type RiskThresholds struct{ Warning, Critical float64 }

// Level names where risk stands: "ok", "warning" or "critical".
func (t RiskThresholds) Level(risk float64) string {
	switch {
	case t.Critical > 0 && risk >= t.Critical:
		return "critical"
	case t.Warning > 0 && risk >= t.Warning:
		return "warning"
	}
	return "ok"
}

// render buffers page and sends it, so a failed render never leaves half a
// page behind.
func render(c echo.Context, status int, page templ.Component) error {
	buf := templ.GetBuffer()
	defer templ.ReleaseBuffer(buf)
	if err := page.Render(c.Request().Context(), buf); err != nil {
		return fmt.Errorf("render: %w", err)
	}
	// The length is known: without it net/http sends a page over 2 KiB
	// chunked, framing that costs both ends.
	c.Response().Header()[echo.HeaderContentLength] = []string{strconv.Itoa(buf.Len())}
	return c.HTMLBlob(status, buf.Bytes())
}
