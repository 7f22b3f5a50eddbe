package web_test

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"portpanel/sysctl/sysctltest"
)

type readyOut struct {
	Status string            `json:"status"`
	Checks map[string]string `json:"checks"`
}

func TestReadyz(t *testing.T) {
	tests := []struct {
		name   string
		breaks func(t *testing.T, e *env)
		want   int
		failed string // the check that fails, "" when none
		says   string // a substring of its message
	}{
		{name: "database and kernel answer", want: http.StatusOK},
		{name: "kernel interface missing", want: http.StatusServiceUnavailable, failed: "kernel", says: "ip_local_port_range",
			breaks: func(t *testing.T, e *env) { e.h.Changes.Kernel.ProcSys = t.TempDir() }},
		{name: "database closed", want: http.StatusServiceUnavailable, failed: "database", says: "database is closed",
			breaks: func(t *testing.T, e *env) {
				if err := e.h.DB.Close(); err != nil {
					t.Fatal(err)
				}
			}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t, sysctltest.ProcSys())
			if tt.breaks != nil {
				tt.breaks(t, e)
			}
			res := e.client(t).get("/readyz") // no sign-in: load balancers and systemd probe it
			var out readyOut
			if err := json.NewDecoder(res.Body).Decode(&out); err != nil {
				t.Fatalf("GET /readyz: %d, body not JSON: %v", res.StatusCode, err)
			}
			if res.StatusCode != tt.want {
				t.Errorf("GET /readyz: %d %+v, want %d", res.StatusCode, out, tt.want)
			}
			wantStatus := "ready"
			if tt.failed != "" {
				wantStatus = "not ready"
			}
			if out.Status != wantStatus {
				t.Errorf("status = %q, want %q", out.Status, wantStatus)
			}
			for _, check := range []string{"database", "kernel"} {
				msg := out.Checks[check]
				switch {
				case check != tt.failed && msg != "ok":
					t.Errorf("check %s = %q, want ok", check, msg)
				case check == tt.failed && !strings.Contains(msg, tt.says):
					t.Errorf("check %s = %q, want it to say %q", check, msg, tt.says)
				}
			}
		})
	}
}
