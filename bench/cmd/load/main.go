// Command load is bench/run.sh's load generator: it signs in like a
// browser (or uses an API token), then keeps -c keep-alive connections busy
// for -d on a list of paths, and prints one line of key=value figures:
// requests, errors, rps, p50_ms, p99_ms, with -rss-pid the largest VmRSS
// seen (rss_max_kb), and body_bytes, the mean response body. With
// -per-path it prints the same figures for each path too, one line each
// starting with path=, so a mix shows which route is slow. It speaks
// HTTP/1.1 over raw connections rather than through net/http's client, so
// that on a small machine the client costs the server under test as little
// CPU as possible.
//
// With -dump FILE it makes one request to the first path (after -warm
// ones, so that it is not a session's first answer), writes the
// whole response (status, headers, body as sent) to FILE for bench/cmd/hello
// to replay, and prints status, body_bytes (as sent) and html_bytes
// (decoded, when the server compressed it).
//
//	BENCH_PASSWORD=… load -base http://127.0.0.1:18080 -user bench -paths /,/audit -c 64 -d 15s
package main

import (
	"flag"
	"fmt"
	"os"
	"slices"
	"strings"
	"sync"
	"time"
)

type options struct {
	base, user, tokenEnv, dump string
	paths                      []string
	conns, minReq, warm        int
	dur                        time.Duration
	rssPID                     int
	perPath                    bool
}

func main() {
	var o options
	flag.StringVar(&o.base, "base", "http://127.0.0.1:18080", "server URL")
	paths := flag.String("paths", "/", "comma-separated paths; each connection cycles through them")
	flag.IntVar(&o.conns, "c", 64, "concurrent connections")
	flag.DurationVar(&o.dur, "d", 5*time.Second, "how long to load")
	flag.IntVar(&o.minReq, "min", 1, "keep going past -d until each connection has made this many requests")
	flag.IntVar(&o.warm, "warm", 0, "requests per path made (and not counted) before timing or dumping")
	flag.StringVar(&o.user, "user", "", "sign in as this user (password in $BENCH_PASSWORD) for pages")
	flag.StringVar(&o.tokenEnv, "token-env", "", "environment variable holding an API token, sent to /api/ and /metrics paths")
	flag.IntVar(&o.rssPID, "rss-pid", 0, "sample this process's VmRSS while loading and report the largest")
	flag.BoolVar(&o.perPath, "per-path", false, "also print the figures of each path")
	flag.StringVar(&o.dump, "dump", "", "make one request to the first path and write the response to this file")
	flag.Parse()
	o.paths = strings.Split(*paths, ",")
	if err := run(o); err != nil {
		fmt.Fprintln(os.Stderr, "load:", err)
		os.Exit(1)
	}
}

func run(o options) error {
	host := strings.TrimPrefix(o.base, "http://")
	var cookie, token string
	if o.user != "" {
		var err error
		if cookie, err = login(o.base, o.user, os.Getenv("BENCH_PASSWORD")); err != nil {
			return err
		}
	}
	if o.tokenEnv != "" {
		if token = os.Getenv(o.tokenEnv); token == "" {
			return fmt.Errorf("$%s is empty", o.tokenEnv)
		}
	}
	reqs := make([][]byte, len(o.paths))
	for i, p := range o.paths {
		reqs[i] = request(host, p, cookie, token)
	}
	if o.dump != "" {
		return dump(host, reqs[0], o.warm, o.dump)
	}
	if o.warm > 0 {
		w := newWorker(host, reqs, 0)
		for range o.warm * len(reqs) {
			if _, _, err := w.do(); err != nil {
				return fmt.Errorf("warm-up: %w", err)
			}
		}
		w.close()
	}

	stopRSS := make(chan struct{})
	rssMax := make(chan int, 1)
	go func() { rssMax <- sampleRSS(o.rssPID, stopRSS) }()
	deadline := time.Now().Add(o.dur)
	workers := make([]*worker, o.conns)
	var wg sync.WaitGroup
	start := time.Now()
	for i := range workers {
		w := newWorker(host, reqs, i%len(reqs))
		workers[i] = w
		wg.Go(func() { w.loop(deadline, o.minReq) })
	}
	wg.Wait()
	elapsed := time.Since(start)
	close(stopRSS)

	all := tally{}
	each := make([]tally, len(reqs))
	statuses := map[string]int{}
	for _, w := range workers {
		for i := range each {
			each[i].add(w.stats[i])
			all.add(w.stats[i])
		}
		for k, v := range w.statuses {
			statuses[k] += v
		}
		w.close()
	}
	for k, v := range statuses {
		fmt.Fprintf(os.Stderr, "# load: %d × %s\n", v, k)
	}
	fmt.Printf("%s rss_max_kb=%d body_bytes=%d\n", all.figures(elapsed), <-rssMax, all.meanBytes())
	if o.perPath {
		for i, p := range o.paths {
			fmt.Printf("path=%s %s body_bytes=%d\n", p, each[i].figures(elapsed), each[i].meanBytes())
		}
	}
	return nil
}

// tally is what a set of requests measured: the latencies of the answered
// ones, the errors, the body bytes read.
type tally struct {
	lat   []time.Duration
	errs  int
	bytes int64
}

func (t *tally) add(u tally) {
	t.lat = append(t.lat, u.lat...)
	t.errs += u.errs
	t.bytes += u.bytes
}

func (t *tally) figures(elapsed time.Duration) string {
	slices.Sort(t.lat)
	return fmt.Sprintf("requests=%d errors=%d rps=%.1f p50_ms=%.3f p99_ms=%.3f",
		len(t.lat)+t.errs, t.errs, float64(len(t.lat))/elapsed.Seconds(), ms(pct(t.lat, 50)), ms(pct(t.lat, 99)))
}

func (t *tally) meanBytes() int64 { return t.bytes / int64(max(1, len(t.lat)+t.errs)) }

func pct(sorted []time.Duration, p int) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	return sorted[min(len(sorted)-1, (len(sorted)*p+99)/100-1)]
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

// request is one GET as a browser sends it; the token, when set, goes to
// the API and metrics paths and the session cookie to the pages.
func request(host, path, cookie, token string) []byte {
	var b strings.Builder
	fmt.Fprintf(&b, "GET %s HTTP/1.1\r\nHost: %s\r\nUser-Agent: portpanel-bench\r\nAccept-Encoding: gzip\r\n", path, host)
	switch {
	case token != "" && (strings.HasPrefix(path, "/api/") || path == "/metrics"):
		fmt.Fprintf(&b, "Authorization: Bearer %s\r\n", token)
	case cookie != "":
		fmt.Fprintf(&b, "Cookie: %s\r\n", cookie)
	}
	b.WriteString("\r\n")
	return []byte(b.String())
}
