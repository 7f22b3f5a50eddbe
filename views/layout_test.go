package views_test

import (
	"testing"

	"portpanel/views"
)

func TestChrome(t *testing.T) {
	for _, tt := range []struct {
		name   string
		edit   func(*views.Chrome)
		check  string // data-testid that must exist
		text   string // its whitespace-normalised text
		absent string // data-testid that must not exist
	}{
		{"host only", func(c *views.Chrome) {}, "host", "web-01", ""},
		{"host in another network namespace", func(c *views.Chrome) { c.Netns = "blue" }, "host", "web-01 network namespace blue", ""},
		{"no flash without message", func(c *views.Chrome) {}, "host", "web-01", "flash"},
		{"flash", func(c *views.Chrome) { c.Flash = "Change #3 applied." }, "flash", "✓ Change #3 applied.", ""},
		{"error flash", func(c *views.Chrome) { c.Flash, c.FlashError = "Nope.", true }, "flash", "✗ Nope.", ""},
		{"banners", func(c *views.Chrome) { c.Banners = []string{"Runtime differs from the boot value"} }, "banners", "⚠ Runtime differs from the boot value", ""},
		{"no banner row without banners", func(c *views.Chrome) {}, "host", "web-01", "banners"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			p := views.ErrorPage{Chrome: chrome(""), Code: 500, Title: "Oops"}
			tt.edit(&p.Chrome)
			doc, _ := render(t, views.Error(p))
			if got := text(doc.Find(testid(tt.check))); got != tt.text {
				t.Errorf("%s = %q, want %q", tt.check, got, tt.text)
			}
			if tt.absent != "" && doc.Find(testid(tt.absent)).Length() != 0 {
				t.Errorf("%s present", tt.absent)
			}
		})
	}
}

func TestFlashIsALiveRegion(t *testing.T) {
	p := views.ErrorPage{Chrome: chrome(""), Title: "x"}
	p.Flash, p.FlashError = "Change failed.", true
	doc, _ := render(t, views.Error(p))
	f := doc.Find(testid("flash"))
	if r, _ := f.Attr("role"); r != "status" {
		t.Errorf("role = %q", r)
	}
	if l, _ := f.Attr("aria-live"); l != "polite" {
		t.Errorf("aria-live = %q", l)
	}
	if !f.HasClass("flash-error") {
		t.Error("error flash lacks flash-error class")
	}
}
