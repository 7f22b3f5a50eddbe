package web_test

import (
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"portpanel/auth"
	"portpanel/db"
	"portpanel/sysctl"
	"portpanel/sysctl/sysctltest"
)

// scrape GETs /metrics with hdr and parses the body with Prometheus' own
// text parser.
func scrape(t *testing.T, c *client, hdr http.Header) map[string]*dto.MetricFamily {
	t.Helper()
	res := c.do(http.MethodGet, "/metrics", hdr, nil)
	if res.StatusCode != http.StatusOK {
		t.Fatalf("GET /metrics: %d\n%s", res.StatusCode, body(res))
	}
	if ct := res.Header.Get("Content-Type"); !strings.HasPrefix(ct, "text/plain") {
		t.Errorf("Content-Type = %q, want the text format", ct)
	}
	p := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := p.TextToMetricFamilies(res.Body)
	if err != nil {
		t.Fatalf("parse /metrics: %v", err)
	}
	return fams
}

// sample is the value of the series of family name with exactly labels
// (name=value pairs); ok is false when there is no such series.
func sample(fams map[string]*dto.MetricFamily, name string, labels ...string) (v float64, ok bool) {
	f := fams[name]
	if f == nil {
		return 0, false
	}
	want := map[string]string{}
	for i := 0; i+1 < len(labels); i += 2 {
		want[labels[i]] = labels[i+1]
	}
	for _, m := range f.GetMetric() {
		got := map[string]string{}
		for _, l := range m.GetLabel() {
			got[l.GetName()] = l.GetValue()
		}
		if fmt.Sprint(got) != fmt.Sprint(want) {
			continue
		}
		switch f.GetType() {
		case dto.MetricType_COUNTER:
			return m.GetCounter().GetValue(), true
		case dto.MetricType_GAUGE:
			return m.GetGauge().GetValue(), true
		}
		return m.GetUntyped().GetValue(), true
	}
	return 0, false
}

func TestMetricsFamilies(t *testing.T) {
	e := newEnv(t, sysctltest.ProcSys())
	kernel, err := sysctl.Kernel{ProcSys: sysctltest.ProcSys()}.ReadRange()
	if err != nil {
		t.Fatal(err)
	}
	hdr := e.bearer(t, "prometheus", auth.RoleViewer)
	c := e.client(t)

	fams := scrape(t, c, hdr.Clone())
	for _, name := range []string{"portpanel_ephemeral_capacity", "portpanel_ephemeral_sockets",
		"portpanel_destination_risk_max", "portpanel_usage_sample_timestamp_seconds"} {
		if fams[name] != nil {
			t.Errorf("%s is exposed before any usage sample: a 0 would read as measured", name)
		}
	}
	for _, st := range []string{db.StatusProposed, db.StatusApproved, db.StatusRejected, db.StatusApplying,
		db.StatusApplied, db.StatusFailed, db.StatusReverted, db.StatusConfirmed} {
		if v, ok := sample(fams, "portpanel_changes_total", "result", st); !ok || v != 0 {
			t.Errorf("portpanel_changes_total{result=%q} = %v (present %v), want 0 before any change", st, v, ok)
		}
	}

	u := e.addUser(t, "alice", auth.RoleOperator)
	if _, _, err := e.h.DB.RecordChange(t.Context(), db.Change{Status: db.StatusApplied, Low: 40000, High: 50001,
		BeforeLow: kernel.Low, BeforeHigh: kernel.High, Reason: "more ports", UserID: u.ID, User: u.Name, File: e.file},
		db.AuditEvent{User: u.Name, Action: "change.applied"}, nil); err != nil {
		t.Fatal(err)
	}
	at := time.Date(2026, 5, 1, 12, 0, 0, 500_000_000, time.UTC)
	if _, err := e.h.DB.InsertUsage(t.Context(), db.UsageSample{At: at, Source: db.UsageSourceNetlink,
		RangeLow: kernel.Low, RangeHigh: kernel.High, Capacity: 28000, InUse: 130, Bound: 3, UDP: 7,
		TCPTotal: 123, TimeWait: 100, Established: 20, BusiestDestination: "10.0.0.1:443", BusiestSockets: 90,
		BusiestRisk: 90.0 / 28000, TCPStates: map[string]int{"ESTABLISHED": 20, "TIME_WAIT": 100, "LISTEN": 3},
		Destinations: []db.UsageDestination{{LocalIP: "10.0.0.2", Destination: "10.0.0.1:443", Sockets: 90, Risk: 90.0 / 28000}},
	}); err != nil {
		t.Fatal(err)
	}

	fams = scrape(t, c, hdr.Clone())
	tests := []struct {
		family string
		labels []string
		want   float64
	}{
		{"portpanel_port_range_low", nil, float64(kernel.Low)},
		{"portpanel_port_range_high", nil, float64(kernel.High)},
		{"portpanel_port_range_size", nil, float64(kernel.Size())},
		// No config file sets the range in the test's tree: the host boots
		// with the kernel default.
		{"portpanel_drift", nil, flag(kernel != sysctl.Range{Low: 32768, High: 60999})},
		{"portpanel_file_overridden", nil, 0},
		{"portpanel_boot_value_uncertain", nil, 0},
		{"portpanel_ephemeral_capacity", nil, 28000},
		{"portpanel_ephemeral_sockets", []string{"proto", "tcp", "state", "ESTABLISHED"}, 20},
		{"portpanel_ephemeral_sockets", []string{"proto", "tcp", "state", "TIME_WAIT"}, 100},
		{"portpanel_ephemeral_sockets", []string{"proto", "tcp", "state", "LISTEN"}, 3},
		{"portpanel_ephemeral_sockets", []string{"proto", "udp", "state", "all"}, 7},
		{"portpanel_destination_risk_max", nil, 90.0 / 28000},
		{"portpanel_usage_sample_timestamp_seconds", nil, float64(at.Unix()) + 0.5},
		{"portpanel_changes_total", []string{"result", "applied"}, 1},
		{"portpanel_changes_total", []string{"result", "failed"}, 0},
	}
	for _, tt := range tests {
		if got, ok := sample(fams, tt.family, tt.labels...); !ok || got != tt.want {
			t.Errorf("%s%v = %v (present %v), want %v", tt.family, tt.labels, got, ok, tt.want)
		}
	}
	if n := len(fams["portpanel_ephemeral_sockets"].GetMetric()); n != 4 {
		t.Errorf("portpanel_ephemeral_sockets has %d series, want 4 (3 TCP states and UDP)", n)
	}
	var goFams, processFams int
	for name, f := range fams {
		switch {
		case strings.HasPrefix(name, "go_"):
			goFams++
		case strings.HasPrefix(name, "process_"):
			processFams++
		case strings.HasPrefix(name, "portpanel_"):
			if f.GetHelp() == "" {
				t.Errorf("%s has no HELP text", name)
			}
			want := dto.MetricType_GAUGE
			if strings.HasSuffix(name, "_total") {
				want = dto.MetricType_COUNTER
			}
			if f.GetType() != want {
				t.Errorf("%s is a %v, want a %v", name, f.GetType(), want)
			}
		}
	}
	if goFams == 0 || processFams == 0 {
		t.Errorf("%d go_ and %d process_ families, want the Go and process collectors", goFams, processFams)
	}
	if _, ok := sample(fams, "go_goroutines"); !ok {
		t.Error("go_goroutines is missing")
	}
	if v, ok := sample(fams, "process_resident_memory_bytes"); !ok || v <= 0 {
		t.Errorf("process_resident_memory_bytes = %v (present %v), want > 0", v, ok)
	}
}

func flag(b bool) float64 {
	if b {
		return 1
	}
	return 0
}

// The boot value comes from the config tree, so drift and an overriding
// file are set up with files alone; the kernel is only read.
func TestMetricsDriftAndOverriddenFile(t *testing.T) {
	kernel, err := sysctl.Kernel{ProcSys: sysctltest.ProcSys()}.ReadRange()
	if err != nil {
		t.Fatal(err)
	}
	other := sysctl.Range{Low: 40000, High: 50001}
	if other == kernel {
		other.Low = 40002
	}
	line := func(r sysctl.Range) string { return fmt.Sprintf("%s = %d %d\n", sysctl.Key, r.Low, r.High) }
	tests := []struct {
		name       string
		sysctlConf string // content of /etc/sysctl.conf
		dropIn     bool   // manage /etc/sysctl.d/60-portpanel.conf instead of /etc/sysctl.conf
		bigFile    bool   // add a file over 16 MiB, which portpanel does not read but the boot reader does
		drift      float64
		overridden float64
		uncertain  float64
	}{
		{name: "boot value is the runtime value", sysctlConf: line(kernel)},
		{name: "boot value differs from the runtime value", sysctlConf: line(other), drift: 1},
		{name: "managed drop-in overridden by sysctl.conf, read last", sysctlConf: line(kernel), dropIn: true, overridden: 1},
		{name: "a file too large to read makes the boot value uncertain", sysctlConf: line(kernel), bigFile: true, uncertain: 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t, sysctltest.ProcSys())
			etc := filepath.Dir(e.file)
			if err := os.MkdirAll(etc, 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(e.file, []byte(tt.sysctlConf), 0o644); err != nil {
				t.Fatal(err)
			}
			if tt.dropIn {
				e.h.Changes.File = filepath.Join(etc, "sysctl.d", "60-portpanel.conf")
			}
			if tt.bigFile {
				big := filepath.Join(etc, "sysctl.d", "50-big.conf")
				if err := os.MkdirAll(filepath.Dir(big), 0o755); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(big, []byte(strings.Repeat("# padding\n", (16<<20)/10+1)), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			fams := scrape(t, e.client(t), e.bearer(t, "prometheus", auth.RoleViewer))
			if got, _ := sample(fams, "portpanel_drift"); got != tt.drift {
				t.Errorf("portpanel_drift = %v, want %v", got, tt.drift)
			}
			if got, _ := sample(fams, "portpanel_file_overridden"); got != tt.overridden {
				t.Errorf("portpanel_file_overridden = %v, want %v", got, tt.overridden)
			}
			if got, _ := sample(fams, "portpanel_boot_value_uncertain"); got != tt.uncertain {
				t.Errorf("portpanel_boot_value_uncertain = %v, want %v", got, tt.uncertain)
			}
		})
	}
}

func TestMetricsNeedCredentials(t *testing.T) {
	const metricsToken = "pp_metrics-test-token"
	tests := []struct {
		name       string
		configured string // --metrics-token
		hdr        func(t *testing.T, e *env) http.Header
		want       int
	}{
		{name: "anonymous", want: http.StatusUnauthorized},
		{name: "anonymous with a metrics token configured", configured: metricsToken, want: http.StatusUnauthorized},
		{name: "the metrics token", configured: metricsToken, want: http.StatusOK,
			hdr: func(*testing.T, *env) http.Header { return http.Header{"Authorization": {"Bearer " + metricsToken}} }},
		{name: "a wrong metrics token", configured: metricsToken, want: http.StatusUnauthorized,
			hdr: func(*testing.T, *env) http.Header {
				return http.Header{"Authorization": {"Bearer " + metricsToken + "x"}}
			}},
		{name: "a metrics token when none is configured", want: http.StatusUnauthorized,
			hdr: func(*testing.T, *env) http.Header { return http.Header{"Authorization": {"Bearer " + metricsToken}} }},
		{name: "a viewer's API token", want: http.StatusOK,
			hdr: func(t *testing.T, e *env) http.Header { return e.bearer(t, "robot", auth.RoleViewer) }},
		{name: "a viewer's API token with a metrics token configured", configured: metricsToken, want: http.StatusOK,
			hdr: func(t *testing.T, e *env) http.Header { return e.bearer(t, "robot", auth.RoleViewer) }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t, sysctltest.ProcSys())
			e.h.MetricsToken = tt.configured
			var hdr http.Header
			if tt.hdr != nil {
				hdr = tt.hdr(t, e)
			}
			res := e.client(t).do(http.MethodGet, "/metrics", hdr, nil)
			if res.StatusCode != tt.want {
				t.Errorf("GET /metrics: %d, want %d", res.StatusCode, tt.want)
			}
			// A scraper without credentials is told to send a bearer token.
			if hdr == nil && res.StatusCode == http.StatusUnauthorized && !strings.HasPrefix(res.Header.Get("WWW-Authenticate"), "Bearer") {
				t.Errorf("401 without WWW-Authenticate: Bearer (got %q)", res.Header.Get("WWW-Authenticate"))
			}
		})
	}

	t.Run("a viewer's session", func(t *testing.T) {
		e := newEnv(t, sysctltest.ProcSys())
		e.h.MetricsToken = metricsToken
		scrape(t, e.login(t, auth.RoleViewer), nil)
	})
	t.Run("the metrics token opens nothing else", func(t *testing.T) {
		e := newEnv(t, sysctltest.ProcSys())
		e.h.MetricsToken = metricsToken
		c := e.client(t)
		for _, path := range []string{"/api/v1/range", "/"} {
			res := c.do(http.MethodGet, path, http.Header{"Authorization": {"Bearer " + metricsToken}}, nil)
			if res.StatusCode != http.StatusUnauthorized {
				t.Errorf("GET %s with the metrics token: %d, want 401", path, res.StatusCode)
			}
		}
	})
}

// A family that cannot be read is left out and logged; the rest of the
// scrape is still served.
func TestMetricsLeaveOutAFailingFamily(t *testing.T) {
	e := newEnv(t, t.TempDir()) // no /proc/sys files: the kernel cannot be read
	var logged syncBuffer
	e.h.Log = slog.New(slog.NewTextHandler(&logged, nil))
	fams := scrape(t, e.client(t), e.bearer(t, "prometheus", auth.RoleViewer))
	for _, name := range []string{"portpanel_port_range_low", "portpanel_port_range_high", "portpanel_port_range_size", "portpanel_drift"} {
		if fams[name] != nil {
			t.Errorf("%s is exposed although the kernel cannot be read", name)
		}
	}
	if _, ok := sample(fams, "portpanel_changes_total", "result", "applied"); !ok {
		t.Error("portpanel_changes_total is missing: one failing family took the others with it")
	}
	if !strings.Contains(logged.String(), "collect metrics") || !strings.Contains(logged.String(), "ip_local_port_range") {
		t.Errorf("the failure is not logged:\n%s", logged.String())
	}
}
