// Package agent is `portpanel agent`: the process on each managed host
// that pulls its desired state from the control plane, applies it through
// the same change.Service pipeline as the panel (kernel write, read back,
// atomic file write, journal, crash recovery), and reports what it
// observes. It accepts only the typed operation of agentapi (set the range
// and reserved ports, roll back) and validates every value again against
// its own kernel. It imports change, sysctl, db and agentapi, never the
// control plane's packages; it logs only at its edge (Run).
package agent

import (
	"context"
	"crypto/ed25519"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"runtime/debug"
	"sync"
	"time"

	"portpanel/agentapi"
	"portpanel/change"
	"portpanel/db"
	"portpanel/sysctl"
	"portpanel/sysctl/usage"
)

// Config is what `portpanel agent` is started with.
type Config struct {
	Servers     []string
	CAFile      string
	EnrollToken string
	Name        string // asked for at enrollment; default the hostname
	ObserveOnly bool
	StateDir    string
	// Where the host's files are, as serve has them.
	ProcSys, ProcNet, SysctlFile, ConfigRoot, BootReader string
	// Poll is the report interval until the control plane states one.
	Poll time.Duration
	// RotateEvery is the age at which the host's key is replaced (0:
	// never).
	RotateEvery time.Duration
	// BackoffMin and BackoffMax bound the wait after a refusal (401) or
	// an unreachable control plane; jitter spreads a fleet's retries.
	BackoffMin, BackoffMax time.Duration
	Log                    *slog.Logger
}

// Version is the agent's version as reported to the control plane.
var Version = func() string {
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return "unknown"
	}
	v := bi.Main.Version
	for _, s := range bi.Settings {
		if s.Key == "vcs.revision" && len(s.Value) >= 12 && (v == "" || v == "(devel)") {
			v = "git-" + s.Value[:12]
		}
	}
	if v == "" {
		v = "(devel)"
	}
	return v
}()

// Agent is one running agent.
type Agent struct {
	cfg    Config
	log    *slog.Logger
	state  *State
	db     *db.DB
	svc    *change.Service
	client *Client
	key    ed25519.PrivateKey

	mu       sync.Mutex // guards acted and poll
	acted    Acted
	poll     time.Duration
	answered map[string]bool // preview ids answered, so a repeat is not computed twice
	wake     chan struct{}   // asks the reporter to report now
}

// New opens the state directory (making the key on first use) and the
// journal, and resolves any apply a crash interrupted before the agent
// talks to anyone.
func New(ctx context.Context, cfg Config) (*Agent, error) {
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.DiscardHandler)
	}
	if cfg.Poll <= 0 {
		cfg.Poll = 30 * time.Second
	}
	if cfg.BackoffMin <= 0 {
		cfg.BackoffMin = 5 * time.Second
	}
	if cfg.BackoffMax < cfg.BackoffMin {
		cfg.BackoffMax = max(5*time.Minute, cfg.BackoffMin)
	}
	st, key, err := openKeyed(cfg.StateDir)
	if err != nil {
		return nil, err
	}
	client, err := NewClient(cfg.Servers, cfg.CAFile)
	if err != nil {
		return nil, err
	}
	if _, enrolled, err := st.Enrollment(); err != nil || (!enrolled && cfg.EnrollToken == "") {
		if err == nil {
			err = notEnrolled(st.Dir)
		}
		return nil, err
	}
	acted, err := st.Acted()
	if err != nil {
		return nil, err
	}
	d, err := db.Open(ctx, st.JournalPath())
	if err != nil {
		return nil, err
	}
	conf := sysctl.Config{Root: cfg.ConfigRoot}
	reader := conf.DetectReader()
	if cfg.BootReader != "" && cfg.BootReader != "auto" {
		if reader, err = sysctl.ParseReader(cfg.BootReader); err != nil {
			d.Close()
			return nil, fmt.Errorf("--boot-reader %q: use auto, systemd or procps", cfg.BootReader)
		}
	}
	svc := &change.Service{Kernel: sysctl.Kernel{ProcSys: cfg.ProcSys}, Config: conf, Reader: reader, File: cfg.SysctlFile,
		DB: d, Now: time.Now, Sockets: usage.Reader{ProcNet: cfg.ProcNet}}
	a := &Agent{cfg: cfg, log: cfg.Log, state: st, db: d, svc: svc, client: client, key: key,
		acted: acted, poll: cfg.Poll, answered: map[string]bool{}, wake: make(chan struct{}, 1)}
	recovered, err := svc.Recover(ctx)
	if err != nil {
		d.Close()
		return nil, fmt.Errorf("recover interrupted changes: %w", err)
	}
	for _, c := range recovered {
		a.log.Warn("resolved a change interrupted by a crash", "change", c.ID, "generation", c.UserID, "status", c.Status, "error", c.Error)
	}
	return a, nil
}

// Close closes the journal.
func (a *Agent) Close() error { return a.db.Close() }

// Service is the agent's local change pipeline (for tests and the CLI).
func (a *Agent) Service() *change.Service { return a.svc }

// Run enrolls when it must, then polls, acts and reports until ctx ends.
// Only an enrollment that cannot succeed ends it early: a refused
// credential later never does (the key and the state stay, and the agent
// retries, backing off).
func (a *Agent) Run(ctx context.Context) error {
	var wg sync.WaitGroup
	bg, stop := context.WithCancel(ctx)
	defer func() { stop(); wg.Wait() }()
	// Deadlines are kept whatever the control plane does, also while an
	// enrollment waits for it to answer.
	wg.Go(func() { a.revertLoop(bg) })
	if err := a.enroll(ctx); err != nil {
		if ctx.Err() != nil {
			return nil // stopped while enrolling
		}
		return err
	}
	// A failed scan must not keep the agent from working: usage is advice.
	if _, err := a.svc.SampleUsage(ctx); err != nil {
		a.log.Error("sample port usage", "err", err)
	}
	wg.Go(func() { a.reportLoop(bg) })
	wg.Go(func() { a.sampleLoop(bg) })
	a.pollLoop(ctx)
	return nil
}

// pollLoop long-polls the desired state and acts on it.
func (a *Agent) pollLoop(ctx context.Context) {
	failures := 0
	for ctx.Err() == nil {
		a.rotateIfDue(ctx)
		a.mu.Lock()
		after := a.acted.Generation
		a.mu.Unlock()
		began := time.Now()
		d, err := a.client.Desired(ctx, after, agentapi.MaxWait)
		if ctx.Err() != nil {
			return
		}
		if err != nil {
			failures++
			wait := a.backoff(failures)
			if errors.Is(err, ErrUnauthorized) {
				a.log.Error("the control plane refused this host's credential: it was revoked or is unknown; the key and state are kept, and a new --enroll-token enrolls this host again",
					"host", a.client.host, "server", a.client.Current(), "retry_in", wait.Round(time.Second))
			} else {
				a.log.Warn("poll the desired state", "err", err, "retry_in", wait.Round(time.Second))
			}
			sleep(ctx, wait)
			continue
		}
		failures = 0
		did := a.handle(ctx, d)
		// An answer that brought nothing new, at once, must not become a
		// busy loop (a confirmation the control plane has not yet seen
		// reported, say).
		if !did && time.Since(began) < time.Second {
			sleep(ctx, time.Second)
		}
	}
}

// backoff is the wait after n failures in a row: doubling from BackoffMin
// to BackoffMax, each drawn between half and all of it, so a fleet that a
// revocation or an outage refused at once does not come back at once.
func (a *Agent) backoff(n int) time.Duration {
	d := a.cfg.BackoffMin
	for i := 1; i < n && d < a.cfg.BackoffMax; i++ {
		d *= 2
	}
	d = min(d, a.cfg.BackoffMax)
	return d/2 + rand.N(d/2+1)
}

func sleep(ctx context.Context, d time.Duration) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
	case <-t.C:
	}
}

// revertLoop reverts commit-confirmed changes whose deadline passed,
// whether or not the control plane can be reached: the deadline is in the
// journal, so one that passed while the agent was down is acted on at
// once.
func (a *Agent) revertLoop(ctx context.Context) {
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	for {
		n, err := a.svc.RevertDue(ctx)
		if err != nil && ctx.Err() == nil {
			a.log.Error("revert unconfirmed changes", "err", err)
		}
		if n > 0 {
			a.log.Warn("reverted unconfirmed changes: no confirmation came in time", "count", n)
			a.reportSoon()
		}
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
	}
}

// sampleLoop scans the sockets each poll interval, for the usage summary
// and the listeners in the range, and prunes the local history: the
// control plane keeps the host's history, the journal only what the
// hazard checks read.
func (a *Agent) sampleLoop(ctx context.Context) {
	for {
		sleep(ctx, a.pollInterval())
		if ctx.Err() != nil {
			return
		}
		if _, err := a.svc.SampleUsage(ctx); err != nil && ctx.Err() == nil {
			a.log.Error("sample port usage", "err", err)
		}
		now := time.Now().UTC()
		_, err := a.db.PruneUsage(ctx, now, db.Retention{Raw: 24 * time.Hour, Hourly: 24 * time.Hour})
		_, lerr := a.db.PruneListeners(ctx, now.Add(-change.ListenerMemory))
		if err := errors.Join(err, lerr); err != nil && ctx.Err() == nil {
			a.log.Error("prune local usage history", "err", err)
		}
	}
}

func (a *Agent) pollInterval() time.Duration {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.poll
}
