package views_test

import (
	"regexp"
	"strings"
	"testing"

	"github.com/PuerkitoBio/goquery"

	"portpanel/static"
)

// The server sends a strict CSP (default-src 'self'): no inline script,
// style attribute or event handler may appear on any page.
func TestPagesAreCSPClean(t *testing.T) {
	inlineScript := regexp.MustCompile(`<script(\s[^>]*)?>`)
	for name, page := range allPages() {
		t.Run(name, func(t *testing.T) {
			doc, html := render(t, page)
			if strings.Contains(html, "style=") {
				t.Error("page contains a style= attribute")
			}
			for _, tag := range inlineScript.FindAllString(html, -1) {
				if !strings.Contains(tag, ` src="`) {
					t.Errorf("inline script: %s", tag)
				}
			}
			doc.Find("*").Each(func(_ int, s *goquery.Selection) {
				for _, a := range s.Nodes[0].Attr {
					if strings.HasPrefix(strings.ToLower(a.Key), "on") {
						t.Errorf("<%s> has event handler %s", goquery.NodeName(s), a.Key)
					}
				}
			})
			// The files at the URLs that name their content hash, which
			// browsers may keep for good.
			for _, l := range []struct{ sel, attr, name string }{
				{`link[rel="stylesheet"]`, "href", "app.css"},
				{`script[src]`, "src", "app.js"},
			} {
				links := doc.Find(l.sel)
				v, _ := links.Attr(l.attr)
				if links.Length() != 1 || v != static.Path(l.name) || v == "/static/"+l.name {
					t.Errorf("%s: %d, %s=%q, want one, at %s's hashed URL %q", l.sel, links.Length(), l.attr, v, l.name, static.Path(l.name))
				}
			}
		})
	}
}

func TestPagesAreAccessible(t *testing.T) {
	for name, page := range allPages() {
		t.Run(name, func(t *testing.T) {
			doc, _ := render(t, page)
			if n := doc.Find("h1").Length(); n != 1 {
				t.Errorf("h1 count = %d, want 1", n)
			}
			if lang, _ := doc.Find("html").Attr("lang"); lang == "" {
				t.Error("html has no lang")
			}
			doc.Find(`input:not([type="hidden"])`).Each(func(_ int, s *goquery.Selection) {
				id, _ := s.Attr("id")
				if id == "" || doc.Find(`label[for="`+id+`"]`).Length() != 1 {
					t.Errorf("input %q has no label", id)
				}
			})
			doc.Find("th").Each(func(_ int, s *goquery.Selection) {
				if _, ok := s.Attr("scope"); !ok {
					t.Errorf("th %q has no scope", text(s))
				}
			})
			doc.Find("[aria-describedby]").Each(func(_ int, s *goquery.Selection) {
				ids, _ := s.Attr("aria-describedby")
				for _, id := range strings.Fields(ids) {
					if doc.Find("#"+id).Length() == 0 {
						t.Errorf("aria-describedby points at missing #%s", id)
					}
				}
			})
		})
	}
}

func TestEveryFormCarriesCSRF(t *testing.T) {
	for name, page := range allPages() {
		t.Run(name, func(t *testing.T) {
			doc, _ := render(t, page)
			forms := doc.Find("form")
			if forms.Length() == 0 {
				t.Skip("no forms")
			}
			forms.Each(func(_ int, f *goquery.Selection) {
				action, _ := f.Attr("action")
				m, _ := f.Attr("method")
				if m == "get" && f.Is(`[role="search"]`) {
					// A filter changes nothing, and a token in its URL would
					// leak into history, logs and Referer.
					if f.Find(`[name="csrf"]`).Length() != 0 {
						t.Errorf("search form %s carries the CSRF token", action)
					}
					return
				}
				if m != "post" {
					t.Errorf("form %s method = %q, want post", action, m)
				}
				v, ok := f.Find(`input[type="hidden"][name="csrf"]`).Attr("value")
				if !ok || v != "csrf-token-1" {
					t.Errorf("form %s csrf = %q, %v", action, v, ok)
				}
			})
		})
	}
}

func TestLayout(t *testing.T) {
	t.Run("signed in shows nav with the active section and sign out", func(t *testing.T) {
		doc, _ := render(t, allPages()["changes"])
		cur := doc.Find(`nav a[aria-current="page"]`)
		if cur.Length() != 1 || text(cur) != "Changes" {
			t.Errorf("current nav = %q", text(cur))
		}
		if got := text(doc.Find(testid("user"))); got != "alice (operator)" {
			t.Errorf("user = %q", got)
		}
		if doc.Find(`form[action="/logout"] button`).Length() != 1 {
			t.Error("no sign-out button")
		}
	})
	t.Run("anonymous shows no nav", func(t *testing.T) {
		doc, _ := render(t, allPages()["login"])
		if n := doc.Find("nav a").Length(); n != 0 {
			t.Errorf("nav links = %d, want 0", n)
		}
		if doc.Find(`form[action="/logout"]`).Length() != 0 {
			t.Error("sign-out form for anonymous")
		}
	})
}
