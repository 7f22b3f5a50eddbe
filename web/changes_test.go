package web_test

import (
	"encoding/json"
	"net/http"
	"net/url"
	"os"
	"strings"
	"testing"

	"portpanel/auth"
	"portpanel/sysctl"
	"portpanel/sysctl/sysctltest"
)

func TestInvalidValuesAreRefusedWithTheRule(t *testing.T) {
	e := newEnv(t, sysctltest.ProcSys())
	op := e.login(t, auth.RoleOperator)
	token := op.csrf("/")
	for _, tt := range []struct {
		name, low, high, reason string
		wantInBody              string
	}{
		{"octal-looking low", "040000", "50001", "x", "octal"},
		{"hex", "0x9c40", "50001", "x", "digits 0-9"},
		{"low above high", "50001", "40000", "x", "must not exceed"},
		{"above 65535", "40000", "70000", "x", "65535"},
		{"missing reason", "40000", "50001", "", "reason"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			res := op.post("/changes", url.Values{"low": {tt.low}, "high": {tt.high}, "reason": {tt.reason}, "csrf": {token}})
			b := body(res)
			if res.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(strings.ToLower(b), tt.wantInBody) {
				t.Errorf("status %d, want 422 with %q in the page", res.StatusCode, tt.wantInBody)
			}
		})
	}
	for _, tt := range []struct {
		name, payload string
		status        int
		wantInError   string
	}{
		{"malformed JSON", `{"low": 40000,`, http.StatusBadRequest, "not valid json"},
		{"unknown field", `{"low":40000,"high":50001,"reson":"x"}`, http.StatusBadRequest, "reson"},
		{"fraction", `{"low":40000.5,"high":50001,"reason":"x"}`, http.StatusBadRequest, "\"low\" must be an integer"},
		{"missing high", `{"low":40000,"reason":"x"}`, http.StatusUnprocessableEntity, "required"},
		{"low above high", `{"low":50001,"high":40000,"reason":"x"}`, http.StatusUnprocessableEntity, "must not exceed"},
		{"empty reason", `{"low":40000,"high":50001,"reason":""}`, http.StatusUnprocessableEntity, "reason"},
	} {
		t.Run("api "+tt.name, func(t *testing.T) {
			res := op.postJSON("/api/v1/changes", tt.payload, http.Header{"X-CSRF-Token": {token}})
			var out struct{ Error string }
			if err := json.NewDecoder(res.Body).Decode(&out); err != nil {
				t.Fatal(err)
			}
			if res.StatusCode != tt.status || !strings.Contains(strings.ToLower(out.Error), tt.wantInError) {
				t.Errorf("%d %q, want %d with %q", res.StatusCode, out.Error, tt.status, tt.wantInError)
			}
		})
	}
}

type changeJSON struct {
	ID     int64  `json:"id"`
	Status string `json:"status"`
	Low    int    `json:"low"`
	High   int    `json:"high"`
	Before struct {
		Low  int `json:"low"`
		High int `json:"high"`
	} `json:"before"`
	Reason     string `json:"reason"`
	User       string `json:"user"`
	File       string `json:"file"`
	Diff       string `json:"diff"`
	Error      string `json:"error"`
	RollbackOf *int64 `json:"rollback_of"`
}

func TestApplyAndRollbackThroughTheAPIWithAToken(t *testing.T) {
	if !sysctltest.InNetns(t) {
		return
	}
	e := newEnv(t, sysctltest.ProcSys())
	u := e.addUser(t, "robot", auth.RoleOperator)
	secret, _ := auth.NewSecret()
	if _, err := e.h.DB.CreateToken(t.Context(), u.ID, "ci", auth.HashToken(secret)); err != nil {
		t.Fatal(err)
	}
	bearer := http.Header{"Authorization": {"Bearer " + secret}}
	c := e.client(t)

	res := c.postJSON("/api/v1/changes", `{"low":40000,"high":50001,"reason":"more ports"}`, bearer.Clone())
	var applied changeJSON
	if res.StatusCode != http.StatusCreated || json.NewDecoder(res.Body).Decode(&applied) != nil {
		t.Fatalf("POST /api/v1/changes: %d", res.StatusCode)
	}
	if applied.Status != "applied" || applied.Low != 40000 || applied.Before.Low != 32768 || applied.User != "robot" || !strings.Contains(applied.Diff, "+net.ipv4.ip_local_port_range = 40000 50001") {
		t.Errorf("change = %+v", applied)
	}
	assertKernel(t, sysctl.Range{Low: 40000, High: 50001})

	var rng struct {
		Runtime struct{ Low, High int }
		Boot    *struct {
			Low, High, Line int
			File            string
		}
		Size  int
		Drift bool
	}
	res = c.do(http.MethodGet, "/api/v1/range", bearer.Clone(), nil)
	if err := json.NewDecoder(res.Body).Decode(&rng); err != nil || rng.Runtime.Low != 40000 || rng.Size != 10002 {
		t.Errorf("GET /api/v1/range = %+v, %v", rng, err)
	}

	res = c.postJSON("/api/v1/changes/"+itoa(applied.ID)+"/rollback", `{"reason":"undo"}`, bearer.Clone())
	var rb changeJSON
	if res.StatusCode != http.StatusCreated || json.NewDecoder(res.Body).Decode(&rb) != nil || rb.RollbackOf == nil || *rb.RollbackOf != applied.ID {
		t.Fatalf("rollback: %d %+v", res.StatusCode, rb)
	}
	assertKernel(t, sysctl.Range{Low: 32768, High: 60999})
	if _, err := os.Stat(e.file); !os.IsNotExist(err) {
		t.Errorf("the file the change created is still there after rollback: %v", err)
	}
	res = c.postJSON("/api/v1/changes/"+itoa(applied.ID)+"/rollback", `{"reason":"again"}`, bearer.Clone())
	if res.StatusCode != http.StatusConflict {
		t.Errorf("second rollback: %d, want 409", res.StatusCode)
	}

	var list struct{ Changes []changeJSON }
	res = c.do(http.MethodGet, "/api/v1/changes", bearer.Clone(), nil)
	if json.NewDecoder(res.Body).Decode(&list) != nil || len(list.Changes) != 2 || list.Changes[0].ID != rb.ID {
		t.Errorf("GET /api/v1/changes = %+v, want the rollback first", list)
	}
	var audit struct {
		Events []struct{ Action, User string }
	}
	res = c.do(http.MethodGet, "/api/v1/audit", bearer.Clone(), nil)
	if json.NewDecoder(res.Body).Decode(&audit) != nil || len(audit.Events) < 2 || audit.Events[0].Action != "change.rolled_back" {
		t.Errorf("GET /api/v1/audit = %+v", audit)
	}
	var hist struct {
		Samples []struct {
			Low, High int
			Source    string
		}
	}
	res = c.do(http.MethodGet, "/api/v1/history", bearer.Clone(), nil)
	if json.NewDecoder(res.Body).Decode(&hist) != nil || len(hist.Samples) != 2 || hist.Samples[0].Source != "change" || hist.Samples[0].Low != 32768 {
		t.Errorf("GET /api/v1/history = %+v", hist)
	}

	bad := c.do(http.MethodGet, "/api/v1/range", http.Header{"Authorization": {"Bearer pp_wrong"}}, nil)
	if bad.StatusCode != http.StatusUnauthorized {
		t.Errorf("a wrong token: %d, want 401", bad.StatusCode)
	}
}

func TestFormApplyAndOneClickRollback(t *testing.T) {
	if !sysctltest.InNetns(t) {
		return
	}
	e := newEnv(t, sysctltest.ProcSys())
	op := e.login(t, auth.RoleOperator)
	res := op.post("/changes", url.Values{"low": {"40000"}, "high": {"50001"}, "reason": {"form change"}, "confirm": {"yes"}, "csrf": {op.csrf("/")}})
	if res.StatusCode != http.StatusSeeOther || res.Header.Get("Location") != "/changes/1" {
		t.Fatalf("POST /changes: %d to %q\n%s", res.StatusCode, res.Header.Get("Location"), body(res))
	}
	assertKernel(t, sysctl.Range{Low: 40000, High: 50001})
	page := body(op.get("/changes/1"))
	if !strings.Contains(page, "Applied") || !strings.Contains(page, "form change") {
		t.Errorf("the change page does not show the flash and the reason")
	}
	res = op.post("/changes/1/rollback", url.Values{"reason": {"Roll back change #1"}, "csrf": {op.csrf("/")}})
	if res.StatusCode != http.StatusSeeOther || res.Header.Get("Location") != "/changes/2" {
		t.Fatalf("rollback: %d to %q", res.StatusCode, res.Header.Get("Location"))
	}
	assertKernel(t, sysctl.Range{Low: 32768, High: 60999})
}

func TestKernelRefusalAnswers422WithTheFailedChange(t *testing.T) {
	if !sysctltest.InNetns(t) {
		return
	}
	if err := os.WriteFile("/proc/sys/net/ipv4/ip_local_port_range", []byte("50000 60999"), 0); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile("/proc/sys/net/ipv4/ip_unprivileged_port_start", []byte("45000"), 0); err != nil {
		t.Fatal(err)
	}
	e := newEnv(t, sysctltest.StaleProcSys(t))
	op := e.login(t, auth.RoleOperator)
	res := op.postJSON("/api/v1/changes", `{"low":40000,"high":50001,"reason":"will be refused"}`, http.Header{"X-CSRF-Token": {op.csrf("/")}})
	var out struct {
		Error  string
		Change changeJSON
	}
	if err := json.NewDecoder(res.Body).Decode(&out); err != nil {
		t.Fatal(err)
	}
	if res.StatusCode != http.StatusUnprocessableEntity || out.Change.Status != "failed" || !strings.Contains(out.Error, "refused") {
		t.Errorf("%d %+v, want 422 with the failed change", res.StatusCode, out)
	}
	assertKernel(t, sysctl.Range{Low: 50000, High: 60999})
}
