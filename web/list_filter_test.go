package web_test

import (
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"

	"portpanel/auth"
	"portpanel/db"
	"portpanel/sysctl/sysctltest"
)

// page loads path and parses it.
func page(t *testing.T, c *client, path string) *goquery.Document {
	t.Helper()
	res := c.get(path)
	if res.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %d", path, res.StatusCode)
	}
	doc, err := goquery.NewDocumentFromReader(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	return doc
}

func TestAuditPageFilters(t *testing.T) {
	e := newEnv(t, sysctltest.ProcSys())
	// 130 events on 1 March, alice's and bob's in turn: more than a page
	// of 100 only when both are listed.
	var events []db.AuditEvent
	for i := range 130 {
		user := []string{"alice", "bob"}[i%2]
		events = append(events, db.AuditEvent{At: march1.Add(time.Duration(i) * time.Minute), User: user, Action: "test", Detail: fmt.Sprint("event ", i)})
	}
	// And 120 more of alice's a day later: her events now span two pages.
	for i := range 120 {
		events = append(events, db.AuditEvent{At: march1.Add(24*time.Hour + time.Duration(i)*time.Minute), User: "alice", Action: "test", Detail: fmt.Sprint("later ", i)})
	}
	seedMany(t, e, events)
	v := e.login(t, auth.RoleViewer)

	users := func(doc *goquery.Document) map[string]int {
		n := map[string]int{}
		doc.Find(`[data-testid="audit-row"] td.nowrap`).Each(func(_ int, s *goquery.Selection) { n[strings.TrimSpace(s.Text())]++ })
		return n
	}
	doc := page(t, v, "/audit?user=alice")
	if got := users(doc); len(got) != 1 || got["alice"] != 100 {
		t.Errorf("first page of alice's events: users %v, want alice 100 times", got)
	}
	if val, _ := doc.Find(`#filter-user`).Attr("value"); val != "alice" {
		t.Errorf("user field = %q, want the filter shown", val)
	}
	older, _ := doc.Find(`[data-testid="older"]`).Attr("href")
	if !strings.Contains(older, "user=alice") || !strings.Contains(older, "before=") {
		t.Fatalf("Older link %q does not keep user=alice", older)
	}
	if got := users(page(t, v, older)); len(got) != 1 || got["alice"] != 85 {
		t.Errorf("second page: users %v, want alice's other 85", got)
	}
	for id, want := range map[string]string{"export-csv": "/audit/export?format=csv&user=alice", "export-json": "/audit/export?format=json&user=alice"} {
		if h, _ := doc.Find(`[data-testid="` + id + `"]`).Attr("href"); h != want {
			t.Errorf("%s = %q, want %q", id, h, want)
		}
	}

	doc = page(t, v, "/audit?from=2025-03-01&to=2025-03-01")
	if got := users(doc); got["alice"] != 50 || got["bob"] != 50 {
		t.Errorf("1 March: users %v, want 50 each on the first page", got)
	}
	older, _ = doc.Find(`[data-testid="older"]`).Attr("href")
	doc = page(t, v, older)
	if got := users(doc); got["alice"] != 15 || got["bob"] != 15 || doc.Find(`[data-testid="older"]`).Length() != 0 {
		t.Errorf("1 March, page 2 (%s): users %v, want the other 15 each and no more pages", older, got)
	}
	doc = page(t, v, "/audit?user=carol")
	if !strings.Contains(doc.Find(`[data-testid="empty"]`).Text(), "No events match this filter.") {
		t.Error("no match: want the filtered empty state")
	}
}

func TestChangesPageFilters(t *testing.T) {
	e := newEnv(t, sysctltest.ProcSys())
	for i, user := range []string{"alice", "bob", "alice"} {
		c := db.Change{Status: db.StatusApplied, Low: 20000 + i, High: 60999, BeforeLow: 32768, BeforeHigh: 60999,
			Reason: fmt.Sprint("change by ", user), User: user, CreatedAt: march1.Add(time.Duration(i) * 24 * time.Hour)}
		if _, _, err := e.h.DB.RecordChange(t.Context(), c, db.AuditEvent{User: user, Action: "change.applied"}, nil); err != nil {
			t.Fatal(err)
		}
	}
	v := e.login(t, auth.RoleViewer)
	for _, tt := range []struct {
		query string
		want  int
	}{
		{"", 3},
		{"user=alice", 2},
		{"user=bob", 1},
		{"from=2025-03-02", 2},
		{"to=2025-03-02&user=alice", 1}, // links list the parameters sorted
	} {
		doc := page(t, v, "/changes?"+tt.query)
		if n := doc.Find(`[data-testid="change-row"]`).Length(); n != tt.want {
			t.Errorf("/changes?%s: %d rows, want %d", tt.query, n, tt.want)
		}
		want := "/changes/export?format=csv"
		if tt.query != "" {
			want += "&" + tt.query
		}
		if h, _ := doc.Find(`[data-testid="export-csv"]`).Attr("href"); h != want {
			t.Errorf("/changes?%s: export link %q, want %q", tt.query, h, want)
		}
	}
}
