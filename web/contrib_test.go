package web_test

// Tests of contrib/: the alert rules and the Grafana dashboard, against
// promtool and against the /metrics this server really serves.

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"os/exec"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"portpanel/auditlog"
	"portpanel/auth"
	"portpanel/db"
	"portpanel/internal/testtool"
	"portpanel/sysctl"
	"portpanel/sysctl/sysctltest"
)

const (
	rulesFile     = "../contrib/prometheus/portpanel-rules.yml"
	rulesTestFile = "../contrib/prometheus/portpanel-rules.test.yml"
	dashboardFile = "../contrib/grafana/portpanel.json"
)

func promtool(t *testing.T, stdin io.Reader, args ...string) {
	t.Helper()
	cmd := exec.Command(testtool.Path(t, "promtool", "prometheus"), args...)
	cmd.Stdin = stdin
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Errorf("promtool %s: %v\n%s", strings.Join(args, " "), err, out)
	}
}

func TestAlertRulesPassPromtool(t *testing.T) {
	t.Run("check rules", func(t *testing.T) { promtool(t, nil, "check", "rules", rulesFile) })
	// The unit tests on synthetic series: every alert firing and not.
	t.Run("test rules", func(t *testing.T) { promtool(t, nil, "test", "rules", rulesTestFile) })
}

// fullScrape is the body of /metrics on a server with something in every
// family: a usage sample, a proposal, a running deadline, a full audit
// check, a syslog forwarder (to a collector that is not there).
func fullScrape(t *testing.T) []byte {
	t.Helper()
	e := newEnv(t, sysctltest.ProcSys())
	fwd, err := auditlog.New(t.Context(), e.h.DB, auditlog.Target{Network: "udp", Addr: "127.0.0.1:9"}, auditlog.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { fwd.Close(context.Background()) })
	e.h.Syslog = fwd
	u := e.addUser(t, "alice", auth.RoleOperator)
	deadline := time.Now().Add(time.Hour)
	e.recordChanges(t, u, db.Change{Status: db.StatusProposed},
		db.Change{Status: db.StatusApplied, ConfirmWithin: time.Hour, ConfirmBy: &deadline})
	kernel, err := sysctl.Kernel{ProcSys: sysctltest.ProcSys()}.ReadRange()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.h.DB.InsertUsage(t.Context(), db.UsageSample{At: time.Now(), Source: db.UsageSourceNetlink,
		RangeLow: kernel.Low, RangeHigh: kernel.High, Capacity: 28000, InUse: 30, UDP: 2, TCPTotal: 28, Established: 20, TimeWait: 8,
		BusiestDestination: "10.0.0.1:443", BusiestSockets: 20, BusiestRisk: 20.0 / 28000,
		TCPStates: map[string]int{"ESTABLISHED": 20, "TIME_WAIT": 8}}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.h.DB.VerifyAudit(t.Context()); err != nil {
		t.Fatal(err)
	}
	res := e.client(t).do(http.MethodGet, "/metrics", e.bearer(t, "prometheus", auth.RoleViewer), nil)
	b := []byte(body(res))
	if res.StatusCode != http.StatusOK {
		t.Fatalf("GET /metrics: %d\n%s", res.StatusCode, b)
	}
	return b
}

// promtool check metrics lints the exposition: names, units, HELP text,
// counter suffixes.
func TestMetricsPassPromtoolCheck(t *testing.T) {
	promtool(t, bytes.NewReader(fullScrape(t)), "check", "metrics")
}

// TestContribQueriesNameExposedMetrics fails when a rule or a dashboard
// query names a metric the real /metrics does not expose: a renamed
// family would otherwise leave an alert that can never fire and a panel
// that stays empty.
func TestContribQueriesNameExposedMetrics(t *testing.T) {
	exposed := exposedNames(t, fullScrape(t))
	queries := map[string][]string{rulesFile: ruleExprs(t), dashboardFile: dashboardExprs(t)}
	for file, exprs := range queries {
		if len(exprs) == 0 {
			t.Fatalf("%s: no queries found", file)
		}
		var named int
		for _, expr := range exprs {
			for _, name := range metricNames(expr) {
				named++
				if !exposed[name] {
					t.Errorf("%s: %q names %s, which /metrics does not expose", file, expr, name)
				}
			}
		}
		if named == 0 {
			t.Errorf("%s: the queries name no metric at all: the name parser is broken", file)
		}
	}
}

// exposedNames are the series names a Prometheus scraping body would
// store: each family's, a histogram's and a summary's derived ones, and up,
// which Prometheus adds per target.
func exposedNames(t *testing.T, body []byte) map[string]bool {
	t.Helper()
	names := map[string]bool{"up": true}
	for name, f := range parseFamilies(t, body) {
		names[name] = true
		switch f.GetType() {
		case dto.MetricType_HISTOGRAM:
			names[name+"_bucket"], names[name+"_sum"], names[name+"_count"] = true, true, true
		case dto.MetricType_SUMMARY:
			names[name+"_sum"], names[name+"_count"] = true, true
		}
	}
	return names
}

func ruleExprs(t *testing.T) []string {
	t.Helper()
	b, err := os.ReadFile(rulesFile)
	if err != nil {
		t.Fatal(err)
	}
	// promtool check rules has parsed the file as YAML; the exprs are
	// found by their key, folded block scalars included, without a YAML
	// library for the test alone.
	var exprs []string
	lines := strings.Split(string(b), "\n")
	for i := 0; i < len(lines); i++ {
		key, rest, ok := strings.Cut(strings.TrimSpace(lines[i]), ":")
		if !ok || key != "expr" {
			continue
		}
		rest = strings.TrimSpace(rest)
		if rest != "|" && rest != ">" {
			exprs = append(exprs, rest)
			continue
		}
		indent := len(lines[i]) - len(strings.TrimLeft(lines[i], " "))
		var block []string
		for i+1 < len(lines) {
			next := lines[i+1]
			if strings.TrimSpace(next) != "" && len(next)-len(strings.TrimLeft(next, " ")) <= indent {
				break
			}
			block = append(block, strings.TrimSpace(next))
			i++
		}
		exprs = append(exprs, strings.TrimSpace(strings.Join(block, " ")))
	}
	return exprs
}

// dashboardExprs are every panel target's expr and every query
// variable's metric (label_values(METRIC_SELECTOR, label)).
func dashboardExprs(t *testing.T) []string {
	t.Helper()
	b, err := os.ReadFile(dashboardFile)
	if err != nil {
		t.Fatal(err)
	}
	var dash any
	if err := json.Unmarshal(b, &dash); err != nil {
		t.Fatalf("%s: %v", dashboardFile, err)
	}
	var exprs []string
	labelValues := regexp.MustCompile(`^label_values\((.*),\s*[a-zA-Z_]\w*\)$`)
	var walk func(key string, v any)
	walk = func(key string, v any) {
		switch v := v.(type) {
		case map[string]any:
			for k, w := range v {
				walk(k, w)
			}
		case []any:
			for _, w := range v {
				walk(key, w)
			}
		case string:
			switch {
			case key == "expr":
				exprs = append(exprs, v)
			case key == "query" && strings.HasPrefix(v, "label_values("):
				m := labelValues.FindStringSubmatch(v)
				if m == nil {
					t.Errorf("%s: query %q: want label_values(selector, label)", dashboardFile, v)
					return
				}
				exprs = append(exprs, m[1])
			}
		}
	}
	walk("", dash)
	return exprs
}

// metricNames returns the metric names a PromQL expression selects.
//
// A careful regexp pass rather than PromQL's own parser: that lives in the
// prometheus/prometheus module, whose dependencies (Kubernetes clients,
// cloud SDKs for service discovery) outweigh all of portpanel's. The pass
// removes what is not a selector's name (string literals, label matchers
// in braces, ranges and Grafana variables in brackets or after $, the
// label lists of by/without/on/ignoring/group_left/group_right), then keeps
// each identifier that is not a keyword, not a function or aggregation
// (followed by "("), and not the tail of a number or duration (1e3, 5m).
// TestMetricNames holds it to the cases that matter.
func metricNames(expr string) []string {
	for _, re := range promqlNoise {
		expr = re.ReplaceAllString(expr, " ")
	}
	var out []string
	for _, m := range promqlIdent.FindAllStringSubmatchIndex(expr, -1) {
		name := expr[m[2]:m[3]]
		rest := strings.TrimLeft(expr[m[3]:], " \t\n")
		if promqlKeywords[strings.ToLower(name)] || strings.HasPrefix(rest, "(") || slices.Contains(out, name) {
			continue
		}
		out = append(out, name)
	}
	return out
}

var (
	promqlNoise = []*regexp.Regexp{
		regexp.MustCompile(`"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'|` + "`[^`]*`"),
		regexp.MustCompile(`\{[^}]*\}`),
		regexp.MustCompile(`\[[^\]]*\]`),
		regexp.MustCompile(`\$\w+`),
		regexp.MustCompile(`(?i)\b(?:by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)`),
	}
	// An identifier not preceded by a character that would make it part of
	// a longer word or a number.
	promqlIdent    = regexp.MustCompile(`(?:^|[^a-zA-Z0-9_:.])([a-zA-Z_:][a-zA-Z0-9_:]*)`)
	promqlKeywords = map[string]bool{"and": true, "or": true, "unless": true, "bool": true, "offset": true,
		"by": true, "without": true, "on": true, "ignoring": true, "group_left": true, "group_right": true,
		"atan2": true, "inf": true, "nan": true}
)

func TestMetricNames(t *testing.T) {
	tests := []struct {
		expr string
		want []string
	}{
		{`up`, []string{"up"}},
		{`portpanel_drift == 1`, []string{"portpanel_drift"}},
		{`portpanel_a{job=~"$job", instance="x"}`, []string{"portpanel_a"}},
		{`time() - portpanel_oldest_proposal_timestamp_seconds > 3600`, []string{"portpanel_oldest_proposal_timestamp_seconds"}},
		{`sum by (proto, state) (portpanel_ephemeral_sockets{job="a"})`, []string{"portpanel_ephemeral_sockets"}},
		{`sum(rate(go_gc_duration_seconds_count[$__rate_interval])) without (instance)`, []string{"go_gc_duration_seconds_count"}},
		{`(a >= ignoring(level) b{level="warning"}) < ignoring(level) b{level="critical"}`, []string{"a", "b"}},
		{`up == 1 unless on(instance, job) portpanel_x`, []string{"up", "portpanel_x"}},
		{`max_over_time(portpanel_y[1h:5m] offset 1h30m) * 1e3`, []string{"portpanel_y"}},
		{`label_replace(portpanel_z, "dst", "$1", "src", "(.*)")`, []string{"portpanel_z"}},
		{`absent(up{job="portpanel"}) or vector(0)`, []string{"up"}},
		{`a / on(instance) group_left(level) b and bool c`, []string{"a", "b", "c"}},
		{`time()`, nil},
	}
	for _, tt := range tests {
		if got := metricNames(tt.expr); !slices.Equal(got, tt.want) {
			t.Errorf("metricNames(%q) = %q, want %q", tt.expr, got, tt.want)
		}
	}
}

// parseFamilies parses a /metrics body.
func parseFamilies(t *testing.T, body []byte) map[string]*dto.MetricFamily {
	t.Helper()
	p := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := p.TextToMetricFamilies(bytes.NewReader(body))
	if err != nil {
		t.Fatalf("parse /metrics: %v", err)
	}
	return fams
}
