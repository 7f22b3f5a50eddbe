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
	stats    []tally        // per request of reqs
	statuses map[string]int // what went wrong, for the report
}

func newWorker(addr string, reqs [][]byte, next int) *worker {
	return &worker{addr: addr, reqs: reqs, next: next, stats: make([]tally, len(reqs)), statuses: map[string]int{}}
}

// loop makes requests until deadline, and then until it has made minReq.
func (w *worker) loop(deadline time.Time, minReq int) {
	for n := 0; n < minReq || time.Now().Before(deadline); n++ {
		t := time.Now()
		i, status, err := w.do()
		switch {
		case err != nil:
			w.stats[i].errs++
			w.statuses[err.Error()]++
		case status != http.StatusOK:
			w.stats[i].errs++
			w.statuses[fmt.Sprintf("status %d", status)]++
		default:
			w.stats[i].lat = append(w.stats[i].lat, time.Since(t))
		}
	}
}

// do sends the next request and reads the whole response; it returns
// which of reqs it sent.
func (w *worker) do() (int, int, error) {
	i := w.next
	w.next = (w.next + 1) % len(w.reqs)
	resp, err := w.roundTrip(w.reqs[i])
	if err != nil {
		return i, 0, err
	}
	n, err := io.Copy(io.Discard, resp.Body)
	w.stats[i].bytes += n
	resp.Body.Close()
	if err != nil || resp.Close {
		w.close()
	}
	if os.Getenv("BENCH_DEBUG") != "" && resp.StatusCode != http.StatusOK {
		fmt.Fprintf(os.Stderr, "load: %s: %s %s\n", w.reqs[i][:min(len(w.reqs[i]), 40)], resp.Status, resp.Header.Get("Location"))
	}
	return i, resp.StatusCode, err
}

// roundTrip writes req on the connection (dialling it first if need be)
// and reads the response's head.
func (w *worker) roundTrip(req []byte) (*http.Response, error) {
	if w.conn == nil {
		c, err := net.Dial("tcp", w.addr)
		if err != nil {
			return nil, err
		}
		w.conn, w.br = c, bufio.NewReaderSize(c, 32<<10)
	}
	if _, err := w.conn.Write(req); err != nil {
		w.close()
		return nil, err
	}
	resp, err := http.ReadResponse(w.br, nil)
	if err != nil {
		w.close()
	}
	return resp, err
}

func (w *worker) close() {
	if w.conn != nil {
		w.conn.Close()
		w.conn = nil
	}
}
