// Package static holds portpanel's own CSS and JS, embedded in the binary
// and served at /static/. No third-party front-end files live here.
//
// Each file is also served at a URL naming a hash of its content
// (/static/app.3f2a1c9e7b4d.css), which pages link to: a browser may then
// keep it for a year without asking, and a new build's file has a new URL.
// The hashes and the gzip-compressed copies are made once, on first use;
// this package knows nothing of HTTP.
package static

import (
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"io/fs"
	"mime"
	"path"
	"strings"
	"sync"
)

// FS holds the files as written.
//
//go:embed *.css *.js
var FS embed.FS

// Prefix is the URL path the files are served under.
const Prefix = "/static/"

// hashLen is how many hex digits of the SHA-256 a hashed name carries:
// 48 bits tell a handful of builds' files apart.
const hashLen = 12

// Asset is one file, ready to serve.
type Asset struct {
	Name        string // "app.css"
	Path        string // the hashed URL path, "/static/app.3f2a1c9e7b4d.css"
	ContentType string
	// ETag and GzipETag are the strong validators of Body and of Gzip:
	// two encodings are two representations (RFC 9110 8.8.3), but both
	// name the same content hash.
	ETag, GzipETag string
	Body           []byte
	// Gzip is Body compressed, or nil when compressing saves nothing.
	Gzip []byte
	hash string // the hex digest in Path
}

// assets are FS's files by name, hashed and compressed on first use: not
// at start, so the CLI commands and a server before its first page pay
// nothing.
var assets = sync.OnceValue(func() map[string]*Asset { return mustLoad(FS) })

// Path is the hashed URL path of the named file ("app.css"), for pages
// to link to. A name not embedded gets its plain path, which answers 404:
// a typo shows up as a broken link in tests, not as a panic at start.
func Path(name string) string {
	if a, ok := assets()[name]; ok {
		return a.Path
	}
	return Prefix + name
}

// Lookup finds the file a path under Prefix names (without the prefix):
// "app.3f2a1c9e7b4d.css" or the plain "app.css". hashed says whether the
// path carries the file's current hash, the one URL whose content never
// changes. A path with another hash of the right length still finds the
// file: a page rendered by the previous build, open in a browser across
// an upgrade, keeps its styles (served uncached, as the plain name is).
func Lookup(name string) (a *Asset, hashed bool, ok bool) {
	if a, ok := assets()[name]; ok {
		return a, false, true
	}
	plain, hash, ok := splitHash(name)
	if !ok {
		return nil, false, false
	}
	a, ok = assets()[plain]
	if !ok {
		return nil, false, false
	}
	return a, hash == a.hash, true
}

// splitHash turns "app.3f2a1c9e7b4d.css" into "app.css" and the hash.
func splitHash(name string) (plain, hash string, ok bool) {
	ext := path.Ext(name)
	stem := strings.TrimSuffix(name, ext)
	dot := strings.LastIndexByte(stem, '.')
	if dot < 0 || len(stem)-dot-1 != hashLen {
		return "", "", false
	}
	hash = stem[dot+1:]
	if _, err := hex.DecodeString(hash); err != nil || strings.ToLower(hash) != hash {
		return "", "", false
	}
	return stem[:dot] + ext, hash, true
}

// contentTypes are set here rather than taken from the host's
// /etc/mime.types, which mime.TypeByExtension reads and which differs
// between machines.
var contentTypes = map[string]string{
	".css": "text/css; charset=utf-8",
	".js":  "text/javascript; charset=utf-8",
}

func mustLoad(fsys fs.FS) map[string]*Asset {
	m, err := load(fsys)
	if err != nil {
		// The files are embedded at build time: failing here is a broken
		// build, never something a user could cause.
		panic(err)
	}
	return m
}

func load(fsys fs.FS) (map[string]*Asset, error) {
	names, err := fs.Glob(fsys, "*")
	if err != nil {
		return nil, err
	}
	m := make(map[string]*Asset, len(names))
	for _, name := range names {
		body, err := fs.ReadFile(fsys, name)
		if err != nil {
			return nil, err
		}
		sum := sha256.Sum256(body)
		digest := hex.EncodeToString(sum[:])
		ext := path.Ext(name)
		a := &Asset{
			Name:     name,
			Path:     Prefix + strings.TrimSuffix(name, ext) + "." + digest[:hashLen] + ext,
			ETag:     `"` + digest[:2*hashLen] + `"`,
			GzipETag: `"` + digest[:2*hashLen] + `-gzip"`,
			Body:     body,
			hash:     digest[:hashLen],
		}
		a.ContentType = contentTypes[ext]
		if a.ContentType == "" {
			a.ContentType = mime.TypeByExtension(ext)
		}
		if a.Gzip, err = compress(body); err != nil {
			return nil, err
		}
		m[name] = a
	}
	return m, nil
}

// compress gzips b at the best ratio (done once, so the time is no
// concern), or returns nil when that saves nothing.
func compress(b []byte) ([]byte, error) {
	var buf bytes.Buffer
	zw, err := gzip.NewWriterLevel(&buf, gzip.BestCompression)
	if err != nil {
		return nil, err
	}
	if _, err := zw.Write(b); err != nil {
		return nil, err
	}
	if err := zw.Close(); err != nil {
		return nil, err
	}
	if buf.Len() >= len(b) {
		return nil, nil
	}
	return buf.Bytes(), nil
}
