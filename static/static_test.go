package static

import (
	"io/fs"
	"regexp"
	"testing"
)

// The CSP is default-src 'self': nothing here may pull from elsewhere.
func TestAssetsAreSelfContained(t *testing.T) {
	external := regexp.MustCompile(`(?i)(https?:)?//[a-z0-9.-]+\.[a-z]{2,}/|@import|@font-face`)
	for _, name := range []string{"app.css", "app.js"} {
		b, err := fs.ReadFile(FS, name)
		if err != nil {
			t.Fatalf("%s not embedded: %v", name, err)
		}
		if m := external.Find(b); m != nil {
			t.Errorf("%s references %q", name, m)
		}
	}
}

// A page the countdown reloads may be the answer to a POST (the review
// page, a 409): location.reload() would send that form again and could
// apply a change nobody submitted. Navigating to the address is a GET.
func TestCountdownNeverResubmitsAForm(t *testing.T) {
	b, err := fs.ReadFile(FS, "app.js")
	if err != nil {
		t.Fatal(err)
	}
	code := regexp.MustCompile(`(?m)^\s*//.*$`).ReplaceAll(b, nil) // comments may name it
	if m := regexp.MustCompile(`\.reload\s*\(|history\.go\s*\(\s*0?\s*\)`).Find(code); m != nil {
		t.Errorf("app.js calls %q, which re-sends a POST; navigate with location.assign instead", m)
	}
}
