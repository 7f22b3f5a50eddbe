package main

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"time"
)

// worker is one keep-alive connection making requests in turn.
type worker struct {
	addr     string
	reqs     [][]byte
	next     int
	conn     net.Conn
	br       *bufio.Reader
	lat      []time.Duration
	bytes    int64 // response bodies read
	errs     int
	statuses map[string]int // what went wrong, for the report
}

// loop makes requests until deadline, and then until it has made minReq.
func (w *worker) loop(deadline time.Time, minReq int) {
	w.statuses = map[string]int{}
	for n := 0; n < minReq || time.Now().Before(deadline); n++ {
		t := time.Now()
		status, err := w.do()
		switch {
		case err != nil:
			w.errs++
			w.statuses[err.Error()]++
		case status != http.StatusOK:
			w.errs++
			w.statuses[fmt.Sprintf("status %d", status)]++
		default:
			w.lat = append(w.lat, time.Since(t))
		}
	}
}

// do sends the next request and reads the whole response.
func (w *worker) do() (int, error) {
	if w.conn == nil {
		c, err := net.Dial("tcp", w.addr)
		if err != nil {
			return 0, err
		}
		w.conn, w.br = c, bufio.NewReaderSize(c, 32<<10)
	}
	req := w.reqs[w.next]
	w.next = (w.next + 1) % len(w.reqs)
	if _, err := w.conn.Write(req); err != nil {
		w.close()
		return 0, err
	}
	resp, err := http.ReadResponse(w.br, nil)
	if err != nil {
		w.close()
		return 0, err
	}
	n, err := io.Copy(io.Discard, resp.Body)
	w.bytes += n
	resp.Body.Close()
	if err != nil || resp.Close {
		w.close()
	}
	if os.Getenv("BENCH_DEBUG") != "" && resp.StatusCode != http.StatusOK {
		fmt.Fprintf(os.Stderr, "load: %s: %s %s\n", req[:min(len(req), 40)], resp.Status, resp.Header.Get("Location"))
	}
	return resp.StatusCode, err
}

func (w *worker) close() {
	if w.conn != nil {
		w.conn.Close()
		w.conn = nil
	}
}
