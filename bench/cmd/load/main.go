// Command load is bench/run.sh's load generator: it signs in like a
// browser (or uses an API token), then keeps -c keep-alive connections busy
// for -d on a list of paths, and prints one line of key=value figures:
// requests, errors, rps, p50_ms, p99_ms, with -rss-pid the largest VmRSS
// seen (rss_max_kb), and body_bytes, the mean response body. It speaks HTTP/1.1 over raw connections rather than through
// net/http's client, so that on a small machine the client costs the
// server under test as little CPU as possible.
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

func main() {
	base := flag.String("base", "http://127.0.0.1:18080", "server URL")
	paths := flag.String("paths", "/", "comma-separated paths; each connection cycles through them")
	conns := flag.Int("c", 64, "concurrent connections")
	dur := flag.Duration("d", 5*time.Second, "how long to load")
	minReq := flag.Int("min", 1, "keep going past -d until each connection has made this many requests")
	warm := flag.Int("warm", 0, "requests per path made (and not counted) before timing")
	user := flag.String("user", "", "sign in as this user (password in $BENCH_PASSWORD) for pages")
	tokenEnv := flag.String("token-env", "", "environment variable holding an API token, sent to /api/ and /metrics paths")
	rssPID := flag.Int("rss-pid", 0, "sample this process's VmRSS while loading and report the largest")
	flag.Parse()
	if err := run(*base, strings.Split(*paths, ","), *conns, *dur, *minReq, *warm, *user, *tokenEnv, *rssPID); err != nil {
		fmt.Fprintln(os.Stderr, "load:", err)
		os.Exit(1)
	}
}

func run(base string, paths []string, conns int, dur time.Duration, minReq, warm int, user, tokenEnv string, rssPID int) error {
	host := strings.TrimPrefix(base, "http://")
	var cookie, token string
	if user != "" {
		var err error
		if cookie, err = login(base, user, os.Getenv("BENCH_PASSWORD")); err != nil {
			return err
		}
	}
	if tokenEnv != "" {
		if token = os.Getenv(tokenEnv); token == "" {
			return fmt.Errorf("$%s is empty", tokenEnv)
		}
	}
	reqs := make([][]byte, len(paths))
	for i, p := range paths {
		reqs[i] = request(host, p, cookie, token)
	}
	if warm > 0 {
		w := &worker{addr: host, reqs: reqs}
		for range warm * len(reqs) {
			if _, err := w.do(); err != nil {
				return fmt.Errorf("warm-up: %w", err)
			}
		}
		w.close()
	}

	stopRSS := make(chan struct{})
	rssMax := make(chan int, 1)
	go func() { rssMax <- sampleRSS(rssPID, stopRSS) }()
	deadline := time.Now().Add(dur)
	workers := make([]*worker, conns)
	var wg sync.WaitGroup
	start := time.Now()
	for i := range workers {
		w := &worker{addr: host, reqs: reqs, next: i % len(reqs)}
		workers[i] = w
		wg.Go(func() { w.loop(deadline, minReq) })
	}
	wg.Wait()
	elapsed := time.Since(start)
	close(stopRSS)

	var lat []time.Duration
	var bytes int64
	errs := 0
	statuses := map[string]int{}
	for _, w := range workers {
		lat = append(lat, w.lat...)
		bytes += w.bytes
		errs += w.errs
		for k, v := range w.statuses {
			statuses[k] += v
		}
		w.close()
	}
	for k, v := range statuses {
		fmt.Fprintf(os.Stderr, "# load: %d × %s\n", v, k)
	}
	slices.Sort(lat)
	fmt.Printf("requests=%d errors=%d rps=%.1f p50_ms=%.3f p99_ms=%.3f rss_max_kb=%d body_bytes=%d\n",
		len(lat)+errs, errs, float64(len(lat))/elapsed.Seconds(), ms(pct(lat, 50)), ms(pct(lat, 99)), <-rssMax,
		bytes/int64(max(1, len(lat)+errs)))
	return nil
}

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
