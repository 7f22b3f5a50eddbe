package views_test

import (
	"bytes"
	"context"
	"testing"
	"time"

	"github.com/a-h/templ"

	"portpanel/db"
	"portpanel/views"
)

// Rendering cost of the pages bench/run.sh loads (issue 6), without the
// database or HTTP: go test -run XXX -bench . -benchmem ./views/

func benchRender(b *testing.B, c templ.Component) {
	b.Helper()
	var buf bytes.Buffer
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		buf.Reset()
		if err := c.Render(ctx, &buf); err != nil {
			b.Fatal(err)
		}
	}
	b.SetBytes(int64(buf.Len()))
}

func BenchmarkDashboard(b *testing.B) { benchRender(b, views.Dashboard(dashboard())) }

// BenchmarkChrome is the frame every page shares (head, top bar,
// navigation, sign-out form) around a short error message.
func BenchmarkChrome(b *testing.B) {
	benchRender(b, views.Error(views.ErrorPage{Chrome: chrome("dashboard"), Code: 404, Title: "Not found", Message: "No such page."}))
}

// BenchmarkHistory30d is /history?window=30d as the seeded benchmark
// databases give it: a range sample an hour, the usage chart's 720 hourly
// points and a day of raw ones, a page of 100 samples and the 1,000
// changes the charts link their markers to.
// history30d is a 30-day history page: hourly samples and usage, the last
// hour's raw usage, 1,000 changes.
func history30d() views.HistoryPage {
	p := history()
	p.Window, p.ChartFrom = "30d", now.Add(-30*24*time.Hour)
	p.Chart, p.Samples, p.Usage, p.Changes = nil, nil, nil, nil
	for h := 30 * 24; h >= 0; h-- {
		at := now.Add(-time.Duration(h) * time.Hour)
		// Two in three a change, in portpanel or outside, as bench/cmd/seed
		// writes them: the charts draw a marker for each.
		source := []string{db.SourceSample, db.SourceChange, db.SourceExternal}[h%3]
		p.Chart = append(p.Chart, db.Sample{ID: int64(1000 - h), At: at, Low: 32768 - 2*(h%5), High: 60999, Source: source})
		p.Usage = append(p.Usage, db.UsagePoint{At: at, RangeLow: 32768, RangeHigh: 60999, Capacity: 28232,
			InUseMax: 1400, TimeWaitMax: 900, BusiestRisk: 0.02, Hourly: true})
	}
	for i := range 120 {
		p.Usage = append(p.Usage, db.UsagePoint{At: now.Add(-time.Duration(120-i) * 30 * time.Second), RangeLow: 32768, RangeHigh: 60999,
			Capacity: 28232, InUseMax: 1000, TimeWaitMax: 600, BusiestRisk: 0.02})
	}
	for i := range 100 {
		p.Samples = append(p.Samples, p.Chart[len(p.Chart)-1-i])
	}
	for i := range 1000 {
		c := changes()[1]
		p.Changes = append(p.Changes, db.ChangeMark{ID: int64(1000 - i), Status: c.Status, Low: c.Low, High: c.High,
			CreatedAt: now.Add(-time.Duration(i) * time.Hour), UpdatedAt: c.UpdatedAt})
	}
	return p
}

func BenchmarkHistory30d(b *testing.B) {
	benchRender(b, views.History(history30d()))
}

// changes50 is a full /changes page: 50 changes, most applied with their
// diff, some rolled back, some failed, every other one by a rollback.
func changes50() views.ChangesPage {
	p := views.ChangesPage{Chrome: chrome("changes"), RolledBackBy: map[int64]int64{}, CanChange: true, Next: 50}
	for i := range 50 {
		c := changes()[i%3]
		c.ID = int64(100 - i)
		c.CreatedAt = now.Add(-time.Duration(i) * 37 * time.Minute)
		if i%4 == 1 {
			p.RolledBackBy[c.ID] = c.ID + 1
		}
		p.Changes = append(p.Changes, c)
	}
	return p
}

// BenchmarkChanges is /changes with its 50 rows, the same table as the
// dashboard's recent changes.
func BenchmarkChanges(b *testing.B) { benchRender(b, views.Changes(changes50())) }

// audit50 is a full /audit page of 50 events as bench/cmd/seed's changes
// write them: proposals and applies with their diff and change link,
// external edits by the system, a few sign-ins.
func audit50() views.AuditPage {
	p := views.AuditPage{Chrome: chrome("audit"), Next: 50, ChainOK: true, Verified: 12345,
		VerifiedFullAt: now.Add(-3 * time.Hour), VerifiedNewer: 50}
	for i := range 50 {
		e := db.AuditEvent{ID: int64(100 - i), At: now.Add(-time.Duration(i) * 37 * time.Minute), User: "alice"}
		id := int64(60 - i/2)
		switch i % 4 {
		case 0:
			e.Action, e.Detail, e.ChangeID = "change.proposed", "Proposed change: 32768 – 60999, reason: more ports\n"+diff, &id
		case 1:
			e.Action, e.Detail, e.ChangeID = "change.applied", "Applied change: 32768 – 60999\n"+diff, &id
		case 2:
			e.User, e.Action, e.Detail = "", "range.external", "Range changed outside portpanel: 20000 – 65000"
		default:
			e.Action, e.Detail = "user.login", "Signed in from 127.0.0.1"
		}
		p.Events = append(p.Events, e)
	}
	return p
}

// BenchmarkAudit is /audit with 50 events, half of them with a diff.
func BenchmarkAudit(b *testing.B) { benchRender(b, views.Audit(audit50())) }
