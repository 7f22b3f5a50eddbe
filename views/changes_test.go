package views_test

import (
	"strings"
	"testing"

	"portpanel/db"
	"portpanel/views"
)

func changesPage() views.ChangesPage {
	return views.ChangesPage{Chrome: chrome("changes"), Changes: changes(), RolledBackBy: map[int64]int64{2: 3}, CanChange: true}
}

func TestChangesList(t *testing.T) {
	doc, _ := render(t, views.Changes(changesPage()))
	rows := doc.Find(testid("change-row"))
	if rows.Length() != 3 {
		t.Fatalf("rows = %d, want 3", rows.Length())
	}
	for _, tt := range []struct {
		name     string
		id       string
		rollback bool
		contains []string
	}{
		{"rollback of #2 shows ports and links its origin", "3", true, []string{"28,232", "Roll back change #2", "#2"}},
		{"rolled back change shows who undid it", "2", false, []string{"41,000", "rolled back by #3"}},
		{"failed change has no rollback", "1", false, []string{"✗ failed", "wider"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			r := doc.Find(`[data-testid="change-row"][data-id="` + tt.id + `"]`)
			if got := r.Find(testid("rollback")).Length() == 1; got != tt.rollback {
				t.Errorf("rollback = %v, want %v", got, tt.rollback)
			}
			for _, s := range tt.contains {
				if !strings.Contains(text(r), s) {
					t.Errorf("row %q lacks %q", text(r), s)
				}
			}
		})
	}
}

func TestChangesDiffAndError(t *testing.T) {
	doc, _ := render(t, views.Changes(changesPage()))
	if n := doc.Find("details " + testid("diff")).Length(); n != 2 {
		t.Errorf("expandable diffs = %d, want 2", n)
	}
	diff := doc.Find(testid("diff")).First()
	for class, line := range map[string]string{
		"diff-add":  "+net.ipv4.ip_local_port_range = 20000 60999",
		"diff-del":  "-net.ipv4.ip_local_port_range = 32768 60999",
		"diff-hunk": "@@ -1 +1 @@",
		"diff-file": "--- " + managed,
	} {
		if got := strings.TrimSpace(diff.Find("." + class).First().Text()); got != line {
			t.Errorf(".%s = %q, want %q", class, got, line)
		}
	}
	if got := text(doc.Find(testid("change-error"))); !strings.Contains(got, "kernel refused 1000 60999") {
		t.Errorf("failed change error = %q", got)
	}
}

func TestChangesPaging(t *testing.T) {
	p := changesPage()
	doc, _ := render(t, views.Changes(p))
	if doc.Find(testid("older")).Length() != 0 {
		t.Error("Older link without a next page")
	}
	p.Next = 41
	doc, _ = render(t, views.Changes(p))
	if h, _ := doc.Find(testid("older")).Attr("href"); h != "/changes?before=41" {
		t.Errorf("older = %q", h)
	}
}

func TestChangesEmptyAndViewer(t *testing.T) {
	p := changesPage()
	p.CanChange = false
	doc, _ := render(t, views.Changes(p))
	if doc.Find(testid("rollback")).Length() != 0 {
		t.Error("viewer sees rollback")
	}
	if n := doc.Find(`form[method="post"]`).Length(); n != 1 { // sign out only
		t.Errorf("forms that post = %d, want only sign out", n)
	}
	p.Changes = nil
	doc, _ = render(t, views.Changes(p))
	if !strings.HasPrefix(text(doc.Find(testid("empty"))), "No changes yet.") {
		t.Errorf("empty = %q", text(doc.Find(testid("empty"))))
	}
}

func TestChangeDetail(t *testing.T) {
	cs := changes()
	for _, tt := range []struct {
		name     string
		page     views.ChangePage
		contains map[string]string // data-testid → substring
		rollback bool
	}{
		{"applied and rolled back", views.ChangePage{Chrome: chrome("changes"), Change: cs[1], RolledBackBy: []db.Change{cs[0]}, CanRollback: true},
			map[string]string{"before": "32768 – 60999", "after": "20000 – 60999", "reason": "more ports for haproxy", "rolled-back-by": "#3", "diff": "+net.ipv4"}, true},
		{"a rollback links what it undid", views.ChangePage{Chrome: chrome("changes"), Change: cs[0]},
			map[string]string{"rollback-of": "change #2", "status": "✓ applied"}, false},
		{"failed shows why", views.ChangePage{Chrome: chrome("changes"), Change: cs[2]},
			map[string]string{"change-error": "kernel refused", "status": "✗ failed"}, false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			doc, _ := render(t, views.Change(tt.page))
			for id, want := range tt.contains {
				if got := text(doc.Find(testid(id))); !strings.Contains(got, want) {
					t.Errorf("%s = %q, want it to contain %q", id, got, want)
				}
			}
			f := doc.Find(testid("rollback-form"))
			if got := f.Length() == 1; got != tt.rollback {
				t.Fatalf("rollback form = %v, want %v", got, tt.rollback)
			}
			if !tt.rollback {
				return
			}
			if a, _ := f.Attr("action"); a != "/changes/2/rollback" {
				t.Errorf("action = %q", a)
			}
			r := f.Find(`input[type="text"][name="reason"]`)
			if v, _ := r.Attr("value"); v != "Roll back change #2" {
				t.Errorf("reason = %q", v)
			}
			if _, ok := r.Attr("required"); !ok {
				t.Error("reason not required")
			}
			if got := text(f.Find(testid("rollback"))); got != "Roll back to 32768 – 60999" {
				t.Errorf("button = %q", got)
			}
		})
	}
}
