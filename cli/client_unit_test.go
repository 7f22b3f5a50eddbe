package cli

import (
	"encoding/json"
	"strings"
	"testing"
	"time"
)

func TestReverseDiff(t *testing.T) {
	tests := []struct{ name, in, want string }{
		{"an added line is removed",
			"--- f\n+++ f\n@@ -1,3 +1,4 @@\n a\n b\n c\n+d = 1\n",
			"--- f\n+++ f\n@@ -1,4 +1,3 @@\n a\n b\n c\n-d = 1\n"},
		{"a replaced line comes back, removal first",
			"--- f\n+++ f\n@@ -1,2 +1,2 @@\n a\n-d = 1\n+d = 2\n",
			"--- f\n+++ f\n@@ -1,2 +1,2 @@\n a\n-d = 2\n+d = 1\n"},
		{"a removed line that starts with dashes is a line, not a header",
			"--- f\n+++ f\n@@ -1 +0,0 @@\n--- x\n",
			"--- f\n+++ f\n@@ -0,0 +1 @@\n+-- x\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := reverseDiff(tt.in); got != tt.want {
				t.Errorf("got\n%s\nwant\n%s", got, tt.want)
			}
		})
	}
}

func TestHazardsFromA422(t *testing.T) {
	tests := []struct {
		name, body string
		want       []hazard
	}{
		{"objects with a message", `{"error":"e","hazards":[{"code":"small-range","message":"Fewer than 1,000 ports."}]}`,
			[]hazard{{"small-range", "Fewer than 1,000 ports."}}},
		{"bare codes", `{"error":"e","hazards":["small-range","listener-inside"]}`,
			[]hazard{{Code: "small-range"}, {Code: "listener-inside"}}},
		{"objects with another name for the sentence", `{"error":"e","hazards":[{"code":"c","detail":"d"}]}`, []hazard{{"c", "d"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := &apiClient{where: "x"}
			err := c.apiError(answer{status: 422, body: []byte(tt.body)}, "application/json")
			if exitCode(err) != exitHazard {
				t.Errorf("exit %d, want %d: %v", exitCode(err), exitHazard, err)
			}
			ae := err.(*exitError).err.(*apiError)
			if b, w := mustJSON(ae.hazards), mustJSON(tt.want); b != w {
				t.Errorf("hazards %s, want %s", b, w)
			}
			if !strings.Contains(err.Error(), "--ack "+tt.want[0].Code) {
				t.Errorf("%q does not say how to acknowledge", err)
			}
		})
	}
	if err := (&apiClient{}).apiError(answer{status: 422, body: []byte(`{"error":"low too low"}`)}, "application/json"); exitCode(err) != exitFailed {
		t.Errorf("a 422 without hazards: exit %d, want %d", exitCode(err), exitFailed)
	}
}

func mustJSON(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

func TestRolesFrom(t *testing.T) {
	for least, want := range map[string]string{"operator": "an operator, approver or admin", "approver": "an approver or admin", "admin": "an admin", "viewer": "a viewer, operator, approver or admin"} {
		if got := rolesFrom(least); got != want {
			t.Errorf("rolesFrom(%s) = %q, want %q", least, got, want)
		}
	}
}

func TestRenderTableAlignsPaintedCells(t *testing.T) {
	tm := &term{color: true}
	got := renderTable([][]string{{tm.paint(bold, "ID"), "STATUS"}, {"1", tm.level("applied")}, {"12", "x"}})
	want := "\x1b[1mID\x1b[0m  STATUS\n1   \x1b[32mapplied\x1b[0m\n12  x\n"
	if got != want {
		t.Errorf("got %q\nwant %q", got, want)
	}
}

func TestChart(t *testing.T) {
	now := time.Date(2026, 7, 14, 12, 0, 0, 0, time.UTC)
	from := now.Add(-24 * time.Hour)
	samples := []apiSample{
		{At: now.Add(-30 * time.Hour), Low: 32768, High: 60999, Source: "start"},
		{At: now.Add(-12 * time.Hour), Low: 40000, High: 50999, Source: "change"},
		{At: now.Add(-6 * time.Hour), Low: 20000, High: 60999, Source: "change"},
	}
	changes := []changeAnswer{{ID: 1, CreatedAt: now.Add(-12 * time.Hour)}, {ID: 2, CreatedAt: now.Add(-6 * time.Hour)}}
	golden(t, "chart", chart(samples, changes, from, now, 48))
}

func TestCount(t *testing.T) {
	for n, want := range map[int]string{0: "0", 999: "999", 1000: "1,000", 28232: "28,232", -17232: "-17,232", 1234567: "1,234,567"} {
		if got := count(n); got != want {
			t.Errorf("count(%d) = %q, want %q", n, got, want)
		}
	}
}
