// Command fleetsim is bench/run.sh's fleet simulator (issue 19), not a
// product command: -hosts virtual agents as goroutines, each with its own
// Ed25519 key and in-memory kernel, enroll with one-time tokens and then
// speak the real agent API to a running `portpanel serve --agent-listen`:
// every request signed with agentapi.Sign, long polls on desired, a report
// every poll interval, desired values applied to the in-memory kernel,
// commit-confirmed windows reverted when unconfirmed.
//
// Once every agent runs (one poll interval, starts spread over it) it
// measures -rounds rounds of -round each: the control plane's (-pid) CPU,
// from /proc/PID/stat, and RSS, and the reports a second. Then it makes
// -changes remote changes through the user API, one at a time, and times
// each from the request to its host's `applied` report. It prints lines of
// details starting with # and one line of key=value figures (medians of
// the rounds; RSS is the highest sample). With -hold it then keeps the
// fleet running, for a load test beside it, until SIGTERM or SIGINT.
//
//	BENCH_TOKEN=… fleetsim -server unix:///tmp/w/agent.sock -api http://127.0.0.1:18085 \
//	    -token-env BENCH_TOKEN -hosts 1000 -poll 30s -pid 1234
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/signal"
	"sync"
	"syscall"
	"time"
)

type options struct {
	server, api, tokenEnv, group, prefix, pid string
	pgPID                                     string
	tokensFile                                string
	hosts, enrollC, rounds, changes, confirm  int
	poll, round, warm, gap                    time.Duration
	hold, insecure, followServer              bool
}

// sim is the fleet and what it measured.
type sim struct {
	o           options
	out         io.Writer
	ctx         context.Context
	agentClient *http.Client
	agentBase   string
	api         *userAPI
	counters
	reportLat, wakeLat latencies

	trackMu sync.Mutex
	tracked map[string]*tracked
}

func main() {
	var o options
	flag.StringVar(&o.server, "server", "", "the agent listener: unix:///path/agent.sock, http://host:port or https://host:port")
	flag.StringVar(&o.api, "api", "http://127.0.0.1:18085", "the panel's URL, for enrollment tokens and remote changes")
	flag.StringVar(&o.tokenEnv, "token-env", "BENCH_TOKEN", "environment variable holding an admin API token")
	flag.StringVar(&o.tokensFile, "tokens-file", "", "enrollment tokens, one a line, instead of asking the API for each")
	flag.StringVar(&o.group, "group", "sim", "group the hosts enroll into")
	flag.StringVar(&o.prefix, "prefix", "sim-", "host names are this prefix and a number")
	flag.StringVar(&o.pid, "pid", "", "the control plane's process id, for its CPU and RSS")
	flag.StringVar(&o.pgPID, "pg-pid", "", "PostgreSQL's postmaster process id: its and its backends' CPU is shown beside the control plane's")
	flag.IntVar(&o.hosts, "hosts", 1000, "virtual agents")
	flag.IntVar(&o.enrollC, "enroll-c", 8, "enrollments at once")
	flag.IntVar(&o.rounds, "rounds", 3, "measurement rounds")
	flag.IntVar(&o.changes, "changes", 20, "remote changes to time")
	flag.IntVar(&o.confirm, "confirm-within", 0, "commit-confirmed window of the timed changes, seconds (0: none)")
	flag.DurationVar(&o.poll, "poll", 30*time.Second, "each agent's poll interval: a report this often, long polls held this long (at most 30 s)")
	flag.DurationVar(&o.round, "round", 30*time.Second, "length of a measurement round")
	flag.DurationVar(&o.warm, "warm", 0, "wait after every agent started before measuring (default: half a poll interval)")
	flag.DurationVar(&o.gap, "gap", 500*time.Millisecond, "pause between timed changes")
	flag.BoolVar(&o.hold, "hold", false, "after measuring, keep the fleet running until SIGTERM or SIGINT")
	flag.BoolVar(&o.insecure, "insecure", false, "skip TLS verification of an https:// agent listener (a throwaway bench server)")
	flag.BoolVar(&o.followServer, "follow-server", false, "poll at the interval the server states at enrollment instead of -poll")
	flag.Parse()
	if o.warm == 0 {
		o.warm = o.poll / 2
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, o, os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "fleetsim:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, o options, out io.Writer) error {
	if o.server == "" || o.hosts < 1 {
		return fmt.Errorf("-server and -hosts are needed")
	}
	tr, base, err := agentTransport(o.server, o.hosts, o.insecure)
	if err != nil {
		return err
	}
	token := os.Getenv(o.tokenEnv)
	if token == "" {
		return fmt.Errorf("$%s is empty: an admin API token is needed", o.tokenEnv)
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	s := &sim{o: o, out: out, ctx: ctx, agentClient: &http.Client{Transport: tr}, agentBase: base,
		// A remote change answers once its host applied it, after a preview
		// round trip: up to fleet.PreviewWait and a poll; two minutes bound both.
		api:     &userAPI{c: &http.Client{Timeout: 2 * time.Minute}, base: o.api, token: token},
		tracked: map[string]*tracked{}}

	agents, err := s.enrollAll(ctx)
	if err != nil {
		return err
	}
	s.start(ctx, agents)
	if !s.measure(ctx, agents) {
		return ctx.Err()
	}
	if o.hold {
		fmt.Fprintln(s.out, "# holding the fleet until SIGTERM")
		<-ctx.Done()
		fmt.Fprintf(s.out, "# final: polls=%d reports=%d unauthorized=%d errors=%d reverts=%d\n",
			s.polls.Load(), s.reports.Load(), s.unauthorized.Load(), s.errorCount.Load(), s.reverts.Load())
	}
	return nil
}
