// Command hello is the floor of bench/run.sh's throughput ratios: the same
// framework (echo v4) on the same machine with one route that answers
// "hello", served with portpanel's http.Server timeouts.
//
// With -headers and -body N it answers with portpanel's security headers
// and N bytes instead: a floor that sends what a portpanel answer sends and
// does nothing else, which run.sh reports beside the targets to show how
// much of the gap is the size of the answer (BENCHMARKS.md).
package main

import (
	"flag"
	"fmt"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"portpanel/web"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:18081", "listen address")
	headers := flag.Bool("headers", false, "send portpanel's security headers")
	size := flag.Int("body", 0, "answer this many bytes instead of \"hello\"")
	flag.Parse()
	body := "hello"
	if *size > 0 {
		body = strings.Repeat("x", *size)
	}
	e := echo.New()
	e.HideBanner, e.HidePort = true, true
	e.GET("/", func(c echo.Context) error {
		if *headers {
			// The headers of web.securityHeaders and scs, as a page has them.
			hd := c.Response().Header()
			hd.Set("Content-Security-Policy", web.CSP)
			hd.Set("X-Content-Type-Options", "nosniff")
			hd.Set("Referrer-Policy", "no-referrer")
			hd.Set("X-Frame-Options", "DENY")
			hd.Set("Cross-Origin-Opener-Policy", "same-origin")
			hd.Set("Permissions-Policy", "camera=(), geolocation=(), microphone=(), payment=(), usb=()")
			hd.Set("Cache-Control", "no-store")
			hd.Set("Vary", "Cookie")
		}
		return c.String(http.StatusOK, body)
	})
	srv := &http.Server{Addr: *addr, Handler: e, ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout: 30 * time.Second, WriteTimeout: 60 * time.Second, IdleTimeout: 2 * time.Minute}
	if err := srv.ListenAndServe(); err != nil {
		fmt.Fprintln(os.Stderr, "hello:", err)
		os.Exit(1)
	}
}
