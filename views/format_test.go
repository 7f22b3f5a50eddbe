package views

import (
	"testing"
	"time"

	"portpanel/sysctl"
)

func TestThousands(t *testing.T) {
	for _, tt := range []struct {
		name string
		n    int
		want string
	}{
		{"zero", 0, "0"},
		{"three digits", 999, "999"},
		{"four digits", 1000, "1,000"},
		{"default range size", 28232, "28,232"},
		{"millions", 1234567, "1,234,567"},
		{"negative", -28232, "-28,232"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if got := thousands(tt.n); got != tt.want {
				t.Errorf("thousands(%d) = %q, want %q", tt.n, got, tt.want)
			}
		})
	}
}

func TestPortCount(t *testing.T) {
	for _, tt := range []struct {
		name      string
		low, high int
		want      string
	}{
		{"both ends count", 32768, 60999, "28,232 ports"},
		{"one port", 5000, 5000, "1 port"},
		{"inverted is empty", 6000, 5000, "0 ports"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if got := portCount(tt.low, tt.high); got != tt.want {
				t.Errorf("portCount = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestTimes(t *testing.T) {
	now := time.Date(2026, 7, 14, 14, 5, 0, 0, time.UTC)
	berlin := time.FixedZone("CEST", 2*3600)
	for _, tt := range []struct {
		name string
		t    time.Time
		abs  string
		rel  string
	}{
		{"seconds ago", now.Add(-20 * time.Second), "14:04 UTC", "just now"},
		{"minutes ago", now.Add(-3 * time.Minute), "14:02 UTC", "3 min ago"},
		{"hours ago today", now.Add(-2 * time.Hour), "12:05 UTC", "2 h ago"},
		{"yesterday", now.Add(-26 * time.Hour), "Jul 13 12:05 UTC", "26 h ago"},
		{"days ago", now.Add(-9 * 24 * time.Hour), "Jul 5 14:05 UTC", "9 days ago"},
		{"last year", time.Date(2025, 12, 31, 23, 0, 0, 0, time.UTC), "2025-12-31 23:00 UTC", "194 days ago"},
		{"other zones shown in UTC", time.Date(2026, 7, 14, 16, 2, 0, 0, berlin), "14:02 UTC", "3 min ago"},
		{"future", now.Add(5 * time.Minute), "14:10 UTC", "in 5 min"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if got := absTime(tt.t, now); got != tt.abs {
				t.Errorf("absTime = %q, want %q", got, tt.abs)
			}
			if got := relTime(tt.t, now); got != tt.rel {
				t.Errorf("relTime = %q, want %q", got, tt.rel)
			}
		})
	}
	if got := relTime(now, time.Time{}); got != "" {
		t.Errorf("relTime without now = %q, want empty", got)
	}
}

func TestDiffLineClass(t *testing.T) {
	for line, want := range map[string]string{
		"+++ b/x":     "diff-file",
		"--- a/x":     "diff-file",
		"+new = 1 2":  "diff-add",
		"-old = 1 2":  "diff-del",
		"@@ -1 +1 @@": "diff-hunk",
		" context":    "diff-ctx",
		"":            "diff-ctx",
	} {
		if got := diffLineClass(line); got != want {
			t.Errorf("diffLineClass(%q) = %q, want %q", line, got, want)
		}
	}
}

func TestOlderURL(t *testing.T) {
	if got := olderURL("/history", 42, "window=7d"); got != "/history?window=7d&before=42" {
		t.Errorf("olderURL = %q", got)
	}
	if got := olderURL("/audit", 7); got != "/audit?before=7" {
		t.Errorf("olderURL = %q", got)
	}
}

func TestConfirmWindowLabel(t *testing.T) {
	for secs, want := range map[int]string{0: "Off", 60: "1 minute", 120: "2 minutes", 3600: "60 minutes", 90: "90 seconds"} {
		if got := confirmWindowLabel(secs); got != want {
			t.Errorf("confirmWindowLabel(%d) = %q, want %q", secs, got, want)
		}
	}
}

func TestPortDelta(t *testing.T) {
	for _, tt := range []struct {
		name          string
		before, after sysctl.Range
		want          string
	}{
		{"wider", sysctl.Range{Low: 32768, High: 60999}, sysctl.Range{Low: 20000, High: 60999}, "12,768 more"},
		{"narrower", sysctl.Range{Low: 32768, High: 60999}, sysctl.Range{Low: 32768, High: 59999}, "1,000 fewer"},
		{"shifted", sysctl.Range{Low: 1000, High: 2000}, sysctl.Range{Low: 3000, High: 4000}, "same number"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if got := portDelta(tt.before, tt.after); got != tt.want {
				t.Errorf("portDelta = %q, want %q", got, tt.want)
			}
		})
	}
}
