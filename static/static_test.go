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
