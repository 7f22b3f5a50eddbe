package main

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"portpanel/agentapi"
)

// enrollAll makes the agents, each with a key of its own and a one-time
// token from the user API, -enroll-c at a time.
func (s *sim) enrollAll(ctx context.Context) ([]*agent, error) {
	agents := make([]*agent, s.o.hosts)
	for i := range agents {
		_, key, err := agentapi.GenerateKey()
		if err != nil {
			return nil, err
		}
		agents[i] = &agent{sim: s, name: fmt.Sprintf("%s%05d", s.o.prefix, i), key: key, k: newKernel(), poll: s.o.poll}
	}
	var tokens []string
	if s.o.tokensFile != "" {
		b, err := os.ReadFile(s.o.tokensFile)
		if err != nil {
			return nil, err
		}
		if tokens = strings.Fields(string(b)); len(tokens) < len(agents) {
			return nil, fmt.Errorf("%s holds %d tokens for %d hosts", s.o.tokensFile, len(tokens), len(agents))
		}
	}
	start := time.Now()
	var next atomic.Int64
	var failed atomic.Int64
	var firstErr atomic.Value
	var wg sync.WaitGroup
	for range max(1, s.o.enrollC) {
		wg.Go(func() {
			for i := int(next.Add(1) - 1); i < len(agents) && ctx.Err() == nil; i = int(next.Add(1) - 1) {
				var tok string
				var err error
				if tokens != nil {
					tok = tokens[i]
				} else {
					tok, err = s.api.enrollmentToken(ctx, s.o.group)
				}
				if err == nil {
					err = agents[i].enroll(ctx, tok)
				}
				if err != nil {
					failed.Add(1)
					firstErr.CompareAndSwap(nil, err.Error())
					agents[i] = nil
				}
			}
		})
	}
	wg.Wait()
	took := time.Since(start)
	agents = slices.DeleteFunc(agents, func(a *agent) bool { return a == nil })
	fmt.Fprintf(s.out, "# enrolled %d of %d hosts in %.1f s (%.0f a second, token and enrollment each)\n",
		len(agents), s.o.hosts, took.Seconds(), float64(len(agents))/took.Seconds())
	if n := failed.Load(); n > 0 {
		fmt.Fprintf(s.out, "# %d enrollments failed, the first: %v\n", n, firstErr.Load())
	}
	if len(agents) == 0 {
		return nil, errors.New("no host enrolled")
	}
	return agents, ctx.Err()
}

// start runs the agents, their starts spread over one poll interval so
// the reports come evenly, as a real fleet's do.
func (s *sim) start(ctx context.Context, agents []*agent) {
	step := s.o.poll / time.Duration(len(agents))
	begin := time.Now()
	for i, a := range agents {
		sleep(ctx, time.Until(begin.Add(time.Duration(i)*step)))
		go a.run(ctx)
	}
	fmt.Fprintf(s.out, "# %d agents running, a report each every %s: %.0f reports a second expected\n",
		len(agents), s.o.poll, float64(len(agents))/s.o.poll.Seconds())
}

// round is one measurement window.
type round struct {
	cpu, self, pg, machine, reportsPS, pollsPS float64
	rssKB                                      int
	reportP50, reportP99                       time.Duration
}

// measure runs the rounds, then times the changes, and prints the
// figures. It returns false if ctx ended first.
func (s *sim) measure(ctx context.Context, agents []*agent) bool {
	sleep(ctx, s.o.warm)
	s.reportLat.take()
	var rounds []round
	for i := range s.o.rounds {
		r, ok := s.round(ctx)
		if !ok {
			return false
		}
		fmt.Fprintf(s.out, "# round %d, %s: control plane %.3f cores, RSS %.1f MB; PostgreSQL %.3f cores; fleetsim %.3f cores, machine %.2f cores busy; %.1f reports/s, %.1f polls/s; report p50 %.1f ms p99 %.1f ms\n",
			i+1, s.o.round, r.cpu, float64(r.rssKB)/1024, r.pg, r.self, r.machine, r.reportsPS, r.pollsPS, ms(r.reportP50), ms(r.reportP99))
		rounds = append(rounds, r)
	}
	applied, wakes, failed := s.timeChanges(ctx, agents)
	if ctx.Err() != nil {
		return false
	}
	med := func(f func(round) float64) float64 {
		v := make([]float64, len(rounds))
		for i, r := range rounds {
			v[i] = f(r)
		}
		slices.Sort(v)
		return v[(len(v)-1)/2]
	}
	rss := 0
	for _, r := range rounds {
		rss = max(rss, r.rssKB)
	}
	var b strings.Builder
	fmt.Fprintf(&b, "hosts=%d cpu_cores=%.3f pg_cores=%.3f rss_mb=%.1f reports_per_s=%.1f report_p99_ms=%.1f",
		len(agents), med(func(r round) float64 { return r.cpu }), med(func(r round) float64 { return r.pg }), float64(rss)/1024,
		med(func(r round) float64 { return r.reportsPS }), med(func(r round) float64 { return ms(r.reportP99) }))
	if len(applied) > 0 {
		fmt.Fprintf(&b, " applied_p50_ms=%.1f applied_max_ms=%.1f wake_p50_ms=%.1f", ms(pct(applied, 50)), ms(applied[len(applied)-1]), ms(pct(wakes, 50)))
	}
	fmt.Fprintf(&b, " changes=%d changes_failed=%d unauthorized=%d errors=%d", len(applied), failed, s.unauthorized.Load(), s.errorCount.Load())
	fmt.Fprintln(s.out, b.String())
	if e, ok := s.lastError.Load().(string); ok {
		fmt.Fprintf(s.out, "# last error: %s\n", e)
	}
	return true
}

func (s *sim) round(ctx context.Context) (round, bool) {
	var r round
	cpu0, err := cpuSeconds(s.o.pid)
	if err != nil && s.o.pid != "" {
		fmt.Fprintf(s.out, "# no CPU figures for pid %s: %v\n", s.o.pid, err)
	}
	self0, _ := cpuSeconds("self")
	var pg0 float64
	if s.o.pgPID != "" {
		pg0 = treeCPUSeconds(s.o.pgPID)
	}
	m0, rep0, pol0, t0 := busyCPUs(), s.reports.Load(), s.polls.Load(), time.Now()
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	for end := t0.Add(s.o.round); time.Now().Before(end); {
		if kb, err := rssKB(s.o.pid); err == nil {
			r.rssKB = max(r.rssKB, kb)
		}
		select {
		case <-ctx.Done():
			return r, false
		case <-tick.C:
		}
	}
	el := time.Since(t0).Seconds()
	if cpu1, err := cpuSeconds(s.o.pid); err == nil {
		r.cpu = (cpu1 - cpu0) / el
	}
	self1, _ := cpuSeconds("self")
	r.self = (self1 - self0) / el
	if s.o.pgPID != "" {
		r.pg = (treeCPUSeconds(s.o.pgPID) - pg0) / el
	}
	r.machine = (busyCPUs() - m0) / el
	r.reportsPS = float64(s.reports.Load()-rep0) / el
	r.pollsPS = float64(s.polls.Load()-pol0) / el
	lat := s.reportLat.take()
	r.reportP50, r.reportP99 = pct(lat, 50), pct(lat, 99)
	return r, true
}

// timeChanges makes -changes remote changes one at a time, each on a
// host picked at random, and times each to its applied report. It
// returns the sorted times to applied and to the wake-up, and how many
// failed.
func (s *sim) timeChanges(ctx context.Context, agents []*agent) (applied, wakes []time.Duration, failed int) {
	perm := rand.Perm(len(agents))
	for i := range s.o.changes {
		a := agents[perm[i%len(perm)]]
		t := s.track(a.name)
		low := 20000 + 2*i + rand.IntN(1000)*2
		if err := s.api.change(ctx, a.name, low, 60999, s.o.confirm); err != nil {
			s.untrack(a.name)
			failed++
			fmt.Fprintf(s.out, "# change %d: %v; its agent meanwhile: %s\n", i+1, err, strings.Join(t.log, "; "))
			if ctx.Err() != nil {
				break
			}
			continue
		}
		select {
		case d := <-t.done:
			if d < 0 {
				failed++
				fmt.Fprintf(s.out, "# change %d on %s: the agent refused it\n", i+1, a.name)
			} else {
				applied = append(applied, d)
				if d > time.Second {
					fmt.Fprintf(s.out, "# change %d on %s: applied after %.0f ms; its agent meanwhile: %s\n", i+1, a.name, ms(d), strings.Join(t.log, "; "))
				}
			}
		case <-time.After(agentapi.MaxWait + 10*time.Second):
			s.untrack(a.name)
			failed++
			fmt.Fprintf(s.out, "# change %d on %s: no applied report within %s\n", i+1, a.name, agentapi.MaxWait+10*time.Second)
		case <-ctx.Done():
			return nil, nil, failed
		}
		sleep(ctx, s.o.gap)
	}
	slices.Sort(applied)
	return applied, s.wakeLat.take(), failed
}
