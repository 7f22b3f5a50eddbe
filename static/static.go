// Package static holds portpanel's own CSS and JS, embedded in the binary
// and served at /static/. No third-party front-end files live here.
package static

import "embed"

// FS is served at /static/.
//
//go:embed *.css *.js
var FS embed.FS
