package cli

import (
	"context"
	"errors"
	"log/slog"
	"time"

	"portpanel/change"
	"portpanel/db"
	"portpanel/webhook"
)

// auditCheckAfterStart is when the first full check of the audit chain
// runs: after the first requests, before an admin is likely to open the
// audit page (reading a million events takes seconds).
const auditCheckAfterStart = 5 * time.Second

// jobs are serve's background loops. Each keeps the first-run delay it
// had when it was a loop of its own: the deadline check runs at once (a
// deadline may have passed while portpanel was down), the samplers one
// interval after the samples serve took at start.
//
// Replicas of the control plane on one database run some jobs once across
// them (once: a lease per run, see runner) and others in every process:
//   - once: what changes shared rows and must happen one time: reverting
//     unconfirmed changes (two replicas would both start the revert; the
//     loser writes the kernel, then fails to record it and puts it back,
//     leaving a failed change in the history), sending webhooks (one sender
//     is enough; each delivery is claimed on its own too, so a second
//     sender, while a holder is stuck in slow POSTs, posts none twice),
//     syslog's reader (cli/serve_syslog.go) and the prunes (harmless twice,
//     but one is enough);
//   - everywhere: what reads this machine or keeps this process's memory:
//     sampling the range (read-only but for a change it sees, judged
//     against the same latest row wherever it runs), sampling usage (its
//     latest reading feeds this replica's dashboard and risk watch; each
//     replica stores its own rows), the drift and risk watch (db.Observe
//     decides a crossing in one transaction, so it is announced once), the
//     audit chain check (its result is this process's), the request log.
func jobs(cfg serveConfig, svc *change.Service, d *db.DB, hooks *webhook.Sender, log *slog.Logger, flushRequests func() error) []loop {
	keep := db.Retention{Raw: cfg.retainRaw, Hourly: cfg.retainHourly}
	return []loop{
		{name: "sample port range", first: cfg.sampleInterval, every: cfg.sampleInterval, run: func(ctx context.Context) error {
			sm, stored, err := svc.Sample(ctx, db.SourceSample)
			if err == nil && stored && sm.Source == db.SourceExternal {
				log.Warn("port range changed outside portpanel", "low", sm.Low, "high", sm.High)
			}
			return err
		}},
		{name: "revert unconfirmed changes", first: 0, every: time.Second, once: true, run: func(ctx context.Context) error {
			n, err := svc.RevertDue(ctx)
			if n > 0 {
				log.Warn("reverted unconfirmed changes", "count", n)
			}
			return err
		}},
		{name: "sample port usage", first: cfg.sampleInterval, every: cfg.sampleInterval, run: func(ctx context.Context) error {
			_, err := svc.SampleUsage(ctx)
			return err
		}},
		// After the samplers' first runs (their data are at most one
		// interval old at start): drift and risk crossings are audited
		// and announced by webhook once each.
		{name: "watch drift and exhaustion risk", first: 0, every: cfg.sampleInterval, run: func(ctx context.Context) error {
			_, err := svc.WatchDrift(ctx)
			_, rerr := svc.WatchRisk(ctx, cfg.riskWarning/100, cfg.riskCritical/100)
			return errors.Join(err, rerr)
		}},
		// Deliveries are committed with their events; this sends them
		// within a second, retries with backoff, and after a crash picks
		// up what was never sent.
		{name: "send webhooks", first: 0, every: time.Second, once: true, run: func(ctx context.Context) error {
			_, err := hooks.Run(ctx)
			return err
		}},
		{name: "prune usage history", first: time.Hour, every: time.Hour, once: true, run: func(ctx context.Context) error {
			now := svc.Now().UTC()
			_, err := d.PruneUsage(ctx, now, keep)
			// Listeners are remembered for a fixed week, whatever
			// --retain-raw says: the collision check reads that long.
			_, lerr := d.PruneListeners(ctx, now.Add(-change.ListenerMemory))
			return errors.Join(err, lerr)
		}},
		// Expired sessions are never used anyway; this only keeps the
		// table small, as scs's sqlite3store did.
		{name: "delete expired sessions", first: 5 * time.Minute, every: 5 * time.Minute, once: true, run: func(ctx context.Context) error {
			_, err := d.Sessions().DeleteExpiredSessions(ctx)
			return err
		}},
		// Counts idle for the limiter's hour start over anyway; this keeps
		// the table to the clients of the last hour.
		{name: "prune sign-in counts", first: 5 * time.Minute, every: 5 * time.Minute, once: true, run: func(ctx context.Context) error {
			now := svc.Now()
			_, err := d.PruneThrottle(ctx, now.Add(-throttleForget), now, throttleKeep)
			return err
		}},
		// Page views verify only the audit events added since the last
		// check; this re-checks the whole chain, so an edit of an old row
		// is found, the first time soon after start, so the first view of
		// the audit page does not wait for it.
		{name: "verify the audit log's hash chain", first: auditCheckAfterStart, every: time.Hour, run: func(ctx context.Context) error {
			_, err := d.VerifyAudit(ctx)
			return err
		}},
		// A crash loses at most this long of request lines, never an
		// audit event (those are in the database).
		{name: "flush the request log", first: requestLogFlush, every: requestLogFlush, run: func(context.Context) error {
			return flushRequests()
		}},
	}
}

const requestLogFlush = 200 * time.Millisecond

// throttleForget is the limiter's Forget, which serve leaves at its
// default; throttleKeep bounds the counts kept, ten times the memory
// store's default (rows are cheaper than a process's memory).
const (
	throttleForget = time.Hour
	throttleKeep   = 100_000
)
