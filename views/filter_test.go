package views_test

import (
	"testing"

	"github.com/a-h/templ"

	"portpanel/views"
)

// filtered renders the audit and changes pages with filter f.
func filtered(f views.ListFilter) map[string]templ.Component {
	a := audit()
	a.Filter = f
	c := changesPage()
	c.Filter, c.Next = f, 1
	return map[string]templ.Component{"/audit": views.Audit(a), "/changes": views.Changes(c)}
}

func TestListFilterForm(t *testing.T) {
	for path, page := range filtered(views.ListFilter{User: "alice", From: "2026-07-01", To: "2026-07-14"}) {
		t.Run(path, func(t *testing.T) {
			doc, _ := render(t, page)
			form := doc.Find(testid("filter"))
			if m, _ := form.Attr("method"); m != "get" {
				t.Errorf("method = %q, want get: a filter is a link anyone can share", m)
			}
			if a, _ := form.Attr("action"); a != path {
				t.Errorf("action = %q, want %q", a, path)
			}
			for _, f := range []struct{ name, typ, value string }{
				{"user", "text", "alice"}, {"from", "date", "2026-07-01"}, {"to", "date", "2026-07-14"},
			} {
				in := form.Find(`input[name="` + f.name + `"]`)
				typ, _ := in.Attr("type")
				val, _ := in.Attr("value")
				if in.Length() != 1 || typ != f.typ || val != f.value {
					t.Errorf("input %s: %d found, type %q, value %q; want type %q, value %q", f.name, in.Length(), typ, val, f.typ, f.value)
				}
			}
			q := "from=2026-07-01&to=2026-07-14&user=alice"
			for id, want := range map[string]string{
				"export-csv":   path + "/export?format=csv&" + q,
				"export-json":  path + "/export?format=json&" + q,
				"filter-clear": path,
			} {
				if h, _ := doc.Find(testid(id)).Attr("href"); h != want {
					t.Errorf("%s = %q, want %q", id, h, want)
				}
			}
			if h, _ := doc.Find(testid("older")).Attr("href"); h != path+"?"+q+"&before="+map[string]string{"/audit": "7", "/changes": "1"}[path] {
				t.Errorf("older = %q: want it to keep the filter", h)
			}
		})
	}
}

func TestListFilterUnset(t *testing.T) {
	for path, page := range filtered(views.ListFilter{}) {
		t.Run(path, func(t *testing.T) {
			doc, _ := render(t, page)
			if h, _ := doc.Find(testid("export-csv")).Attr("href"); h != path+"/export?format=csv" {
				t.Errorf("export-csv = %q", h)
			}
			if doc.Find(testid("filter-clear")).Length() != 0 {
				t.Error("Clear filter link without a filter")
			}
			if h, _ := doc.Find(testid("older")).Attr("href"); h != path+"?before="+map[string]string{"/audit": "7", "/changes": "1"}[path] {
				t.Errorf("older = %q", h)
			}
		})
	}
}

func TestListFilterEscapesValues(t *testing.T) {
	doc, _ := render(t, filtered(views.ListFilter{User: `a&b "c"`, To: "2026-07-14T09:30:00+02:00"})["/audit"])
	if h, _ := doc.Find(testid("export-json")).Attr("href"); h != "/audit/export?format=json&to=2026-07-14T09%3A30%3A00%2B02%3A00&user=a%26b+%22c%22" {
		t.Errorf("export-json = %q", h)
	}
	if v, _ := doc.Find("#filter-user").Attr("value"); v != `a&b "c"` {
		t.Errorf("user field = %q", v)
	}
}

func TestListFilterEmptyStates(t *testing.T) {
	for _, tt := range []struct {
		name   string
		filter views.ListFilter
		want   string
	}{
		{"nothing yet", views.ListFilter{}, "No events yet."},
		{"nothing matches", views.ListFilter{User: "carol"}, "No events match this filter. Clear the filter to see them all."},
	} {
		t.Run(tt.name, func(t *testing.T) {
			p := audit()
			p.Events, p.Next, p.Filter = nil, 0, tt.filter
			doc, _ := render(t, views.Audit(p))
			if got := text(doc.Find(testid("empty"))); len(got) < len(tt.want) || got[:len(tt.want)] != tt.want {
				t.Errorf("empty state = %q, want it to start %q", got, tt.want)
			}
		})
	}
}
