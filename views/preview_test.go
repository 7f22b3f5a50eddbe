package views_test

import (
	"strings"
	"testing"

	"portpanel/views"
)

func TestPreviewShowsTheEffect(t *testing.T) {
	doc, _ := render(t, views.Preview(preview()))
	if got := text(doc.Find("h1")); got != "Review change" {
		t.Errorf("h1 = %q", got)
	}
	for id, want := range map[string]string{
		"review-before":       "32768 – 60999",
		"review-after":        "20000 – 60999",
		"review-ports-before": "28,232 ports",
		"review-ports-after":  "41,000 ports",
		"review-reason":       "more ports for haproxy",
		"review-revert":       "Once applied, it reverts automatically after 5 minutes unless confirmed.",
		"review-warnings":     "⚠ Warning: low and high have the same parity",
		"review-notes":        "ℹ Note: The setting is added at the end of the file.",
		"review-nothing-yet":  "Nothing has changed yet.",
	} {
		if got := text(doc.Find(testid(id))); !strings.Contains(got, want) {
			t.Errorf("%s = %q, want it to contain %q", id, got, want)
		}
	}
	if n := doc.Find(testid("review-notes")); n.HasClass("warnings") || n.Closest(".card-warn").Length() != 0 {
		t.Error("notes styled as warnings")
	}
	d := doc.Find(testid("review-diff"))
	if got := strings.TrimSpace(d.Find(".diff-add").Text()); got != "+net.ipv4.ip_local_port_range = 20000 60999" {
		t.Errorf("added line = %q", got)
	}
}

func TestPreviewWithoutDiffOrWindow(t *testing.T) {
	p := preview()
	p.Diff, p.Form.ConfirmWithin, p.Warnings, p.Notes = "", "0", nil, nil
	doc, _ := render(t, views.Preview(p))
	if got := text(doc.Find(testid("review-diff"))); got != managed+" already has this value; it will not be written." {
		t.Errorf("empty diff = %q", got)
	}
	if got := text(doc.Find(testid("review-revert"))); strings.Contains(got, "reverts automatically") {
		t.Errorf("revert = %q with the window off", got)
	}
	if doc.Find(testid("review-warnings")).Length()+doc.Find(testid("review-notes")).Length() != 0 {
		t.Error("empty warnings or notes shown")
	}
}

func TestPreviewForms(t *testing.T) {
	hidden := map[string]string{
		"low": "20000", "high": "60999", "reason": "more ports for haproxy", "confirm_within": "300",
		"base_low": "32768", "base_high": "60999", "base_file": "sha256:abc",
	}
	for _, tt := range []struct {
		name, button, flag, label string
	}{
		{"confirm applies what was reviewed", "confirm-change", "confirm", "Apply change"},
		{"back to edit keeps the values", "edit-change", "edit", "Back to edit"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			doc, _ := render(t, views.Preview(preview()))
			b := doc.Find(testid(tt.button))
			if got := text(b); got != tt.label {
				t.Errorf("button = %q, want %q", got, tt.label)
			}
			f := b.Closest("form")
			if a, _ := f.Attr("action"); a != "/changes" {
				t.Errorf("action = %q", a)
			}
			want := map[string]string{tt.flag: "yes"}
			for k, v := range hidden {
				want[k] = v
			}
			for name, v := range want {
				in := f.Find(`input[type="hidden"][name="` + name + `"]`)
				if got, ok := in.Attr("value"); in.Length() != 1 || !ok || got != v {
					t.Errorf("%s = %q (%d inputs), want %q", name, got, in.Length(), v)
				}
			}
			for _, other := range []string{"confirm", "edit"} {
				if other != tt.flag && f.Find(`input[name="`+other+`"]`).Length() != 0 {
					t.Errorf("form also sends %s", other)
				}
			}
		})
	}
}

func TestPreviewRequiringApproval(t *testing.T) {
	doc, _ := render(t, views.Preview(preview()))
	if doc.Find(testid("review-approval")).Length() != 0 {
		t.Error("approval wording without approval")
	}
	p := preview()
	p.RequiresApproval = true
	doc, _ = render(t, views.Preview(p))
	if got := text(doc.Find(testid("confirm-change"))); got != "Submit for approval" {
		t.Errorf("button = %q", got)
	}
	if got := text(doc.Find(testid("review-approval"))); !strings.Contains(got, "approval by a second person") {
		t.Errorf("approval = %q", got)
	}
}

func TestPreviewImpact(t *testing.T) {
	doc, _ := render(t, views.Preview(preview()))
	if doc.Find(testid("review-impact")).Length() != 0 {
		t.Fatal("impact box without an impact")
	}
	for _, tt := range []struct {
		share            float64
		pct, level, pill string
		full             bool
	}{
		{0.5, "50%", "ok", "✓ OK", false},
		{0.846, "84.6%", "warning", "⚠ Warning", false},
		{0.9, "90%", "critical", "✗ Critical", false},
		{1, "100%", "critical", "✗ Critical", true},
	} {
		t.Run(tt.level, func(t *testing.T) {
			p := preview()
			p.Impact, p.Risk = impact(tt.share), risk
			doc, _ := render(t, views.Preview(p))
			box := doc.Find(testid("review-impact"))
			if box.Length() != 1 {
				t.Fatal("no impact box")
			}
			if got := text(box.Find("h2")); got != "Impact on current connections" {
				t.Errorf("heading = %q", got)
			}
			if got := text(box.Find(testid("impact-outside"))); !strings.HasPrefix(got, "1,234 sockets use local ports outside 20000 – 60999.") {
				t.Errorf("outside = %q", got)
			}
			if got := text(box.Find(testid("impact-capacity"))); got != "24,000 ports under the new range · ≈ 400 new connections/s to any one destination" {
				t.Errorf("capacity = %q", got)
			}
			want := "10.0.0.5:443 from 10.0.0.1 · 20,304 sockets would be " + tt.pct + " of the new capacity " + tt.pill
			if got := text(box.Find(testid("impact-busiest"))); !strings.HasPrefix(got, want) {
				t.Errorf("busiest = %q, want %q", got, want)
			}
			if lvl, _ := box.Find(testid("level")).Attr("data-level"); lvl != tt.level {
				t.Errorf("level = %q", lvl)
			}
			if got := box.Find(testid("impact-full")).Length() == 1; got != tt.full {
				t.Errorf("full warning shown = %v, want %v", got, tt.full)
			}
			if !box.HasClass("card-warn") {
				t.Error("sockets outside the new range: the box should warn")
			}
		})
	}
}

func TestPreviewImpactCalm(t *testing.T) {
	p := preview()
	p.Impact, p.Risk = impact(0.1), risk
	p.Impact.Outside = 0
	doc, _ := render(t, views.Preview(p))
	box := doc.Find(testid("review-impact"))
	if got := text(box.Find(testid("impact-outside"))); got != "No socket uses a local port outside 20000 – 60999." {
		t.Errorf("outside = %q", got)
	}
	if box.HasClass("card-warn") {
		t.Error("nothing outside and the share is ok: no warning styling")
	}
	p.Impact.Busiest, p.Impact.BusiestRisk = nil, 0
	doc, _ = render(t, views.Preview(p))
	if got := text(doc.Find(testid("impact-busiest"))); !strings.HasPrefix(got, "none") {
		t.Errorf("busiest = %q", got)
	}
}
