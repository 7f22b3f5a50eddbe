package views_test

import (
	"strings"
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"

	"portpanel/db"
	"portpanel/views"
)

func tp(t time.Time) *time.Time { return &t }

// Every status reads as words with its own icon; the class only adds colour
// by what the status asks of the reader.
func TestStatusPills(t *testing.T) {
	for _, tt := range []struct {
		status, text, class string
	}{
		{db.StatusProposed, "○ proposed", "pill-info"},
		{db.StatusApproved, "◐ approved", "pill-info"},
		{db.StatusApplying, "↻ applying", "pill-warn"},
		{db.StatusReverted, "↶ reverted", "pill-warn"},
		{db.StatusRejected, "⊘ rejected", "pill-bad"},
		{db.StatusFailed, "✗ failed", "pill-bad"},
		{db.StatusApplied, "✓ applied", "pill-ok"},
		{db.StatusConfirmed, "✔ confirmed", "pill-ok"},
		{"mystery", "mystery", ""},
	} {
		t.Run(tt.status, func(t *testing.T) {
			list := changesPage()
			list.Changes[0].Status = tt.status
			dl, _ := render(t, views.Changes(list))
			dp, _ := render(t, views.Change(views.ChangePage{Chrome: chrome("changes"), Change: list.Changes[0]}))
			for name, pill := range map[string]*goquery.Selection{
				"list": dl.Find(testid("status")).First(),
				"page": dp.Find(testid("status")),
			} {
				if got := text(pill); got != tt.text {
					t.Errorf("%s: text = %q, want %q", name, got, tt.text)
				}
				if !pill.HasClass("pill") || tt.class != "" && !pill.HasClass(tt.class) {
					t.Errorf("%s: class = %q, want pill %s", name, pill.AttrOr("class", ""), tt.class)
				}
			}
		})
	}
}

func TestChangeLifecycleFacts(t *testing.T) {
	base := changes()[1]
	for _, tt := range []struct {
		name     string
		edit     func(*db.Change)
		contains map[string]string // data-testid → substring
		absent   []string
		heading  string
	}{
		{"approved and applied",
			func(c *db.Change) {
				c.DecidedBy, c.DecidedAt, c.DecisionReason = "carol", tp(now.Add(-time.Hour)), "looks fine"
			},
			map[string]string{"decided-by": "carol at 13:05 UTC", "decision-reason": "looks fine"},
			[]string{"confirmed-by", "emergency", "confirm-by"}, "Diff of " + managed},
		{"rejected says so and wrote nothing",
			func(c *db.Change) {
				c.Status, c.DecidedBy, c.DecidedAt, c.DecisionReason = db.StatusRejected, "carol", tp(now), "wrong host"
			},
			map[string]string{"decided-by": "carol", "decision-reason": "wrong host"}, nil, "Planned diff (not written)"},
		{"proposal's diff is only planned", func(c *db.Change) { c.Status = db.StatusProposed },
			nil, []string{"decided-by", "decision-reason"}, "Planned diff (not written)"},
		{"awaiting confirmation shows the deadline",
			func(c *db.Change) { c.ConfirmWithin, c.ConfirmBy = 5*time.Minute, tp(now.Add(90*time.Second)) },
			map[string]string{"confirm-by": "14:06 UTC", "countdown": "1:30 left", "confirm-within": "after 5 minutes unless confirmed"},
			nil, "Diff of " + managed},
		{"confirmed",
			func(c *db.Change) {
				c.Status, c.ConfirmWithin, c.ConfirmBy = db.StatusConfirmed, 5*time.Minute, tp(now.Add(time.Minute))
				c.ConfirmedBy, c.ConfirmedAt = "dave", tp(now.Add(-2*time.Minute))
			},
			map[string]string{"confirmed-by": "Confirmed by dave at 14:03 UTC"}, []string{"confirm-by"}, "Diff of " + managed},
		{"reverted diff was written", func(c *db.Change) { c.Status = db.StatusReverted }, nil, nil, "Diff of " + managed},
		{"emergency rollback is marked",
			func(c *db.Change) { c.Emergency, c.RollbackOf = true, i64(1) },
			map[string]string{"emergency": "Emergency rollback (approval skipped)"}, nil, "Diff of " + managed},
	} {
		t.Run(tt.name, func(t *testing.T) {
			c := base
			tt.edit(&c)
			doc, _ := render(t, views.Change(views.ChangePage{Chrome: chrome("changes"), Change: c}))
			for id, want := range tt.contains {
				if got := text(doc.Find(testid(id))); !strings.Contains(got, want) {
					t.Errorf("%s = %q, want it to contain %q", id, got, want)
				}
			}
			for _, id := range tt.absent {
				if doc.Find(testid(id)).Length() != 0 {
					t.Errorf("%s shown", id)
				}
			}
			if got := text(doc.Find(testid("diff-heading"))); got != tt.heading {
				t.Errorf("diff heading = %q, want %q", got, tt.heading)
			}
		})
	}
}

func TestChangeDecisionLabel(t *testing.T) {
	c := changes()[1]
	c.DecidedBy, c.DecidedAt = "carol", tp(now)
	for status, want := range map[string]string{db.StatusRejected: "Rejected by", db.StatusApplied: "Approved by", db.StatusFailed: "Approved by"} {
		c.Status = status
		doc, _ := render(t, views.Change(views.ChangePage{Chrome: chrome("changes"), Change: c}))
		if got := text(doc.Find(testid("decided-by")).Prev()); got != want {
			t.Errorf("%s: label = %q, want %q", status, got, want)
		}
	}
}

func TestChangeNotesAreNotWarnings(t *testing.T) {
	c := changes()[1]
	c.Warnings, c.Notes = []string{"same parity"}, []string{"added at the end of the file"}
	doc, _ := render(t, views.Change(views.ChangePage{Chrome: chrome("changes"), Change: c}))
	if got := text(doc.Find(testid("change-notes"))); got != "ℹ Note: added at the end of the file" {
		t.Errorf("notes = %q", got)
	}
	if strings.Contains(text(doc.Find(testid("change-warnings"))), "added at the end") {
		t.Error("a note among the warnings")
	}
}

func TestChangeActions(t *testing.T) {
	proposal := proposals()[0]
	awaitingChange := changes()[0]
	awaitingChange.ConfirmBy = tp(now.Add(time.Minute))
	for _, tt := range []struct {
		name    string
		page    views.ChangePage
		present map[string]string // data-testid → its form's action
		absent  []string
	}{
		{"an approver decides on a proposal", views.ChangePage{Chrome: chrome("changes"), Change: proposal, CanDecide: true},
			map[string]string{"approve": "/changes/5/approve", "reject": "/changes/5/reject"}, []string{"confirm-button", "rollback"}},
		{"nobody else decides", views.ChangePage{Chrome: chrome("changes"), Change: proposal},
			nil, []string{"approve", "reject"}},
		{"confirm while awaiting", views.ChangePage{Chrome: chrome("changes"), Change: awaitingChange, CanConfirm: true},
			map[string]string{"confirm-button": "/changes/3/confirm"}, []string{"approve"}},
		{"no confirm without the right", views.ChangePage{Chrome: chrome("changes"), Change: awaitingChange},
			nil, []string{"confirm-button"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			doc, _ := render(t, views.Change(tt.page))
			for id, action := range tt.present {
				if a, _ := doc.Find(testid(id)).Closest("form").Attr("action"); a != action {
					t.Errorf("%s action = %q, want %q", id, a, action)
				}
			}
			for _, id := range tt.absent {
				if doc.Find(testid(id)).Length() != 0 {
					t.Errorf("%s shown", id)
				}
			}
		})
	}
}

func TestChangeRollbackProposes(t *testing.T) {
	p := views.ChangePage{Chrome: chrome("changes"), Change: changes()[1], CanRollback: true, RollbackProposes: true}
	doc, _ := render(t, views.Change(p))
	if got := text(doc.Find(testid("rollback"))); got != "Propose rollback" {
		t.Errorf("button = %q", got)
	}
	if got := text(doc.Find(testid("rollback-proposes"))); !strings.Contains(got, "an approver must approve it") {
		t.Errorf("text = %q", got)
	}
}

func TestErrorNextLink(t *testing.T) {
	p := views.ErrorPage{Chrome: chrome(""), Code: 409, Title: "Conflict", Message: "The range changed since you reviewed it."}
	doc, _ := render(t, views.Error(p))
	if doc.Find(testid("error-next")).Length() != 0 {
		t.Error("next link without NextHref")
	}
	p.NextLabel, p.NextHref = "Start a new change from the current state", "/"
	doc, _ = render(t, views.Error(p))
	a := doc.Find(testid("error-next"))
	if h, _ := a.Attr("href"); h != "/" || text(a) != p.NextLabel || !a.HasClass("btn-primary") {
		t.Errorf("next = %q → %q (class %q)", text(a), h, a.AttrOr("class", ""))
	}
}
