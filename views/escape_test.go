package views_test

import (
	"strings"
	"testing"

	"github.com/PuerkitoBio/goquery"

	"portpanel/db"
	"portpanel/views"
)

// Whatever the data holds arrives as text, never as markup, in element
// content and in attributes alike: the dashboard's rows, pills, form and
// gauge were once written by hand, with an escaper of their own.
func TestFragmentsEscapeWhatTheyWrite(t *testing.T) {
	const evil = `<b id="x">&'"`
	p := dashboard()
	p.Chrome.Nav = evil
	p.CSRF = evil
	p.Form = views.ChangeForm{Low: evil, High: "1", Errors: map[string]string{"low": evil}}
	for i := range p.Recent {
		p.Recent[i].User = evil
	}
	p.Recent[0].Status = evil // an unknown status: no icon, no colour class
	p.RolledBackBy = nil      // so #2 offers its Rollback form
	u := *p.Usage
	u.Destinations = []db.UsageDestination{{LocalIP: evil, Destination: evil, Sockets: 3, Risk: 0.0001}}
	u.TCPStates = map[string]int{evil: 2}
	u.BusiestRisk = 0.0001 // reads "<0.1%"
	p.Usage = &u
	p.Risk = views.RiskThresholds{Warning: 0.0005, Critical: 0.9}
	doc, html := render(t, views.Dashboard(p))
	if n := doc.Find("b#x").Length(); n > 0 {
		t.Fatalf("%d <b> elements made of the data", n)
	}
	// Unknown TCP states are listed after the known ones, before UDP.
	states := doc.Find(`[data-testid="state-row"]`)
	evilState := states.Eq(states.Length() - 2)
	for what, sel := range map[string]*goquery.Selection{
		"user":        doc.Find(`[data-testid="change-row"] td:nth-of-type(2)`),
		"status":      doc.Find(testid("status")),
		"destination": doc.Find(`[data-testid="destination-row"] code`),
		"state":       evilState.Find("code"),
		"port error":  doc.Find(testid("low-error")),
	} {
		if got := text(sel.First()); !strings.Contains(got, evil) {
			t.Errorf("%s: %q, want the text %q", what, got, evil)
		}
	}
	for what, a := range map[string]struct {
		sel  *goquery.Selection
		attr string
	}{
		"port value":    {doc.Find(`input#low`), "value"},
		"CSRF field":    {doc.Find(`input[name="csrf"]`), "value"},
		"state data":    {evilState, "data-state"},
		"rollback CSRF": {doc.Find(`[data-testid="change-row"] form input[name="csrf"]`), "value"},
	} {
		if got, ok := a.sel.First().Attr(a.attr); !ok || got != evil {
			t.Errorf("%s: %s=%q, want %q", what, a.attr, got, evil)
		}
	}
	if got := text(doc.Find(testid("usage-risk-value"))); got != "<0.1%" {
		t.Errorf("risk %q, want <0.1%%", got)
	}
	if label, _ := doc.Find(testid("usage-gauge")).Attr("aria-label"); !strings.Contains(label, "uses <0.1% of capacity") || !strings.Contains(label, "warning from <0.1%") {
		t.Errorf("gauge label %q, want the tiny share and threshold as <0.1%%", label)
	}
	if pill := doc.Find(testid("status")).First(); pill.AttrOr("class", "") != "pill" || pill.Find(`[aria-hidden]`).Length() != 0 {
		t.Errorf("unknown status pill %q with %d icons, want the bare pill", pill.AttrOr("class", ""), pill.Find(`[aria-hidden]`).Length())
	}
	if strings.Contains(html, evil) {
		t.Error("the raw string appears unescaped in the HTML")
	}
}
