package views_test

import (
	"strings"
	"testing"

	"portpanel/views"
)

func pending() views.PendingPage {
	return views.PendingPage{Chrome: chrome("pending"), Proposals: proposals(), CanDecide: true}
}

func TestPendingProposals(t *testing.T) {
	doc, _ := render(t, views.Pending(pending()))
	if got := text(doc.Find("h1")); got != "Pending approval" {
		t.Errorf("h1 = %q", got)
	}
	if n := doc.Find(testid("proposal")).Length(); n != 2 {
		t.Fatalf("proposals = %d, want 2", n)
	}
	for _, tt := range []struct {
		name     string
		id       string
		decide   bool
		contains []string
	}{
		{"someone else's can be approved or rejected", "5", true,
			[]string{"bob", "more ports for haproxy", "32768 – 60999 → 20000 – 60999", "13:55 UTC", "same parity"}},
		{"one's own cannot", "6", false, []string{"Your proposal: another approver must decide."}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			p := doc.Find(`[data-testid="proposal"][data-id="` + tt.id + `"]`)
			if h, _ := p.Find(testid("proposal-link")).Attr("href"); h != "/changes/"+tt.id {
				t.Errorf("link = %q", h)
			}
			for _, s := range tt.contains {
				if !strings.Contains(text(p), s) {
					t.Errorf("proposal %q lacks %q", text(p), s)
				}
			}
			if p.Find(testid("diff")+" .diff-add").Length() != 1 {
				t.Error("no diff")
			}
			approve, reject := p.Find(testid("approve")), p.Find(testid("reject"))
			if got := approve.Length() == 1 && reject.Length() == 1; got != tt.decide {
				t.Fatalf("decision buttons = %v, want %v", got, tt.decide)
			}
			if !tt.decide {
				if approve.Length()+reject.Length() != 0 {
					t.Error("a decision button on one's own proposal")
				}
				return
			}
			for button, action := range map[string]string{"approve": "/changes/5/approve", "reject": "/changes/5/reject"} {
				f := p.Find(testid(button)).Closest("form")
				if a, _ := f.Attr("action"); a != action {
					t.Errorf("%s action = %q", button, a)
				}
				r := f.Find(`input[type="text"][name="reason"]`)
				if _, req := r.Attr("required"); r.Length() != 1 || req != (button == "reject") {
					t.Errorf("%s reason: %d inputs, required %v", button, r.Length(), req)
				}
			}
		})
	}
}

func TestPendingForOperator(t *testing.T) {
	p := pending()
	p.CanDecide = false
	doc, _ := render(t, views.Pending(p))
	if doc.Find(testid("approve")).Length()+doc.Find(testid("reject")).Length() != 0 {
		t.Error("decision buttons for someone who cannot decide")
	}
}

func TestPendingEmpty(t *testing.T) {
	p := pending()
	p.Proposals = nil
	doc, _ := render(t, views.Pending(p))
	if got := text(doc.Find(testid("empty"))); !strings.HasPrefix(got, "Nothing is waiting for approval.") {
		t.Errorf("empty = %q", got)
	}
}
