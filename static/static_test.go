package static

import (
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"io/fs"
	"regexp"
	"strings"
	"testing"
	"testing/fstest"
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

// Every embedded file is served at a URL naming its content's hash, and
// found again from that URL, from its plain name, and from another
// build's hash (not as the hashed URL, which alone may be cached for good).
func TestLookup(t *testing.T) {
	css := Path("app.css")
	if !regexp.MustCompile(`^/static/app\.[0-9a-f]{12}\.css$`).MatchString(css) {
		t.Fatalf("Path(app.css) = %q, want /static/app.<12 hex digits>.css", css)
	}
	body, _ := fs.ReadFile(FS, "app.css")
	sum := sha256.Sum256(body)
	if want := hex.EncodeToString(sum[:])[:12]; !strings.Contains(css, want) {
		t.Errorf("Path(app.css) = %q, want the content's hash %s in it", css, want)
	}
	tests := []struct {
		name       string
		path       string
		wantFile   string // "" when not found
		wantHashed bool
	}{
		{name: "hashed URL", path: strings.TrimPrefix(css, Prefix), wantFile: "app.css", wantHashed: true},
		{name: "hashed URL of the script", path: strings.TrimPrefix(Path("app.js"), Prefix), wantFile: "app.js", wantHashed: true},
		{name: "plain name", path: "app.css", wantFile: "app.css"},
		{name: "another build's hash", path: "app.0123456789ab.css", wantFile: "app.css"},
		{name: "hash of the wrong length", path: "app.0123456789a.css"},
		{name: "hash not hex", path: "app.0123456789xy.css"},
		{name: "hash in upper case", path: strings.ToUpper(strings.TrimPrefix(css, Prefix))},
		{name: "hash of another file", path: "nope.0123456789ab.css"},
		{name: "unknown file", path: "nope.css"},
		{name: "the package's source", path: "static.go"},
		{name: "dot segments", path: "../static/app.css"},
		{name: "empty", path: ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a, hashed, ok := Lookup(tt.path)
			if tt.wantFile == "" {
				if ok {
					t.Fatalf("Lookup(%q) found %s, want nothing", tt.path, a.Name)
				}
				return
			}
			if !ok || a.Name != tt.wantFile || hashed != tt.wantHashed {
				t.Fatalf("Lookup(%q) = %v, hashed %v, found %v; want %s, hashed %v", tt.path, a, hashed, ok, tt.wantFile, tt.wantHashed)
			}
		})
	}
}

// The compressed copy is the file, smaller, and each encoding has its own
// validator.
func TestAssetsCompressed(t *testing.T) {
	for _, name := range []string{"app.css", "app.js"} {
		a, _, _ := Lookup(name)
		body, _ := fs.ReadFile(FS, name)
		if !bytes.Equal(a.Body, body) {
			t.Errorf("%s: body differs from the embedded file", name)
		}
		if a.Gzip == nil || len(a.Gzip) >= len(body) {
			t.Fatalf("%s: gzip copy of %d bytes for %d, want a smaller one", name, len(a.Gzip), len(body))
		}
		zr, err := gzip.NewReader(bytes.NewReader(a.Gzip))
		if err != nil {
			t.Fatal(err)
		}
		if got, err := io.ReadAll(zr); err != nil || !bytes.Equal(got, body) {
			t.Errorf("%s: gunzipped copy differs from the file (%v)", name, err)
		}
		if a.ETag == a.GzipETag || !strings.HasPrefix(a.ETag, `"`) || !strings.HasSuffix(a.GzipETag, `"`) {
			t.Errorf("%s: ETags %s and %s, want two distinct quoted tags", name, a.ETag, a.GzipETag)
		}
		if !strings.HasPrefix(a.ContentType, map[string]string{"app.css": "text/css", "app.js": "text/javascript"}[name]) {
			t.Errorf("%s: Content-Type %q", name, a.ContentType)
		}
	}
}

// A file that does not shrink is served as it is.
func TestIncompressibleFileKeepsNoGzipCopy(t *testing.T) {
	sum := sha256.Sum256([]byte("x")) // 32 bytes gzip cannot shrink
	m, err := load(fstest.MapFS{"x.css": {Data: sum[:]}, "y.js": {Data: []byte(strings.Repeat("ab", 500))}})
	if err != nil {
		t.Fatal(err)
	}
	if m["x.css"].Gzip != nil {
		t.Errorf("32 random bytes kept a gzip copy of %d bytes", len(m["x.css"].Gzip))
	}
	if m["y.js"].Gzip == nil {
		t.Error("a repetitive file kept no gzip copy")
	}
}
