// Command hello is the floor of bench/run.sh's throughput ratios: the same
// framework (echo v4) on the same machine with one route, served with
// portpanel's http.Server timeouts. Bare, it answers "hello".
//
// With -replay FILE (a response written by bench/cmd/load -dump) it answers
// every request with that response's status, headers and body, byte for
// byte: a floor that sends what portpanel sends and does nothing else, the
// floor of the dashboard and API targets (BENCHMARKS.md).
package main

import (
	"bufio"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"strconv"
	"time"

	"github.com/labstack/echo/v4"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:18081", "listen address")
	replay := flag.String("replay", "", "answer with the response in this file")
	flag.Parse()
	status, header, body := http.StatusOK, http.Header{"Content-Type": {echo.MIMETextPlainCharsetUTF8}}, []byte("hello")
	if *replay != "" {
		var err error
		if status, header, body, err = load(*replay); err != nil {
			fmt.Fprintln(os.Stderr, "hello:", err)
			os.Exit(1)
		}
	}
	e := echo.New()
	e.HideBanner, e.HidePort = true, true
	e.GET("/", func(c echo.Context) error {
		hd := c.Response().Header()
		for k, v := range header {
			hd[k] = v
		}
		c.Response().WriteHeader(status)
		_, err := c.Response().Write(body)
		return err
	})
	srv := &http.Server{Addr: *addr, Handler: e, ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout: 30 * time.Second, WriteTimeout: 60 * time.Second, IdleTimeout: 2 * time.Minute}
	if err := srv.ListenAndServe(); err != nil {
		fmt.Fprintln(os.Stderr, "hello:", err)
		os.Exit(1)
	}
}

// load reads a dumped response. The headers net/http writes itself (Date,
// the framing) are left to it, except Content-Length when the original had
// one, so that the replay is framed as the original was.
func load(file string) (int, http.Header, []byte, error) {
	f, err := os.Open(file)
	if err != nil {
		return 0, nil, nil, err
	}
	defer f.Close()
	resp, err := http.ReadResponse(bufio.NewReader(f), nil)
	if err != nil {
		return 0, nil, nil, fmt.Errorf("read %s: %w", file, err)
	}
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return 0, nil, nil, fmt.Errorf("read %s: %w", file, err)
	}
	h := resp.Header.Clone()
	for _, k := range []string{"Date", "Connection", "Transfer-Encoding", "Content-Length", "Keep-Alive"} {
		h.Del(k)
	}
	if resp.ContentLength >= 0 && len(resp.TransferEncoding) == 0 {
		h.Set("Content-Length", strconv.Itoa(len(body)))
	}
	return resp.StatusCode, h, body, nil
}
