package web

import (
	"bytes"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"portpanel/handlers"
	"portpanel/static"
)

// staticRoute is the route of the static files.
const staticRoute = static.Prefix + "*"

// Cache-Control of the static files. At a hashed URL the content never
// changes, so a browser keeps it for a year without asking again; at a
// plain one (/static/app.css, or a previous build's hash) it asks each
// time and gets a 304 while the file is the same.
const (
	cacheImmutable   = "public, max-age=31536000, immutable"
	cacheRevalidated = "no-cache"
)

// registerStatic serves the embedded files under /static/. The security
// headers still apply (securityHeaders sets them before any handler);
// Cache-Control is this handler's own for the files it finds, and stays
// no-store on a 404.
func registerStatic(e *echo.Echo) {
	e.GET(staticRoute, serveStatic)
	e.HEAD(staticRoute, serveStatic)
}

// serveStatic answers from the files static loaded once: gzip-compressed when
// the client accepts it, 304 when its If-None-Match names the file's ETag,
// ranges as http.ServeContent serves them.
func serveStatic(c echo.Context) error {
	// The name is looked up as sent, among a few known names: no path is
	// ever cleaned or opened, so no trick reaches outside them.
	a, hashed, ok := static.Lookup(c.Param("*"))
	if !ok {
		return echo.ErrNotFound
	}
	h := c.Response().Header()
	h.Set(echo.HeaderContentType, a.ContentType)
	if hashed {
		h.Set("Cache-Control", cacheImmutable)
	} else {
		h.Set("Cache-Control", cacheRevalidated)
	}
	body, etag := a.Body, a.ETag
	if a.Gzip != nil {
		// Caches must keep the two encodings apart.
		h.Set(echo.HeaderVary, echo.HeaderAcceptEncoding)
		if acceptsGzip(c.Request().Header.Values(echo.HeaderAcceptEncoding)) {
			body, etag = a.Gzip, a.GzipETag
			h.Set(echo.HeaderContentEncoding, "gzip")
		}
	}
	h.Set("ETag", etag)
	// ServeContent answers If-None-Match against the ETag set above, with
	// a 304 that drops the body's own headers; no modification time.
	http.ServeContent(c.Response(), c.Request(), "", time.Time{}, bytes.NewReader(body))
	return nil
}

// acceptsGzip reads Accept-Encoding (RFC 9110 12.5.3): gzip, or *, with a
// q-value above 0; "gzip;q=0" refuses it even when * is accepted.
func acceptsGzip(values []string) bool {
	gzip, star := -1.0, -1.0 // -1: not named
	for _, v := range values {
		for part := range strings.SplitSeq(v, ",") {
			coding, params, _ := strings.Cut(part, ";")
			q := 1.0
			for p := range strings.SplitSeq(params, ";") {
				k, v, _ := strings.Cut(p, "=")
				if strings.EqualFold(strings.TrimSpace(k), "q") {
					var err error
					if q, err = strconv.ParseFloat(strings.TrimSpace(v), 64); err != nil {
						q = 0
					}
				}
			}
			switch strings.ToLower(strings.TrimSpace(coding)) {
			case "gzip", "x-gzip":
				gzip = q
			case "*":
				star = q
			}
		}
	}
	if gzip >= 0 {
		return gzip > 0
	}
	return star > 0
}

// unlessSessionless applies mw (the session) to every request but those
// that never read one: a static file that exists, and an API call with an
// Authorization header. Loading a session cost a database read, and with
// an idle timeout a write, per file, and scs's bookkeeping (a session
// store and a wrapped writer) per API call (issue 6).
func unlessSessionless(mw echo.MiddlewareFunc) echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		withMW := mw(next)
		return func(c echo.Context) error {
			if servesStatic(c) || bearerAPI(c) {
				return next(c)
			}
			return withMW(c)
		}
	}
}

// bearerAPI reports whether r is an API call with a Bearer token.
// authenticate then takes the token or refuses the call, without looking
// at the cookie, and the API's handlers and its JSON errors use no session.
func bearerAPI(c echo.Context) bool {
	return handlers.IsAPI(c) && bearerScheme(c.Request().Header.Get(echo.HeaderAuthorization))
}

// servesStatic reports whether serveStatic will answer c with a file (a
// middleware.Skipper). It goes by the route echo matched, so no spelling
// of a path skips a middleware for another route; and a 404 under
// /static/ is not skipped, because the error page reads the session for
// the signed-in user's name (scs panics without one).
func servesStatic(c echo.Context) bool {
	if c.Path() != staticRoute {
		return false
	}
	_, _, ok := static.Lookup(c.Param("*"))
	return ok
}
