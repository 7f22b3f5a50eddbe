package views_test

import (
	"strings"
	"testing"

	"portpanel/views"
)

func TestAuditRows(t *testing.T) {
	doc, _ := render(t, views.Audit(audit()))
	rows := doc.Find(testid("audit-row"))
	if rows.Length() != 2 {
		t.Fatalf("rows = %d, want 2", rows.Length())
	}
	if h, _ := rows.Eq(0).Find(testid("audit-change")).Attr("href"); h != "/changes/3" {
		t.Errorf("change link = %q", h)
	}
	if got := text(rows.Eq(1)); !strings.Contains(got, "system") || !strings.Contains(got, "range.external") {
		t.Errorf("system row = %q", got)
	}
	if rows.Eq(1).Find(testid("audit-change")).Length() != 0 {
		t.Error("change link without a change")
	}
	if h, _ := doc.Find(testid("older")).Attr("href"); h != "/audit?before=7" {
		t.Errorf("older = %q", h)
	}
}

func TestAuditChain(t *testing.T) {
	for _, tt := range []struct {
		name  string
		edit  func(*views.AuditPage)
		want  string
		alert bool
	}{
		{"verified", func(p *views.AuditPage) {}, "✓ Hash chain verified (1,234 events)", false},
		{"broken", func(p *views.AuditPage) { p.ChainOK, p.ChainError = false, "event 8: hash mismatch" }, "✗ Hash chain broken: event 8: hash mismatch", true},
		{"not verified", func(p *views.AuditPage) { p.ChainOK = false }, "Hash chain not verified.", false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			p := audit()
			tt.edit(&p)
			doc, _ := render(t, views.Audit(p))
			c := doc.Find(testid("chain"))
			if got := text(c); got != tt.want {
				t.Errorf("chain = %q, want %q", got, tt.want)
			}
			if role, _ := c.Attr("role"); (role == "alert") != tt.alert {
				t.Errorf("role = %q, alert want %v", role, tt.alert)
			}
		})
	}
}

func TestAuditEmpty(t *testing.T) {
	p := audit()
	p.Events, p.Next = nil, 0
	doc, _ := render(t, views.Audit(p))
	if doc.Find(testid("empty")).Length() != 1 || doc.Find(testid("older")).Length() != 0 {
		t.Error("empty audit log: want empty state and no Older link")
	}
}

func TestAuditDetailWithDiff(t *testing.T) {
	p := audit()
	p.Events[0].Detail = "net.ipv4.ip_local_port_range 32768 60999 → 20000 60999. Reason: more ports\n" + diff
	doc, _ := render(t, views.Audit(p))
	row := doc.Find(testid("audit-row")).First()
	if got := text(row.Find(testid("audit-detail"))); got != "net.ipv4.ip_local_port_range 32768 60999 → 20000 60999. Reason: more ports" {
		t.Errorf("summary = %q", got)
	}
	more := row.Find(testid("audit-more"))
	if got := strings.TrimSpace(more.Find(".diff-add").Text()); got != "+net.ipv4.ip_local_port_range = 20000 60999" {
		t.Errorf("diff added line = %q", got)
	}
	if more.Find(".diff-hunk").Length() != 1 {
		t.Error("diff not rendered line by line")
	}
	if doc.Find(testid("audit-row")).Eq(1).Find(testid("audit-more")).Length() != 0 {
		t.Error("one-line detail got a diff block")
	}
	if !row.Find("td").Eq(1).HasClass("nowrap") {
		t.Error("user column wraps")
	}
}
