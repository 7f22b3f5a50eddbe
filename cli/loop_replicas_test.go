package cli

import (
	"context"
	"log/slog"
	"sync"
	"testing"
	"time"

	"portpanel/db"
	"portpanel/db/dbtest"
)

// run is one run of a job: which replica, when.
type run struct {
	who string
	at  time.Time
}

// runLog records runs at the time of their claim, which the lease spaces
// (the time the job itself sees wobbles with the claim's database write,
// an fsync on SQLite).
type runLog struct {
	mu      sync.Mutex
	runs    []run
	claimed map[string]time.Time // each replica's latest claim
}

// clock is replica who's clock: it notes when who last asked to claim.
func (l *runLog) clock(who string) func() time.Time {
	return func() time.Time {
		l.mu.Lock()
		defer l.mu.Unlock()
		now := time.Now()
		l.claimed[who] = now
		return now
	}
}

func (l *runLog) job(who string, every time.Duration) loop {
	return loop{name: "sweep", every: every, once: true, run: func(context.Context) error {
		l.mu.Lock()
		defer l.mu.Unlock()
		l.runs = append(l.runs, run{who, l.claimed[who]})
		return nil
	}}
}

func (l *runLog) since(t time.Time) []run {
	l.mu.Lock()
	defer l.mu.Unlock()
	var out []run
	for _, r := range l.runs {
		if !r.at.Before(t) {
			out = append(out, r)
		}
	}
	return out
}

// Two replicas on one database run a once job once per period between
// them; when the one running it stops, the other takes it over within a
// period. Without the lease each runs it every period: twice as often,
// half a period apart.
func TestOnceJobsRunOnceAcrossReplicas(t *testing.T) {
	dbtest.Each(t, testOnceJobsRunOnceAcrossReplicas)
}

func testOnceJobsRunOnceAcrossReplicas(t *testing.T, d *db.DB) {
	const every = 200 * time.Millisecond
	log := runLog{claimed: map[string]time.Time{}}
	quiet := slog.New(slog.DiscardHandler)
	replica := func(who string) (context.CancelFunc, *sync.WaitGroup) {
		r, err := newRunner(d, quiet)
		if err != nil {
			t.Fatal(err)
		}
		r.now = log.clock(who)
		ctx, cancel := context.WithCancel(context.Background())
		var wg sync.WaitGroup
		r.start(ctx, &wg, log.job(who, every))
		t.Cleanup(func() { cancel(); wg.Wait() })
		return cancel, &wg
	}
	stops := map[string]context.CancelFunc{}
	waits := map[string]*sync.WaitGroup{}
	stops["a"], waits["a"] = replica("a")
	time.Sleep(every / 2) // the other replica ticks half a period later
	stops["b"], waits["b"] = replica("b")

	start := time.Now()
	time.Sleep(10 * every)
	both := log.since(start)
	if n := len(both); n < 8 || n > 12 {
		t.Errorf("%d runs in 10 periods with two replicas, want about 10: %v", n, both)
	}
	if len(both) == 0 {
		t.Fatal("no run at all")
	}
	checkGaps(t, both, every)

	// Stop the replica that ran last; the other must run the job within a
	// period of its next due time.
	who := both[len(both)-1].who
	stops[who]()
	waits[who].Wait()
	stopped := time.Now()
	all := log.since(start)
	last := all[len(all)-1] // it may have run once more before it stopped
	time.Sleep(5 * every)
	after := log.since(stopped)
	if len(after) == 0 {
		t.Fatalf("no run in 5 periods after replica %s stopped", who)
	}
	for _, r := range after {
		if r.who == who {
			t.Fatalf("replica %s ran after it stopped", r.who)
		}
	}
	if late := after[0].at.Sub(last.at) - every; late > every+every/2 {
		t.Errorf("the other replica took over %v after the job was due, want within a period (%v)", late, every)
	}
	if n := len(after); n < 3 {
		t.Errorf("%d runs in the 5 periods after the takeover, want about 5", n)
	}
}

// checkGaps fails when two runs come closer than three quarters of a
// period: the job ran twice in one period. The replicas tick half a period
// apart, so a double run shows as a gap of about half a period; a loaded
// machine delays single runs by tens of milliseconds (a 10% slack failed
// at 179 ms of 200), which this slack absorbs without hiding a double run.
func checkGaps(t *testing.T, runs []run, every time.Duration) {
	t.Helper()
	for i := 1; i < len(runs); i++ {
		if gap := runs[i].at.Sub(runs[i-1].at); gap < every*3/4 {
			t.Errorf("runs %d (%s) and %d (%s) %v apart, within one period of %v", i, runs[i-1].who, i+1, runs[i].who, gap, every)
		}
	}
}

// countingLeases counts the claims that reach the database.
type countingLeases struct {
	leaser
	mu     sync.Mutex
	claims int
}

func (c *countingLeases) ClaimJob(ctx context.Context, claim db.JobClaim) (bool, error) {
	c.mu.Lock()
	c.claims++
	c.mu.Unlock()
	return c.leaser.ClaimJob(ctx, claim)
}

// A job run more often than the beat renews its lease once a beat, not at
// every run: an idle panel's once-a-second jobs do not commit every second.
func TestOnceJobsRenewOncePerBeat(t *testing.T) {
	d := dbtest.Open(t)
	leases := &countingLeases{leaser: d}
	r, err := newRunner(leases, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	r.beat = 500 * time.Millisecond
	log := runLog{claimed: map[string]time.Time{}}
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	r.start(ctx, &wg, log.job("a", 20*time.Millisecond))
	time.Sleep(time.Second)
	cancel()
	wg.Wait()
	runs := len(log.since(time.Time{}))
	if runs < 25 || leases.claims > 4 {
		t.Errorf("%d runs took %d claims in 1 s with a beat of 500 ms, want about 50 runs and 2 or 3 claims", runs, leases.claims)
	}
}
