package views_test

import (
	"strings"
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"

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

func TestConfirmBanner(t *testing.T) {
	t.Run("absent when nothing awaits confirmation", func(t *testing.T) {
		doc, _ := render(t, views.Error(views.ErrorPage{Chrome: chrome(""), Title: "x"}))
		if doc.Find(testid("confirm-banner")).Length() != 0 {
			t.Error("banner without an awaiting change")
		}
	})
	for _, tt := range []struct {
		name      string
		left      time.Duration
		countdown string
	}{
		{"minutes and seconds", 4*time.Minute + 32*time.Second, "4:32 left"},
		{"under a minute", 9 * time.Second, "0:09 left"},
		{"part seconds round up", 1500 * time.Millisecond, "0:02 left"},
		{"an hour or more", time.Hour + 2*time.Minute + 3*time.Second, "1:02:03 left"},
		{"past the deadline never goes negative", -time.Minute, "0:00 left"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			c := awaiting("")
			by := now.Add(tt.left)
			c.Awaiting.ConfirmBy = &by
			doc, _ := render(t, views.Error(views.ErrorPage{Chrome: c, Title: "x"}))
			b := doc.Find(testid("confirm-banner"))
			if want := "Change #3 (32768 – 60999) reverts automatically at " + by.Format("15:04:05") + " UTC unless confirmed"; !strings.Contains(text(b), want) {
				t.Errorf("banner = %q, want it to contain %q", text(b), want)
			}
			cd := b.Find(testid("countdown"))
			if got := text(cd); got != tt.countdown {
				t.Errorf("countdown = %q, want %q", got, tt.countdown)
			}
			if d, _ := cd.Attr("data-deadline"); d != by.Format(time.RFC3339) {
				t.Errorf("data-deadline = %q", d)
			}
		})
	}
	t.Run("is a polite live region above the content", func(t *testing.T) {
		doc, _ := render(t, views.Error(views.ErrorPage{Chrome: awaiting(""), Title: "x"}))
		b := doc.Find(testid("confirm-banner"))
		if r, _ := b.Attr("role"); r != "status" {
			t.Errorf("role = %q", r)
		}
		if l, _ := b.Attr("aria-live"); l != "polite" {
			t.Errorf("aria-live = %q", l)
		}
		if b.Closest("main").Length() != 0 || b.NextAllFiltered("main").Length() != 1 {
			t.Error("banner not above main")
		}
	})
	t.Run("confirm and roll back only for who may", func(t *testing.T) {
		c := awaiting("")
		doc, _ := render(t, views.Error(views.ErrorPage{Chrome: c, Title: "x"}))
		b := doc.Find(testid("confirm-banner"))
		if a, _ := b.Find(testid("confirm-button")).Closest("form").Attr("action"); a != "/changes/3/confirm" {
			t.Errorf("confirm action = %q", a)
		}
		rb := b.Find(testid("banner-rollback")).Closest("form")
		if a, _ := rb.Attr("action"); a != "/changes/3/rollback" {
			t.Errorf("rollback action = %q", a)
		}
		if v, _ := rb.Find(`input[type="hidden"][name="reason"]`).Attr("value"); v != "Roll back change #3: not confirmed" {
			t.Errorf("rollback reason = %q", v)
		}
		c.CanConfirm = false
		doc, _ = render(t, views.Error(views.ErrorPage{Chrome: c, Title: "x"}))
		if n := doc.Find(testid("confirm-banner") + " form").Length(); n != 0 {
			t.Errorf("forms = %d for a viewer", n)
		}
	})
}

func TestPendingNav(t *testing.T) {
	for _, tt := range []struct {
		name     string
		require  bool
		pending  int
		link     bool
		badge    string
		navOrder string
	}{
		{"hidden without approval", false, 3, false, "", "Dashboard|Hosts|Changes|History|Namespaces|Audit|Tokens"},
		{"after Changes with a count", true, 3, true, "3", "Dashboard|Hosts|Changes|Pending 3 waiting|History|Namespaces|Audit|Tokens"},
		{"no count when nothing waits", true, 0, true, "", "Dashboard|Hosts|Changes|Pending|History|Namespaces|Audit|Tokens"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			c := chrome("pending")
			c.RequireApproval, c.Pending = tt.require, tt.pending
			doc, _ := render(t, views.Error(views.ErrorPage{Chrome: c, Title: "x"}))
			a := doc.Find(`nav a[href="/changes/pending"]`)
			if got := a.Length() == 1; got != tt.link {
				t.Fatalf("pending link = %v, want %v", got, tt.link)
			}
			if got := text(a.Find(testid("pending-count"))); got != tt.badge {
				t.Errorf("badge = %q, want %q", got, tt.badge)
			}
			var links []string
			doc.Find("nav.nav a").Each(func(_ int, a *goquery.Selection) { links = append(links, text(a)) })
			if got := strings.Join(links, "|"); got != tt.navOrder {
				t.Errorf("nav = %q, want %q", got, tt.navOrder)
			}
			if tt.link {
				if cur, _ := a.Attr("aria-current"); cur != "page" {
					t.Error("pending not current")
				}
			}
		})
	}
}

func TestHeadHasAnEmptyIcon(t *testing.T) {
	doc, _ := render(t, allPages()["login"])
	if h, _ := doc.Find(`head link[rel="icon"]`).Attr("href"); h != "data:," {
		t.Errorf("icon = %q", h)
	}
}
